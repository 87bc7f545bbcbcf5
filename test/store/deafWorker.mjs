// A follower that takes every message and never answers, not even that it holds the state: the
// snapshot follower test's stand-in for a thread that does not start in time.
import { parentPort } from 'node:worker_threads';

parentPort.on('message', () => undefined);
