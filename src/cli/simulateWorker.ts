/**
 * A worker thread of `fulcrum simulate`: rebuilds the run's input from the plan (the same files
 * and options give the same input), runs one policy, posts progress and the result.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { selectPolicies } from '../sim/policies.js';
import { simulate } from '../sim/simulator.js';
import { inputOf, type Plan } from './simulate.js';

const { plan, policy } = workerData as { plan: Plan; policy: string };
const { input } = inputOf(plan);
const [chosen] = selectPolicies([policy]);
if (chosen === undefined) throw new Error(`no policy ${policy}`);
const started = performance.now();
const run = simulate(input, chosen, (done, total) =>
  parentPort?.postMessage({ progress: [done, total] }),
);
parentPort?.postMessage({ run: { ...run, wallMs: performance.now() - started } });
