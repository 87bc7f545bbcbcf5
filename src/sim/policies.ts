/**
 * Liquidation policies the simulator compares on the same path and population. Each is a change
 * to the venue's rules, applied through the engine's own commands (`configure-liquidation`,
 * `set-weights`) or, for the Dutch auction, through what liquidators may bid.
 */
import { FulcrumError } from '../base/errors.js';

export interface Policy {
  readonly name: string;
  readonly description: string;
  /** Close factor override (fraction), and full close below this maintenance health. */
  readonly closeFactor?: number;
  readonly fullCloseHealth?: number;
  /**
   * The liquidation-end weight of every collateral, as a share of the distance from its
   * maintenance weight down to zero: 0 keeps the listing's, 1 sets it to zero (every
   * liquidation then repays the whole debt, as far as the collateral allows).
   */
  readonly endBuffer?: number;
  /** Per-minute caps on liquidated debt, as shares of the book's collateral value. */
  readonly accountCapShare?: number;
  readonly globalCapShare?: number;
  /**
   * A Dutch auction of each account's discount: it starts at `startPremium` (negative: the
   * collateral is offered above the oracle price) when the account falls below maintenance and
   * rises by `ratePerMinute` up to the listed penalty; a liquidator takes it once the discount
   * covers its costs, and pays only that discount.
   */
  readonly auction?: { readonly startPremium: number; readonly ratePerMinute: number };
  /** Stress margin: haircuts rise with realized volatility and relax slowly. */
  readonly dynamicMargin?: boolean;
}

export const POLICIES: readonly Policy[] = [
  {
    name: 'partial',
    description:
      'the engine defaults: close factor 50%, repay only to the liquidation-end target, full close below $2,000 or health 0.95',
  },
  {
    name: 'full',
    description:
      'full liquidation: every liquidation repays the whole debt (close factor 100%, no end target)',
    closeFactor: 1,
    fullCloseHealth: 1,
    endBuffer: 1,
  },
  {
    name: 'dutch-auction',
    description:
      'the discount is auctioned: it starts 1% above the oracle price and rises 0.5% a minute to the listed penalty',
    auction: { startPremium: -0.01, ratePerMinute: 0.005 },
  },
  {
    name: 'throttled',
    description:
      'throttles: at most 0.1% of the book liquidated per minute overall, 0.02% per account',
    accountCapShare: 0.0002,
    globalCapShare: 0.001,
  },
  {
    name: 'end-buffer',
    description:
      'a larger liquidation-end buffer: liquidations restore health to a target a tenth of the weight below maintenance',
    endBuffer: 0.1,
  },
  {
    name: 'dynamic-margin',
    description:
      'stress margin: haircuts rise when realized volatility doubles its calm level, and relax slowly',
    dynamicMargin: true,
  },
];

/** The policies named, in the order given; `all` for every one. */
export function selectPolicies(names: readonly string[]): Policy[] {
  if (names.length === 0 || names.includes('all')) return [...POLICIES];
  return names.map((name) => {
    const policy = POLICIES.find((p) => p.name === name);
    if (policy === undefined) {
      throw new FulcrumError(
        'invalid_field',
        `unknown policy ${JSON.stringify(name)}; policies: ${POLICIES.map((p) => p.name).join(', ')}`,
        'policy',
      );
    }
    return policy;
  });
}
