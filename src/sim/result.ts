/**
 * What a cascade simulation reports: one run per liquidation policy on the same price path and
 * population, each with its summary metrics and its time series, plus the comparison. Plain
 * JSON-ready data (numbers in the quote unit as floats: this is analytics, never a balance); the
 * HTML report and the JSON result are both written from it.
 */

/** One asset's exogenous path, as the simulator replays it. */
export interface PathInfo {
  readonly symbol: string;
  /** Where the path came from: a file name, or `synthetic (GBM with jumps, seed 7)`. */
  readonly source: string;
  readonly start: number;
  readonly low: number;
  readonly end: number;
}

/** A snapshot of the book's maintenance health: counts per bucket. */
export interface HealthHistogram {
  /** Upper bounds of the buckets (the last is +Infinity, written as null in JSON). */
  readonly bounds: readonly (number | null)[];
  readonly counts: readonly number[];
}

/** One sample of a run's time series (taken every `sampleSeconds`, and at the end). */
export interface Sample {
  /** Unix seconds. */
  readonly time: number;
  /**
   * Per asset symbol: the lowest exogenous price and the lowest realized price (the oracle's,
   * after liquidation impact) since the previous sample, so that no low falls between samples.
   */
  readonly exogenous: Readonly<Record<string, number>>;
  readonly realized: Readonly<Record<string, number>>;
  /** Cumulative debt repaid by liquidations and the backstop (quote). */
  readonly liquidatedNotional: number;
  /** Accounts liquidated at least once so far. */
  readonly accountsLiquidated: number;
  /** Accounts below maintenance right now (waiting for a liquidator). */
  readonly liquidatable: number;
  /** Cumulative bad debt written off (quote). */
  readonly badDebt: number;
  /** Cumulative draw on the insurance fund (quote). */
  readonly insuranceDraw: number;
  /** Per asset symbol: the stress multiplier of its haircuts (1 when dynamic margin is off). */
  readonly marginMultiplier: Readonly<Record<string, number>>;
  /** The derivatives book's figures, in a run with perpetuals. */
  readonly derivatives?: DerivativesSample;
}

/** A sample's derivatives figures (cumulative unless said). */
export interface DerivativesSample {
  /** Per perpetual: the lowest exogenous and realized mark since the previous sample. */
  readonly exogenousMarks: Readonly<Record<string, number>>;
  readonly realizedMarks: Readonly<Record<string, number>>;
  /** Notional taken over by liquidators and the insurance fund, at the mark (quote). */
  readonly takeoverNotional: number;
  /** Notional closed by auto-deleveraging, at the bankruptcy price (quote). */
  readonly adlNotional: number;
  /** Funding moved between longs and shorts (quote). */
  readonly fundingPaid: number;
  /** Profit the deleveraged counterparties gave up against the mark (quote). */
  readonly socializedLoss: number;
  /** Long open interest of every perpetual at its mark, now (quote). */
  readonly openInterest: number;
  /** Bad debt written off on traders' accounts (quote). */
  readonly badDebt: number;
}

/** A run's derivatives figures. */
export interface DerivativesMetrics {
  /** Per perpetual: its first mark's fall to the lowest exogenous and realized marks. */
  readonly marks: readonly {
    readonly symbol: string;
    readonly exogenousLow: number;
    readonly realizedLow: number;
    /** As an asset's: how much the unwinds deepened the mark's fall (0.25: by a quarter). */
    readonly amplification: number;
  }[];
  /** The traders' positions opened at the start, at the first marks (quote, both sides). */
  readonly openingNotional: number;
  /** Long open interest at the end, at the marks (quote). */
  readonly openInterestAtEnd: number;
  /** Takeovers by liquidators (`liquidate-position`), and their notional at the mark. */
  readonly positionLiquidations: number;
  readonly takeoverNotional: number;
  /** Takeovers by the insurance fund below the backstop's health, and their notional. */
  readonly fundTakeovers: number;
  readonly fundTakeoverNotional: number;
  /** Accounts with a position taken over. */
  readonly tradersLiquidated: number;
  /** `deleverage` commands applied, the fills they made, their notional (bankruptcy price). */
  readonly adlCount: number;
  readonly adlFills: number;
  readonly adlNotional: number;
  /** Bankrupt accounts deleveraged, and the counterparties whose positions were cut. */
  readonly accountsDeleveraged: number;
  readonly adlCounterparties: number;
  /** Profit the counterparties gave up to deleveraging, against the mark (quote). */
  readonly socializedLoss: number;
  /** Funding moved between longs and shorts (quote), and the settlements. */
  readonly fundingPaid: number;
  readonly fundingSettlements: number;
  /** Notional liquidators and the fund unwound into the perpetuals' markets (quote). */
  readonly unwoundNotional: number;
  /**
   * Bad debt written off on traders' accounts (quote; part of the run's `badDebt`, the rest is
   * the borrowers'), and who bore it: the insurance fund's draw and the lenders' share.
   */
  readonly badDebt: number;
  readonly badDebtInsuranceDraw: number;
  readonly badDebtSocialized: number;
  /**
   * The insurance fund's equity after setup and at the end (quote): its capital, plus its share
   * of every penalty, less its draws and what its takeovers lost.
   */
  readonly insuranceFund: { readonly start: number; readonly end: number };
}

