/**
 * The JSON forms of a statement and a bundle: a round trip gives back the same proofs, and
 * decoding refuses anything but the canonical form, naming the field.
 */
import { describe, expect, it } from 'vitest';
import {
  buildSolvencyTree,
  bundleProblem,
  type InclusionBundle,
  statementDigest,
} from '../../src/solvency/index.js';
import {
  bundleFromJson,
  bundleToJson,
  SolvencyFormatError,
  statementFromJson,
  statementToJson,
} from '../../src/solvency/serialize.js';
import { BACKEND, ETH, SECRET, tableOf, units, USDC } from './helpers.js';

const table = tableOf([ETH, USDC]);
const built = buildSolvencyTree(
  'snap-serialize',
  table,
  [
    { accountId: 'alice/0', balances: new Map([units('ETH', 2, 18), units('USDC', -100, 6)]) },
    { accountId: 'bob/0', balances: new Map([units('USDC', 50, 6)]) },
  ],
  SECRET,
  BACKEND,
);
const statementJson = statementToJson(built.statement);
const bundle = built.bundles.get('alice/0') as InclusionBundle;

/** Through text and back, as a file would carry it. */
const viaText = (value: unknown) => JSON.parse(JSON.stringify(value)) as unknown;

describe('solvency serialization', () => {
  it('round-trips a statement: same JSON, same digest', () => {
    const back = statementFromJson(viaText(statementJson));
    expect(statementToJson(back)).toEqual(statementJson);
    expect(statementDigest(back)).toEqual(statementDigest(built.statement));
  });

  it('round-trips a bundle, which still verifies against the decoded statement', () => {
    const back = bundleFromJson(viaText(bundleToJson(bundle)));
    expect(bundleToJson(back)).toEqual(bundleToJson(bundle));
    const statement = statementFromJson(viaText(statementJson));
    expect(bundleProblem(statement, back, 'alice/0', BACKEND)).toBeNull();
  });

  it('refuses unknown fields, bad hex, non-canonical points and base64', () => {
    type Loose = Record<string | number, unknown>;
    const edit = (path: readonly (string | number)[], to: (old: unknown) => unknown) => {
      const json = viaText(statementJson) as Loose;
      let at = json;
      for (const key of path.slice(0, -1)) at = at[key] as Loose;
      const last = path[path.length - 1] as string | number;
      at[last] = to(at[last]);
      return () => statementFromJson(json);
    };
    expect(edit(['extra'], () => 1)).toThrow(/statement.extra: unknown field/);
    expect(edit(['root', 'hash'], () => 'AB')).toThrow(/statement.root.hash: 32 bytes/);
    expect(edit(['leaves', 0, 'equity', 0], () => 'ff'.repeat(32))).toThrow(
      /statement.leaves\[0\].equity\[0\]: not a canonical/,
    );
    expect(edit(['leaves', 0, 'surplusProof'], (p) => `${p as string}=`)).toThrow(
      /surplusProof: base64/,
    );
    expect(edit(['root', 'equityTotal', 0], () => '01')).toThrow(SolvencyFormatError);
    expect(() => bundleFromJson({ ...(viaText(bundleToJson(bundle)) as object), path: 3 })).toThrow(
      /bundle.path: an array expected/,
    );
  });
});
