/**
 * Making a folder (a data folder, a report folder) and its missing parents, in a bounded number
 * of steps. Node's `mkdirSync(dir, { recursive: true })` takes ENOENT to mean "the parent is
 * missing", makes the parent (EEXIST) and tries again: under a parent that exists but cannot
 * hold the child (a path in `/proc`, below a dangling symbolic link) it never stops. Here the
 * walk up stops at the first thing that exists, each missing folder is made once, from the
 * outermost in, and the first failure is thrown, saying where and why.
 */
import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

/** Why a folder could not be made, and at which path of the walk. */
export class FolderError extends Error {
  override readonly name = 'FolderError';

  constructor(
    /** The path at fault: the folder asked for or one of its parents. */
    readonly at: string,
    readonly reason: 'not-a-folder' | 'unreachable' | 'cannot-create',
    /** The system's code (ENOTDIR for something that is not a folder). */
    readonly code: string,
  ) {
    super(
      reason === 'not-a-folder'
        ? `${at} is not a folder (${code})`
        : `cannot ${reason === 'unreachable' ? 'reach' : 'create'} ${at} (${code})`,
    );
  }
}

/** Most missing folders made at once: a bound on the walk, far above any real path. */
const DEPTH_MAX = 256;

/**
 * Makes `dir` and any missing parents; throws a {@link FolderError} at the first failure
 * (never loops). A folder that is already there is left as it is.
 */
export function makeFolder(dir: string): void {
  const missing: string[] = [];
  for (let at = dir; ;) {
    const kind = kindOf(at);
    if (kind.kind === 'folder') break;
    if (kind.kind === 'other') throw new FolderError(at, 'not-a-folder', 'ENOTDIR');
    if (kind.kind === 'unreachable') throw new FolderError(at, 'unreachable', kind.code);
    missing.push(at);
    const parent = dirname(at);
    if (parent === at || missing.length > DEPTH_MAX) {
      throw new FolderError(at, 'cannot-create', 'ENOENT');
    }
    at = parent;
  }
  for (const folder of missing.reverse()) {
    try {
      mkdirSync(folder);
    } catch (error) {
      const code = errorCode(error);
      // Made meanwhile by someone else is fine. A name that exists without leading to a folder
      // (a dangling symbolic link) is not a folder; anything else cannot be created.
      if (code !== 'EEXIST') throw new FolderError(folder, 'cannot-create', code);
      if (kindOf(folder).kind !== 'folder')
        throw new FolderError(folder, 'not-a-folder', 'ENOTDIR');
    }
  }
}

function errorCode(error: unknown): string {
  return error instanceof Error && 'code' in error ? String(error.code) : 'failed';
}

/** What is at `path`: a folder, something else, nothing, or a place that cannot be looked at. */
function kindOf(path: string): {
  kind: 'folder' | 'other' | 'missing' | 'unreachable';
  code: string;
} {
  try {
    return { kind: statSync(path).isDirectory() ? 'folder' : 'other', code: '' };
  } catch (error) {
    const code = errorCode(error);
    // ENOTDIR: a parent is a file, which the walk up finds and names.
    if (code === 'ENOENT' || code === 'ENOTDIR') return { kind: 'missing', code };
    return { kind: 'unreachable', code };
  }
}
