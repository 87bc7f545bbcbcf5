/**
 * Crash test: a child process applies commands under load and is killed with SIGKILL at random
 * moments, many times over the same data folder. After each kill, every command the child saw
 * acknowledged must be in the journal, and recovery (snapshot plus tail) must reach the same
 * state hash as a full replay of the journal.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { recordIntact, recover, SqliteStore } from '../../src/store/index.js';

const CHILD = join(import.meta.dirname, 'crashChild.mjs');
const ROUNDS = 24;

/** Runs the child until `killAfterMs` after it is ready, kills it, and returns what it printed. */
function runAndKill(dir: string, seed: number, killAfterMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, dir, String(seed)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (timer === undefined && out.includes('ready')) {
        timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(out);
      else reject(new Error(`child ended by itself (code ${code}): ${err}`));
    });
  });
}

describe('crash recovery under SIGKILL', () => {
  it(`loses no acknowledged command over ${ROUNDS} kills, balances and positions, and recovery equals a full replay`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fulcrum-crash-'));
    try {
      let acknowledged = 0;
      let fromSnapshot = 0;
      let fromEffects = 0;
      let previousHash: string | null = null;
      let openInterest = 0n;
      for (let round = 0; round < ROUNDS; round++) {
        // Kill times spread from "during recovery" to well into the load, in a fixed order.
        const killAfterMs = 5 + ((round * 37) % 11) * 25;
        const out = await runAndKill(dir, 1000 + round, killAfterMs);
        const ready = /ready (\d+) ([0-9a-f]{64})/.exec(out);
        expect(ready, `round ${round}: the child never recovered`).not.toBeNull();
        // The child recovered exactly what the previous round left.
        if (previousHash !== null) expect(ready?.[2]).toBe(previousHash);
        const acks = [...out.matchAll(/ack (\d+)/g)].map((m) => Number(m[1]));
        const maxAck = Math.max(0, ...acks);
        acknowledged += acks.length;

        const store = new SqliteStore(dir);
        try {
          const warnings: string[] = [];
          const recovered = await recover(store, { warn: (m) => warnings.push(m) });
          const full = await recover(store, { fullReplay: true, warn: (m) => warnings.push(m) });
          // The effects alone, from the empty state, reach the same state as the commands.
          const effects = await recover(store, { snapshots: false, warn: (m) => warnings.push(m) });
          expect(recovered.report.seq, `round ${round}`).toBeGreaterThanOrEqual(maxAck);
          expect(recovered.report.stateHash, `round ${round}`).toBe(full.report.stateHash);
          expect(effects.report.stateHash, `round ${round}`).toBe(full.report.stateHash);
          fromEffects += effects.report.fromEffects;
          const records = await store.readRecords(0, maxAck);
          expect(records).toHaveLength(maxAck);
          expect(records.every(recordIntact)).toBe(true);
          previousHash = recovered.report.stateHash;
          const perp = recovered.state.instruments[0];
          if (perp !== undefined) openInterest = perp.openInterest;
          if (recovered.report.snapshotSeq !== null) fromSnapshot++;
        } finally {
          await store.close();
        }
      }
      // The kills really came under load, and recovery really started from snapshots.
      expect(acknowledged).toBeGreaterThan(2_000);
      expect(fromSnapshot).toBeGreaterThan(ROUNDS / 2);
      expect(fromEffects).toBeGreaterThan(acknowledged / 2);
      // Positions were open in the one journal, beside the balances, when the kills came.
      expect(openInterest).toBeGreaterThan(0n);
      process.stderr.write(
        `crash test: ${acknowledged} acknowledgements over ${ROUNDS} kills, ${fromSnapshot} recoveries from a snapshot, ${fromEffects} records applied from effects\n`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
