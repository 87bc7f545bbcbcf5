/**
 * The trader's proof-of-solvency panel: fetches the venue's published statement root
 * (`GET /v1/solvency/statement`) and the key's accounts' inclusion bundles
 * (`GET /v1/solvency/accounts/:account`), and verifies every bundle here, in the browser, with
 * the same verifier as `fulcrum verify-proof --bundle` (`src/solvency/verifier.ts`, pure
 * JavaScript on `@noble/curves`): each sub-account is in the tree, at or above maintenance, and
 * every sibling sum on its path is non-negative, up to the root whose digest the venue signs.
 * The time the check took is shown: it is the user's verify time in a browser.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
// The one verifier, shared on purpose: the browser checks a bundle exactly as `fulcrum
// verify-proof` does. These modules import no engine code and nothing Node-only.
import { bundleFromJson, publicRootFromJson } from '../../src/solvency/serialize.js';
import { statementDigest } from '../../src/solvency/tree.js';
import { bundleProblem } from '../../src/solvency/verifier.js';
import { api, ApiError, describeError, type Session } from './api.js';
import { fill, h, panel } from './dom.js';

/** The fields the service serves beside the root. */
const ROOT_EXTRA = ['digest', 'journal', 'totals', 'venueAccounts'];

interface AccountFile {
  format: string;
  account: string;
  digest: string;
  bundles: unknown[];
}

/** One line per checked sub-account, and the verdict; throws on a refusal of the service. */
async function verifyAccounts(accounts: readonly string[]): Promise<{
  lines: string[];
  ok: boolean;
  digest: string;
  ms: number;
}> {
  const served = await api<Record<string, unknown>>('/v1/solvency/statement');
  const files: AccountFile[] = [];
  for (const account of accounts) {
    try {
      files.push(await api<AccountFile>(`/v1/solvency/accounts/${encodeURIComponent(account)}`));
    } catch (error) {
      // An account the proof does not hold (it held nothing then) has no bundle.
      if (!(error instanceof ApiError && error.status === 404)) throw error;
    }
  }
  const started = performance.now();
  const root = publicRootFromJson(served, ROOT_EXTRA);
  const digest = bytesToHex(statementDigest(root));
  const lines: string[] = [];
  let ok = digest === served.digest;
  if (!ok) lines.push('The served digest is not the statement’s.');
  for (const file of files) {
    if (file.digest !== digest) {
      ok = false;
      lines.push(`${file.account}: the bundle names another statement.`);
      continue;
    }
    for (const json of file.bundles) {
      const bundle = bundleFromJson(json);
      const problem = bundleProblem(root, bundle, bundle.accountId);
      if (problem !== null) ok = false;
      lines.push(
        problem === null
          ? `${bundle.accountId}: included, at or above maintenance.`
          : `${bundle.accountId}: not verified: ${problem}`,
      );
    }
  }
  if (files.length === 0) lines.push('No bundle: this key’s accounts are not in the proof.');
  return { lines, ok: ok && files.length > 0, digest, ms: performance.now() - started };
}

/** The panel: a button that runs the check, and its result. */
export function solvencyPanel(session: Session): HTMLElement {
  const result = h('div', { id: 'solvency-result', 'aria-live': 'polite' });
  const button = h('button', { type: 'button', id: 'solvency-verify' }, 'Verify my inclusion');
  const accounts = [...new Set(session.subAccounts.map((r) => r.account))];
  button.addEventListener('click', () => {
    button.disabled = true;
    fill(result, h('p', { class: 'muted' }, 'Checking the proofs in this browser…'));
    // Let the message paint before the check takes the thread.
    setTimeout(() => {
      verifyAccounts(accounts)
        .then(({ lines, ok, digest, ms }) =>
          fill(
            result,
            h(
              'p',
              {
                class: ok ? 'ok' : 'danger',
                'data-verified': String(ok),
                'data-ms': ms.toFixed(0),
              },
              ok ? `Verified in this browser in ${(ms / 1000).toFixed(2)} s.` : 'Not verified.',
            ),
            h('ul', {}, ...lines.map((line) => h('li', {}, line))),
            h(
              'p',
              { class: 'muted' },
              `Statement digest ${digest}: compare it with the one the venue signed.`,
            ),
          ),
        )
        .catch((error: unknown) =>
          fill(result, h('p', { class: 'error', role: 'alert' }, describeError(error))),
        )
        .finally(() => (button.disabled = false));
    }, 20);
  });
  return panel(
    'solvency',
    'Proof of solvency',
    h(
      'p',
      { class: 'muted' },
      'The venue publishes a proof that every account is at or above maintenance and what it owes in each asset, without showing any balance. Check that yours is in it.',
    ),
    button,
    result,
  );
}