/** The summary of one run. */
export interface RunMetrics {
  /** Per asset: lowest exogenous and realized price, and the amplification. */
  readonly lows: readonly {
    readonly symbol: string;
    readonly exogenousLow: number;
    readonly realizedLow: number;
    /**
     * Realized drawdown over exogenous drawdown from the start price, minus one: 0 when
     * liquidations added nothing, 0.25 when they deepened the fall by a quarter.
     */
    readonly amplification: number;
  }[];
  /** The largest amplification over the assets. */
  readonly amplification: number;
  readonly liquidatedNotional: number;
  readonly liquidations: number;
  readonly backstopLiquidations: number;
  readonly accountsLiquidated: number;
  readonly badDebt: number;
  readonly insuranceDraw: number;
  /** Bad debt the lenders bore (socialized through the supply index). */
  readonly socialized: number;
  /** Liquidator bonus kept (quote, at the price of each liquidation). */
  readonly liquidatorBonus: number;
  /** Stress-margin changes (events) during the run. */
  readonly marginChanges: number;
  /** Accounts still below maintenance at the end. */
  readonly liquidatableAtEnd: number;
  /** Commands the engine applied, and refused (a refusal is a liquidator's failed attempt). */
  readonly commands: number;
  readonly refused: number;
  /** The derivatives book's figures, in a run with perpetuals. */
  readonly derivatives?: DerivativesMetrics;
}

export interface PolicyRun {
  /** Policy name (`partial`, `full`, `dutch-auction`, `throttled`, `end-buffer`, `dynamic-margin`). */
  readonly policy: string;
  /** One line on what the policy changes. */
  readonly description: string;
  readonly metrics: RunMetrics;
  readonly samples: readonly Sample[];
  readonly healthBefore: HealthHistogram;
  readonly healthAfter: HealthHistogram;
  /**
   * Wall time of the run in milliseconds, set by the caller that timed it (the command line);
   * 0 from `simulate` itself, which reads no clock.
   */
  readonly wallMs: number;
}

/** The population as generated or loaded. */
export interface PopulationInfo {
  readonly accounts: number;
  readonly seed: number;
  /** Total collateral value at the start (quote). */
  readonly collateralValue: number;
  readonly debtValue: number;
  /** Per collateral symbol: accounts holding it and its value. */
  readonly collateral: readonly {
    readonly symbol: string;
    readonly accounts: number;
    readonly value: number;
  }[];
  /** Percentiles of account collateral value: p50, p90, p99, max. */
  readonly size: {
    readonly p50: number;
    readonly p90: number;
    readonly p99: number;
    readonly max: number;
  };
  /** Percentiles of initial maintenance health. */
  readonly health: { readonly p10: number; readonly p50: number; readonly p90: number };
  /** The perpetual traders beside the borrowers, when the book has them. */
  readonly traders?: TradersInfo;
}

/** The perpetual traders of a population, as generated. */
export interface TradersInfo {
  readonly accounts: number;
  /** Their collateral value at the start (quote). */
  readonly collateralValue: number;
  /** Per collateral symbol: traders posting it and its value. */
  readonly collateral: readonly {
    readonly symbol: string;
    readonly accounts: number;
    readonly value: number;
  }[];
  /** Per perpetual: traders long and short and the notional each side aims at (quote). */
  readonly instruments: readonly {
    readonly symbol: string;
    readonly longs: number;
    readonly shorts: number;
    readonly longNotional: number;
    readonly shortNotional: number;
  }[];
  /** Percentiles of the leverage aimed at (before initial margin holds it). */
  readonly leverage: { readonly p10: number; readonly p50: number; readonly p90: number };
}

/** A perpetual listed in the runs. */
export interface PerpInfo {
  readonly symbol: string;
  readonly underlying: string;
  readonly initialMargin: number;
  readonly maintenanceMargin: number;
  readonly liquidationPenalty: number;
  readonly fundingIntervalSeconds: number;
  /** Where its basis over the index came from: a mark file, or `none`. */
  readonly basisSource: string;
}

/** A pegged token of the run: what it is pegged to, and how far its path left the peg. */
export interface PegInfo {
  readonly symbol: string;
  /** `USDC` or an asset of the path. */
  readonly peg: string;
  /** The model's depth (its peg ratio at full stress is 1 − depth); null for a price file. */
  readonly depth: number | null;
  /** The lowest exogenous price over its peg's, in the run's path (set by the result). */
  readonly lowRatio?: number;
}

export interface SimulationResult {
  readonly scenario: string;
  readonly description: string;
  readonly seed: number;
  /** Unix seconds of the first and last step, and the step length. */
  readonly start: number;
  readonly end: number;
  readonly stepSeconds: number;
  readonly steps: number;
  readonly paths: readonly PathInfo[];
  readonly population: PopulationInfo;
  /** The market model's parameters, as used. */
  readonly market: Readonly<Record<string, string | number>>;
  /** The perpetuals listed, when the book has traders. */
  readonly perpetuals?: readonly PerpInfo[];
  /** The pegged tokens the traders post, when the book has traders. */
  readonly pegged?: readonly PegInfo[];
  readonly runs: readonly PolicyRun[];
  /** Which policy minimizes bad debt and which minimizes amplification, with the figures. */
  readonly verdict: {
    readonly leastBadDebt: { readonly policy: string; readonly badDebt: number };
    readonly leastAmplification: { readonly policy: string; readonly amplification: number };
    /** One or two sentences stating the above. */
    readonly text: string;
  };
}
