// A follower that takes the state and then every segment without ever answering: the snapshot
// follower test's stand-in for a follower stuck behind a long snapshot.
import { parentPort, workerData } from 'node:worker_threads';

parentPort.on('message', (message) => {
  if (message.kind === 'start')
    workerData.replies.postMessage({ kind: 'started', seq: message.seq });
});
