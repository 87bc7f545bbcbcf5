/**
 * The replica process of the tests: `fulcrum replica run`'s arguments, plus one test-only
 * fault: with FULCRUM_TEST_DIVERGE_AT=SEQ, after applying log entry SEQ this replica applies one
 * deposit no other replica applies (a nondeterministic handler, simulated), so its state hash
 * differs at the next checkpoint. Bundled by `helpers.ts` and run with node.
 */
import { parseReplicaRun, runReplicaNode } from '../../src/cli/replica.js';

const divergeAt = Number(process.env.FULCRUM_TEST_DIVERGE_AT ?? 0);
const options = parseReplicaRun(process.argv.slice(3));
const code = await runReplicaNode(options, {
  afterEntry: (result, engine) => {
    if (divergeAt > 0 && result.seq === divergeAt) {
      engine.applyJson({
        type: 'deposit',
        time: engine.state.time,
        account: 'ghost',
        asset: 'USDC',
        amount: '1',
      });
    }
  },
});
process.exit(code);
