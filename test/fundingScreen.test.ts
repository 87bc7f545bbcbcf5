/**
 * The float screen of margin checks (`Draft.meets`, `HealthSnapshot.meets`) decides only far
 * from the threshold; its error must stay within its band whatever the funding history. What a
 * position owes is the difference of two cumulative funding indices: after years of funding at
 * the clamp on an asset that then collapses, both indices are huge and close, and subtracting
 * them as floats once lost all of what was owed, so that a withdrawal leaving a sub-account
 * below initial margin was accepted (and, the sides swapped, a valid one refused).
 */
import { describe, expect, it } from 'vitest';
import { Draft } from '../src/engine/draft.js';
import { Engine, type Tier } from '../src/index.js';

const YEAR = 366 * 86_400 - 60;
const ref = { account: 'alice', subAccount: 0 };

function apply(engine: Engine, command: Record<string, unknown>): void {
  const result = engine.applyJson(command);
  if (!result.ok) throw new Error(`${String(command.type)}: ${result.error.message}`);
}

/** A perpetual whose funding index grew for three years, on a token that then fell 10^8-fold. */
function collapsedVenue(): { engine: Engine; time: number } {
  const engine = new Engine();
  let time = 1000;
  apply(engine, {
    type: 'list-asset',
    time,
    price: '1',
    config: { symbol: 'USDC', decimals: 6, initialWeight: '0.9', maintenanceWeight: '0.95' },
  });
  apply(engine, {
    type: 'list-asset',
    time,
    price: '1000000',
    config: { symbol: 'TOK', decimals: 18, initialWeight: '0.5', maintenanceWeight: '0.6' },
  });
  apply(engine, {
    type: 'list-instrument',
    time,
    price: '1100000',
    config: {
      kind: 'perpetual',
      symbol: 'TOK-PERP',
      underlying: 'TOK',
      initialMargin: '0.1',
      maintenanceMargin: '0.05',
      fundingIntervalSeconds: '60',
      fundingClamp: '0.1',
    },
  });
  for (let year = 0; year < 3; year++) {
    time += YEAR;
    apply(engine, { type: 'settle-funding', time, instrument: 'TOK-PERP' });
  }
  time += 60;
  apply(engine, { type: 'set-price', time, asset: 'TOK', price: '0.01' });
  apply(engine, { type: 'set-price', time, asset: 'TOK-PERP', price: '0.01' });
  apply(engine, { type: 'deposit', time, account: 'bob', asset: 'USDC', amount: '1000000' });
  apply(engine, { type: 'deposit', time, account: 'alice', asset: 'USDC', amount: '1000' });
  apply(engine, {
    type: 'trade',
    time,
    buyer: { account: 'bob' },
    seller: { account: 'alice' },
    instrument: 'TOK-PERP',
    size: '10000',
    price: '0.01',
  });
  time += 60;
  apply(engine, { type: 'set-price', time, asset: 'TOK-PERP', price: '0.0105' });
  apply(engine, { type: 'settle-funding', time, instrument: 'TOK-PERP' });
  return { engine, time };
}

const exactlyMeets = (draft: Draft, tier: Tier) => {
  const health = draft.health(ref);
  return health.collateralNum(tier) >= health.liabilityNum(tier);
};

describe('the float screen after a long funding history', () => {
  it('the indices are far apart from what a position owes (the case the screen must survive)', () => {
    const { engine } = collapsedVenue();
    const index = engine.state.instruments[0]?.fundingIndex ?? 0n;
    const position = engine.state.accounts.get('alice')?.subAccounts[0]?.derivatives?.positions[0];
    expect(position).toBeDefined();
    const owedPerUnit = index - (position?.funding ?? 0n);
    // The float difference of the two indices is off by more than what is owed.
    expect(index > 10n ** 40n).toBe(true);
    expect(
      Math.abs(Number(index) - Number(position?.funding) - Number(owedPerUnit)),
    ).toBeGreaterThan(Math.abs(Number(owedPerUnit)) * 1e-3);
  });

  it('agrees with the exact comparison, and the largest withdrawal accepted is the exact one', () => {
    const { engine, time } = collapsedVenue();
    for (const tier of ['initial', 'maintenance', 'liquidationEnd'] as const) {
      const draft = new Draft(engine.state, time);
      expect(draft.meets(ref, tier), tier).toBe(exactlyMeets(draft, tier));
      expect(new Draft(engine.state, time).health(ref).meets(tier), tier).toBe(
        exactlyMeets(new Draft(engine.state, time), tier),
      );
    }
    const accepted = (amount: bigint) =>
      engine.dryRun({
        type: 'withdraw',
        time,
        account: 'alice',
        subAccount: 0,
        asset: 'USDC',
        amount,
      }).result.ok;
    let low = 0n;
    let high = 1000n * 10n ** 6n;
    while (high - low > 1n) {
      const middle = (low + high) / 2n;
      if (accepted(middle)) low = middle;
      else high = middle;
    }
    // The largest accepted withdrawal leaves initial margin met exactly; one unit more does not.
    const at = (amount: bigint) => {
      const { draft } = engine.dryRun({
        type: 'withdraw',
        time,
        account: 'alice',
        subAccount: 0,
        asset: 'USDC',
        amount,
      });
      return draft;
    };
    const last = at(low);
    expect(last).toBeDefined();
    expect(exactlyMeets(last as Draft, 'initial')).toBe(true);
    const refused = engine.dryRun({
      type: 'withdraw',
      time,
      account: 'alice',
      subAccount: 0,
      asset: 'USDC',
      amount: low + 1n,
    });
    expect(refused.result.ok).toBe(false);
  });
});
