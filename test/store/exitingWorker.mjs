// A follower that takes the state, then exits at the first segment: the snapshot follower
// test's stand-in for a thread that dies.
import { parentPort, workerData } from 'node:worker_threads';

parentPort.on('message', (message) => {
  if (message.kind === 'start')
    workerData.replies.postMessage({ kind: 'started', seq: message.seq });
  else process.exit(3);
});
