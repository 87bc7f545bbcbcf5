/**
 * `fulcrum serve` as a child process of the tests (`serve --replicate ...`), bundled by
 * `helpers.ts` and run with node: the arguments after the script are serve's.
 */
import { serveCommand } from '../../src/server/serve.js';

process.exitCode = await serveCommand(process.argv.slice(2));
// Timers of the NATS client may linger: the status is final.
process.exit();
