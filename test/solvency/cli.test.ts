/**
 * `fulcrum prove` and `fulcrum verify-proof` on a small journal (three accounts, four
 * sub-accounts, two assets), run as the built program (`npm run build` first): the statement
 * and a bundle verify; a tampered statement, a bundle of another snapshot and hostile arguments
 * are refused in one line with a non-zero status.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as ProveModule from '../../src/cli/prove.js';

const root = join(import.meta.dirname, '..', '..');
const main = join(root, 'dist', 'cli', 'main.js');
const scratch = mkdtempSync(join(tmpdir(), 'fulcrum-prove-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const asset = (symbol: string, decimals: number, weight: string, price: string) =>
  JSON.stringify({
    type: 'list-asset',
    time: 1_700_000_000,
    config: {
      symbol,
      decimals,
      initialWeight: weight,
      maintenanceWeight: weight,
      liabilityWeight: '1',
      interest: { baseRate: '0', slope1: '0.05', slope2: '0.5', optimalUtilization: '0.9' },
      reserveFactor: '0.1',
    },
    price,
  });
const move = (type: string, time: number, account: string, symbol: string, amount: string) =>
  JSON.stringify({ type, time, account, asset: symbol, amount });

/** Records 1-5: two assets, lena and alice; 6-7: bob, with a second sub-account. */
const COMMANDS = [
  asset('USDC', 6, '0.85', '1'),
  asset('ETH', 18, '0.8', '2000'),
  move('deposit', 1_700_000_060, 'lena', 'USDC', '200000'),
  move('deposit', 1_700_000_120, 'alice', 'ETH', '10'),
  move('borrow', 1_700_000_180, 'alice', 'USDC', '5000.5'),
  move('deposit', 1_700_000_240, 'bob', 'ETH', '2.5'),
  JSON.stringify({
    type: 'transfer',
    time: 1_700_000_300,
    from: { account: 'bob', subAccount: 0 },
    to: { account: 'bob', subAccount: 1 },
    asset: 'ETH',
    amount: '1',
  }),
].join('\n');

