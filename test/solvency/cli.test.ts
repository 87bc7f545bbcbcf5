/**
 * `fulcrum prove` and `fulcrum verify-proof` on a small journal (three accounts, four
 * sub-accounts, two assets), run as the built program (`npm run build` first): the statement
 * and a bundle verify; a tampered statement, a bundle of another snapshot and hostile arguments
 * are refused in one line with a non-zero status.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
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

/**
 * Exit status `status` and one line on standard error matching `pattern` (beside progress), no
 * stack trace.
 */
function expectRefused(result: ReturnType<typeof fulcrum>, status: number, pattern: RegExp) {
  expect(result.status, result.stderr).toBe(status);
  // Progress lines (every two seconds on a slow run) aside.
  const lines = result.stderr
    .trim()
    .split('\n')
    .filter((line) => !/^fulcrum: (proving|verifying): /.test(line));
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

/** The parts of a shard file and of a manifest the tests change. */
interface ShardFile {
  snapshotId: string;
  leaves: { surplusProof: string }[];
  nodes: { debtProofs: string[] }[][];
}
interface ManifestFile {
  layout: string;
  shardDepth: number;
  top: unknown[][];
  shards: { sha256: string; hash: string }[];
}
const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;
const shardPath = (folder: string, index: number) =>
  join(folder, 'shards', `${String(index).padStart(6, '0')}.json`);

/** A copy of a proof folder with shard `index` rewritten by `change`, the manifest's SHA-256 too. */
function withShard(
  folder: string,
  name: string,
  index: number,
  change: (shard: ShardFile) => ShardFile | void,
) {
  const copy = join(scratch, name);
  cpSync(folder, copy, { recursive: true });
  const shard = readJson<ShardFile>(shardPath(copy, index));
  const bytes = `${JSON.stringify(change(shard) ?? shard)}\n`;
  writeFileSync(shardPath(copy, index), bytes);
  const manifest = readJson<ManifestFile>(join(copy, 'statement.json'));
  (manifest.shards[index] as { sha256: string }).sha256 = createHash('sha256')
    .update(bytes)
    .digest('hex');
  writeFileSync(join(copy, 'statement.json'), JSON.stringify(manifest));
  return join(copy, 'statement.json');
}

/** One base64 character of a proof changed. */
const flipped = (proof: string) => {
  const at = proof.length >> 1;
  return proof.slice(0, at) + (proof[at] === 'A' ? 'B' : 'A') + proof.slice(at + 1);
};

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

  it('refuses a statement with one proof byte changed (its shard file re-hashed)', () => {
    const tampered = withShard(out, 'tampered', 0, (shard) => {
      const leaf = shard.leaves[0] as { surplusProof: string };
      leaf.surplusProof = flipped(leaf.surplusProof);
    });
    const result = fulcrum(['verify-proof', '--statement', tampered]);
    expectRefused(result, 1, /^fulcrum: not verified: leaf 0: leaf: surplus proof$/);
  }, 60_000);

  it('still reads a statement in one file (its leaves and nodes inline)', () => {
    const manifest = readJson<ManifestFile>(join(out, 'statement.json'));
    const shard = readJson<ShardFile>(shardPath(out, 0));
    expect(manifest.shards).toHaveLength(1);
    const { layout, shardDepth, top, shards, ...rest } = manifest;
    expect([layout, shardDepth, top, shards.length]).toEqual([
      'fulcrum-solvency-shards/1',
      2,
      [],
      1,
    ]);
    const single = { ...rest, leaves: shard.leaves, nodes: shard.nodes };
    const file = join(scratch, 'single.json');
    writeFileSync(file, JSON.stringify(single));
    expect(fulcrum(['verify-proof', '--statement', file]).stdout).toMatch(
      /^verified: all 4 leaves/,
    );
    const leaf = single.leaves[1] as { surplusProof: string };
    leaf.surplusProof = flipped(leaf.surplusProof);
    writeFileSync(file, JSON.stringify(single));
    const result = fulcrum(['verify-proof', '--statement', file]);
    expectRefused(result, 1, /^fulcrum: not verified: leaf 1: leaf: surplus proof$/);
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
    const tampered = withShard(out, 'tampered-node', 0, (shard) => {
      const node = (shard.nodes[0] as { debtProofs: string[] }[])[1] as { debtProofs: string[] };
      const proof = node.debtProofs[0] as string;
      node.debtProofs[0] = `${proof[0] === 'A' ? 'B' : 'A'}${proof.slice(1)}`;
    });
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

describe('sharded statements', () => {
  const built = (path: string) => pathToFileURL(join(root, 'dist', 'cli', path)).href;
  const sharded = join(scratch, 'proof-sharded');
  const other = join(scratch, 'proof-sharded-at-6');
  let cli: typeof ProveModule;
  const audit = async (statement: string) => {
    const check = { statement, bundle: undefined };
    const parallel = cli.verifyProofParallel({ ...check, workers: '2' });
    const here = (() => {
      try {
        return cli.verifyProofCommand(check);
      } catch (error) {
        return (error as Error).message;
      }
    })();
    const there = await parallel.catch((error: Error) => error.message);
    expect(there).toBe(here);
    return here;
  };

  beforeAll(async () => {
    cli = (await import(built('prove.js'))) as typeof ProveModule;
    const options = { data, secretFile: secret, workers: '2', shardDepth: '1' };
    const line = await cli.proveCommand({ ...options, at: undefined, out: sharded }, () => {});
    expect(line).toMatch(/4 leaves in 2 shard\(s\)/);
    await cli.proveCommand({ ...options, at: '6', out: other }, () => {});
  }, 120_000);

  it('splits the tree across shard files; audits them on worker threads and in one thread', async () => {
    expect(readdirSync(join(sharded, 'shards')).sort()).toEqual(['000000.json', '000001.json']);
    const manifest = readJson<ManifestFile & { digest: string }>(join(sharded, 'statement.json'));
    expect(manifest.shardDepth).toBe(1);
    expect(manifest.top.map((row) => row.length)).toEqual([2]);
    for (const index of [0, 1]) {
      const shard = readJson<ShardFile>(shardPath(sharded, index));
      expect([shard.leaves.length, shard.nodes.length]).toEqual([2, 0]);
    }
    // The same journal and secret as the one-shard proof: the same tree, cut elsewhere.
    expect(manifest.digest).toBe(readJson<{ digest: string }>(join(out, 'statement.json')).digest);
    expect(await audit(join(sharded, 'statement.json'))).toMatch(
      /^verified: all 4 leaves at or above maintenance/,
    );
    const bundle = { statement: join(sharded, 'statement.json') };
    expect(
      cli.verifyProofCommand({ ...bundle, bundle: join(sharded, 'bundles', 'bob.json') }),
    ).toMatch(/^verified: account bob, 2 sub-account\(s\) included/);
  }, 120_000);

  it('refuses a tampered shard file, a missing one, one of another snapshot or place', async () => {
    const copy = (name: string) => {
      const folder = join(scratch, name);
      cpSync(sharded, folder, { recursive: true });
      return folder;
    };
    const tampered = copy('sharded-tampered');
    const text = readFileSync(shardPath(tampered, 1), 'utf8');
    writeFileSync(shardPath(tampered, 1), text.replace('"index": 1', '"index":  1'));
    expect(await audit(join(tampered, 'statement.json'))).toBe(
      "not verified: shard 1: the file differs from the manifest's SHA-256",
    );
    const missing = copy('sharded-missing');
    rmSync(shardPath(missing, 1));
    expect(await audit(join(missing, 'statement.json'))).toBe(
      'not verified: shard 1: cannot read shards/000001.json (ENOENT)',
    );
    const foreign = withShard(sharded, 'sharded-foreign', 0, () =>
      readJson<ShardFile>(shardPath(other, 0)),
    );
    expect(await audit(foreign)).toBe('not verified: shard 0: from another snapshot');
    const swapped = withShard(sharded, 'sharded-swapped', 0, () =>
      readJson<ShardFile>(shardPath(sharded, 1)),
    );
    expect(await audit(swapped)).toBe('not verified: shard 0: holds shard 1');
    const moved = withShard(sharded, 'sharded-moved', 1, (shard) => {
      shard.leaves.reverse();
    });
    expect(await audit(moved)).toBe(
      "not verified: shard 1: its root's hash differs from the manifest's",
    );
  }, 120_000);
});
