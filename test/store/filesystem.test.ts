/**
 * The data folder going bad under the command line: made read-only, or its disk filling up.
 * Either way the program says so in one line and exits non-zero, and everything acknowledged
 * before stays in the journal. As root (which ignores permissions) both cases mount a small
 * tmpfs: remounted read-only, or filled up; where mounting is not allowed they are skipped,
 * saying why.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SQLITE_FILE_NAME } from '../../src/store/sqliteStore.js';
import { fourRecords, writeOldFile } from './sqliteRecords.js';

const root = join(import.meta.dirname, '..', '..');
const main = join(root, 'dist', 'cli', 'main.js');
const isRoot = process.getuid?.() === 0;

const listing = (symbol: string, decimals: number, price: string) =>
  JSON.stringify({
    type: 'list-asset',
    time: 1,
    price,
    config: { symbol, decimals, initialWeight: '0.8', maintenanceWeight: '0.85' },
  });
const deposit = (account: string, amount: string, time: number) =>
  JSON.stringify({ type: 'deposit', time, account, asset: 'USDC', amount });

/** Runs `fulcrum`, feeding `input`. */
function fulcrum(args: string[], input: string) {
  const result = spawnSync(process.execPath, [main, ...args], { input, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A run refused because the data folder is read-only: exit 1, one line saying so. */
function expectReadOnlyRefusal(refused: ReturnType<typeof fulcrum>): void {
  expect(refused.status, refused.stdout).toBe(1);
  const lines = refused.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(
    /^fulcrum: error store_(read_only|unavailable): .*(read-only|cannot be opened)/,
  );
}

/** A reader refused a file of schema 2 in one line, saying how to upgrade it. */
function expectOldSchemaRefusal(refused: ReturnType<typeof fulcrum>): void {
  expect(refused.status, refused.stdout).toBe(1);
  expect(refused.stderr.trim().split('\n')).toHaveLength(1);
  expect(refused.stderr).toMatch(
    /^fulcrum: error store_unavailable: .* has schema 2, and a reader changes nothing: open it once for writing/,
  );
}

/** `fulcrum verify` passes on `dir`, a journal of `records` records. */
function expectVerified(dir: string, records: number): void {
  const verified = fulcrum(['verify', '--data', dir], '');
  expect(verified.status, verified.stderr).toBe(0);
  expect(verified.stdout).toMatch(new RegExp(`journal: ${records} records`));
  expect(verified.stdout).toMatch(/ok: the hashes agree/);
}

/** Takes write access away from the data folder (or gives it back). */
function makeReadOnly(dir: string, readOnly: boolean): void {
  if (isRoot) {
    execFileSync('mount', ['-o', `remount,${readOnly ? 'ro' : 'rw'}`, dir]);
    return;
  }
  chmodSync(dir, readOnly ? 0o555 : 0o755);
  for (const file of readdirSync(dir)) chmodSync(join(dir, file), readOnly ? 0o444 : 0o644);
}

const scratch = mkdtempSync(join(tmpdir(), 'fulcrum-fs-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const mountable = isRoot && canMount();

describe('a data folder that goes bad', () => {
  // Root ignores file permissions, so as root a read-only filesystem is used: a tmpfs remounted
  // read-only. Anyone else gets a folder without write permission.
  const readOnlyTestable = !isRoot || mountable;
  it.skipIf(!readOnlyTestable)(
    `read-only: refused in one line, nothing acknowledged is lost${readOnlyTestable ? '' : ' (skipped: root, and mounting is not allowed here)'}`,
    () => {
      const dir = join(scratch, 'readonly');
      mkdirSync(dir);
      if (isRoot) execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', dir]);
      try {
        const first = [
          listing('USDC', 6, '1'),
          deposit('alice', '100', 2),
          deposit('bob', '50', 3),
        ].join('\n');
        const ok = fulcrum(['run', '-', '--data', dir], first);
        expect(ok.status, ok.stderr).toBe(0);
        expect(ok.stdout).toMatch(/journal: 3 records, all durable/);

        makeReadOnly(dir, true);
        expectReadOnlyRefusal(fulcrum(['run', '-', '--data', dir], deposit('carol', '1', 4)));

        makeReadOnly(dir, false);
        expectVerified(dir, 3);
      } finally {
        if (isRoot) execFileSync('umount', [dir]);
      }
    },
  );

  it.skipIf(!readOnlyTestable)(
    `read-only, a journal of an earlier schema: refused in one line, the file left as it was${readOnlyTestable ? '' : ' (skipped: root, and mounting is not allowed here)'}`,
    async () => {
      const dir = join(scratch, 'readonly-old');
      mkdirSync(dir);
      const source = join(scratch, 'readonly-old-source');
      const records = await fourRecords(source);
      if (isRoot) execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', dir]);
      try {
        writeOldFile(dir, 2, records);
        const file = join(dir, SQLITE_FILE_NAME);
        const before = readFileSync(file);

        // Opening it would upgrade it, which cannot be done here: refused, and nothing written.
        // A reader upgrades nothing, here or anywhere: it says how to upgrade.
        makeReadOnly(dir, true);
        expectReadOnlyRefusal(fulcrum(['run', '-', '--data', dir], deposit('carol', '1', 4)));
        expectOldSchemaRefusal(fulcrum(['verify', '--data', dir], ''));
        expect(readFileSync(file).equals(before)).toBe(true);
        expect(readdirSync(dir)).toEqual([SQLITE_FILE_NAME]);

        // Writable again, a reader still changes nothing; a writer upgrades it, and every
        // record is there.
        makeReadOnly(dir, false);
        expectOldSchemaRefusal(fulcrum(['verify', '--data', dir], ''));
        expect(readFileSync(file).equals(before)).toBe(true);
        expect(fulcrum(['run', '-', '--data', dir], '').status).toBe(0);
        expectVerified(dir, 4);
      } finally {
        if (isRoot) execFileSync('umount', [dir]);
      }
    },
  );

  it.skipIf(!mountable)(
    `full disk: refused in one line, nothing acknowledged is lost${mountable ? '' : ' (skipped: mounting a tmpfs is not allowed here)'}`,
    () => {
      const dir = join(scratch, 'full');
      mkdirSync(dir);
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=192k', 'tmpfs', dir]);
      try {
        const first = [listing('USDC', 6, '1'), deposit('alice', '100', 2)].join('\n');
        expect(fulcrum(['run', '-', '--data', dir], first).status).toBe(0);
        const many = Array.from({ length: 5_000 }, (_, i) =>
          deposit(`acct-${i}`, '1', 10 + i),
        ).join('\n');
        const full = fulcrum(['run', '-', '--data', dir], many);
        expect(full.status).toBe(1);
        expect(full.stderr.trim().split('\n')).toHaveLength(1);
        expect(full.stderr).toMatch(/^fulcrum: error store_full: .*disk is full/);

        execFileSync('mount', ['-o', 'remount,size=16m', dir]);
        expectVerified(dir, 2);
      } finally {
        execFileSync('umount', [dir]);
      }
    },
  );
});

function canMount(): boolean {
  const probe = join(scratch, 'probe');
  mkdirSync(probe, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe], { stdio: 'ignore' });
    execFileSync('umount', [probe], { stdio: 'ignore' });
    return true;
  } catch {
    process.stderr.write(
      'full-disk test skipped: mounting a tmpfs is not allowed on this machine\n',
    );
    return false;
  } finally {
    writeFileSync(join(scratch, '.probed'), '');
  }
}