function fulcrum(args: string[], input = '') {
  const result = spawnSync(process.execPath, [main, ...args], {
    cwd: scratch,
    input,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Exit status `status` and one line on standard error matching `pattern`, no stack trace. */
function expectRefused(result: ReturnType<typeof fulcrum>, status: number, pattern: RegExp) {
  expect(result.status, result.stderr).toBe(status);
  const lines = result.stderr.trim().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

const data = join(scratch, 'journal');
const out = join(scratch, 'proof');
const early = join(scratch, 'proof-at-5');
const secret = join(scratch, 'secret');

beforeAll(() => {
  expect(fulcrum(['run', '-', '--data', data], COMMANDS).status).toBe(0);
  writeFileSync(secret, new Uint8Array(32).fill(7));
  const proved = fulcrum(['prove', '--data', data, '--out', out, '--secret-file', secret]);
  expect(proved.status, proved.stderr).toBe(0);
  expect(proved.stdout).toMatch(/^proved: record 7, 4 sub-accounts of 3 accounts/);
  const before = fulcrum(['prove', '--data', data, '--at', '5', '--out', early]);
  expect(before.status, before.stderr).toBe(0);
  expect(before.stderr).toMatch(/warning: no --secret-file: a fresh prover secret is in/);
  expect(existsSync(`${early}.prover-secret`)).toBe(true);
}, 120_000);

describe('fulcrum prove and verify-proof', () => {
  it('writes a statement whose public audit passes', () => {
    const statement = JSON.parse(readFileSync(join(out, 'statement.json'), 'utf8'));
    expect(statement.journal.seq).toBe(7);
    // Interest accrues between the borrow and record 7: USDC's totals are a little above.
    expect(statement.totals).toEqual([
      {
        symbol: 'USDC',
        equity: expect.stringMatching(/^200000\.0000\d\d$/),
        debt: expect.stringMatching(/^5000\.500\d\d\d$/),
      },
      { symbol: 'ETH', equity: '12.5', debt: '0' },
    ]);
    const result = fulcrum(['verify-proof', '--statement', join(out, 'statement.json')]);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout.trim().split('\n')).toHaveLength(1);
    expect(result.stdout).toMatch(/^verified: all 4 leaves at or above maintenance/);
  }, 60_000);

  it('verifies an account bundle (two sub-accounts) against the statement', () => {
    const args = ['--statement', join(out, 'statement.json'), '--bundle'];
    const result = fulcrum(['verify-proof', ...args, join(out, 'bundles', 'bob.json')]);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^verified: account bob, 2 sub-account\(s\) included/);
  }, 60_000);

  it('refuses a statement with one proof byte changed', () => {
    const statement = JSON.parse(readFileSync(join(out, 'statement.json'), 'utf8'));
    const proof: string = statement.leaves[0].surplusProof;
    const at = proof.length >> 1;
    const swapped = proof[at] === 'A' ? 'B' : 'A';
    statement.leaves[0].surplusProof = proof.slice(0, at) + swapped + proof.slice(at + 1);
    const tampered = join(scratch, 'tampered.json');
    writeFileSync(tampered, JSON.stringify(statement));
    const result = fulcrum(['verify-proof', '--statement', tampered]);
    expectRefused(result, 1, /^fulcrum: not verified: leaf 0: leaf: surplus proof$/);
  }, 60_000);

  it('refuses a bundle of another snapshot', () => {
    const args = ['--statement', join(out, 'statement.json'), '--bundle'];
    const result = fulcrum(['verify-proof', ...args, join(early, 'bundles', 'alice.json')]);
    expectRefused(result, 1, /^fulcrum: not verified: alice\/0: bundle: from another snapshot$/);
  });

  it('refuses hostile arguments in one line', () => {
    expectRefused(fulcrum(['prove', '--out', join(scratch, 'x')]), 2, /needs --data DIR/);
    expectRefused(
      fulcrum(['prove', '--data', join(scratch, 'none'), '--out', join(scratch, 'y')]),
      1,
      /store_not_found/,
    );
    expectRefused(
      fulcrum(['prove', '--data', data, '--out', secret]),
      1,
      /--out .* names an existing file/,
    );
    expectRefused(fulcrum(['prove', '--data', data, '--out', out]), 1, /is not empty/);
    expectRefused(
      fulcrum(['prove', '--data', data, '--at', '99', '--out', join(scratch, 'z')]),
      1,
      /the journal holds 7 records; there is no record 99/,
    );
    const short = join(scratch, 'short-secret');
    writeFileSync(short, 'too short');
    expectRefused(
      fulcrum(['prove', '--data', data, '--out', join(scratch, 'w'), '--secret-file', short]),
      1,
      /--secret-file must hold 32 bytes to 1 MiB, not 9$/,
    );
    const args = ['--statement', join(out, 'statement.json'), '--bundle'];
    const missing = join(out, 'bundles', 'nobody.json');
    expectRefused(fulcrum(['verify-proof', ...args, missing]), 1, /cannot read .*nobody\.json/);
    expectRefused(fulcrum(['verify-proof']), 2, /needs --statement FILE/);
    expectRefused(fulcrum(['verify-proof', '--statement', secret]), 1, /invalid_json|not verified/);
  });

  it('proves with either backend on worker threads and audits on worker threads', async () => {
    const built = (path: string) => pathToFileURL(join(root, 'dist', 'cli', path)).href;
    const cli = (await import(built('prove.js'))) as typeof ProveModule;
    const reference = join(scratch, 'proof-reference');
    const options = { data, out: reference, secretFile: secret, at: undefined };
    const line = await cli.proveCommand(
      { ...options, backend: 'reference', workers: '2' },
      () => {},
    );
    expect(line).toMatch(/^proved: record 7, 4 sub-accounts of 3 accounts .* \(reference\)/);
    const statementFile = join(reference, 'statement.json');
    const json = JSON.parse(readFileSync(statementFile, 'utf8'));
    expect(json.backend).toBe('reference');
    const bulletproofs = JSON.parse(readFileSync(join(out, 'statement.json'), 'utf8'));
    expect(bulletproofs.backend).toBe('bulletproofs');
    // Same journal, same secret: the same totals and tree, other proofs, another digest.
    expect(json.totals).toEqual(bulletproofs.totals);
    expect(json.digest).not.toBe(bulletproofs.digest);
    for (const file of [statementFile, join(out, 'statement.json')])
      expect(
        await cli.verifyProofParallel({ statement: file, bundle: undefined, workers: '2' }),
      ).toMatch(/^verified: all 4 leaves at or above maintenance/);
    // One node's proof byte changed: found by a worker, reported as the one-thread audit does.
    const proof: string = bulletproofs.nodes[0][1].debtProofs[0];
    bulletproofs.nodes[0][1].debtProofs[0] = `${proof[0] === 'A' ? 'B' : 'A'}${proof.slice(1)}`;
    const tampered = join(scratch, 'tampered-node.json');
    writeFileSync(tampered, JSON.stringify(bulletproofs));
    const check = { statement: tampered, bundle: undefined };
    await expect(cli.verifyProofParallel({ ...check, workers: '2' })).rejects.toThrow(
      /^not verified: node 1\/1: USDC debt sum range proof$/,
    );
    expect(() => cli.verifyProofCommand(check)).toThrow(
      /^not verified: node 1\/1: USDC debt sum range proof$/,
    );
    await expect(cli.verifyProofParallel({ ...check, workers: '0' })).rejects.toThrow(/--workers/);
    await expect(
      cli.proveCommand({ ...options, out: join(scratch, 'never'), backend: 'snark' }, () => {}),
    ).rejects.toThrow(/--backend must be one of bulletproofs, reference, not "snark"/);
  }, 120_000);

  it('proves a derivatives venue with open positions; refuses it once a trader is below maintenance', () => {
    const perps = join(scratch, 'perps');
    const story = readFileSync(join(root, 'examples', 'perp-story.jsonl'), 'utf8');
    expect(fulcrum(['run', '-', '--data', perps], story).status).toBe(0);
    // Record 29: every trader holds positions, after a funding settlement; all healthy.
    const proof = join(scratch, 'perps-proof');
    const proved = fulcrum([
      'prove',
      '--data',
      perps,
      '--at',
      '29',
      '--out',
      proof,
      '--secret-file',
      secret,
    ]);
    expect(proved.status, proved.stderr).toBe(0);
    expect(proved.stdout).toMatch(/^proved: record 29, 8 sub-accounts of 7 accounts/);
    const statement = join(proof, 'statement.json');
    const bundle = JSON.parse(readFileSync(join(proof, 'bundles', 'ben.json'), 'utf8'));
    // Ben's perpetual: its requirement (Y) is committed, and opened to him.
    expect(BigInt(bundle.bundles[0].opening.extra[1])).toBeGreaterThan(0n);
    const args = ['verify-proof', '--statement', statement];
    expect(fulcrum(args).stdout).toMatch(/^verified: all 8 leaves/);
    expect(fulcrum([...args, '--bundle', join(proof, 'bundles', 'ben.json')]).stdout).toMatch(
      /^verified: account ben, 1 sub-account/,
    );
    // Record 31: the crash has taken ben and cat's isolated sub-account below maintenance: no
    // proof, and the first met is named.
    const result = fulcrum([
      'prove',
      '--data',
      perps,
      '--at',
      '31',
      '--out',
      join(scratch, 'p31'),
      '--secret-file',
      secret,
    ]);
    expectRefused(result, 1, /account (ben\/0|cat\/1): solvency: the account is below maintenance/);
    expect(existsSync(join(scratch, 'p31', 'statement.json'))).toBe(false);
  }, 120_000);
});
