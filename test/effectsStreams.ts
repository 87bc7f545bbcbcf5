/**
 * A seeded stream of mixed commands for the effects journal's tests: lending (deposits,
 * withdrawals, borrows, repayments, transfers, accrual, spot liquidations) beside derivatives
 * (fills on perpetuals, a future and an option, marks set and quoted, index moves, funding,
 * expiry, takeovers by liquidators and by the insurance fund, deleveraging, margin modes,
 * volatilities, profit settled). Each command is made from the live state (prices move from
 * where they are), as `test/derivatives.properties.test.ts` makes its steps; the moves are large
 * enough that accounts fall below maintenance and some go bankrupt.
 */
import type { EngineState } from '../src/index.js';
import { equityOf } from '../src/engine/deleverage.js';
import { Draft } from '../src/engine/draft.js';
import { SeededRandom } from '../src/math/random.js';

type Json = Record<string, unknown>;

export const STREAM_START = 1_000;
const ACCOUNTS = ['ann', 'bob', 'cat', 'dan', 'eve'];
const INSTRUMENTS = ['ETH-PERP', 'ETH-FUT', 'ETH-PERP-Q', 'ETH-2000-C'];
/** When the future expires: a stream of a few hundred commands reaches it. */
const FUTURE_EXPIRY = STREAM_START + 60_000;
const OPTION_EXPIRY = STREAM_START + 120_000;

/** The market every stream starts from: listings, the lender, the fund and the traders. */
export function streamOpening(): Json[] {
  const time = STREAM_START;
  const perp = { initialMargin: '0.1', maintenanceMargin: '0.05', sizePremium: '0.001' };
  const opening: Json[] = [
    {
      type: 'list-asset',
      time,
      config: { symbol: 'USDC', decimals: 6, initialWeight: '0.9', maintenanceWeight: '0.95' },
      price: '1',
    },
    {
      type: 'list-asset',
      time,
      config: { symbol: 'ETH', decimals: 18, initialWeight: '0.8', maintenanceWeight: '0.825' },
      price: '2000',
    },
    listing({ kind: 'perpetual', symbol: 'ETH-PERP', fundingIntervalSeconds: '3600', ...perp }),
    listing({ kind: 'future', symbol: 'ETH-FUT', expiry: FUTURE_EXPIRY, ...perp }),
    listing({
      kind: 'perpetual',
      symbol: 'ETH-PERP-Q',
      fundingIntervalSeconds: '7200',
      oracle: {},
      ...perp,
    }),
    {
      ...listing({
        kind: 'option',
        symbol: 'ETH-2000-C',
        expiry: OPTION_EXPIRY,
        strike: '2000',
        right: 'call',
      }),
      price: '150',
    },
    { type: 'set-volatility', time, asset: 'ETH', volatility: '0.8' },
    { type: 'deposit', time, account: 'lena', asset: 'USDC', amount: '10000000' },
    { type: 'deposit', time, account: 'lena', asset: 'ETH', amount: '1000' },
    { type: 'deposit', time, account: 'liz', asset: 'USDC', amount: '1000000' },
    { type: 'deposit', time, account: '@insurance', asset: 'USDC', amount: '10' },
  ];
  for (const source of ['a', 'b', 'c']) {
    opening.push({ type: 'quote', time, asset: 'ETH-PERP-Q', source, price: '2000' });
  }
  for (const account of ACCOUNTS) {
    opening.push(
      { type: 'deposit', time, account, asset: 'USDC', amount: '800' },
      { type: 'deposit', time, account, asset: 'ETH', amount: '0.5' },
      { type: 'deposit', time, account, subAccount: 1, asset: 'USDC', amount: '1000' },
    );
  }
  opening.push({ type: 'set-mode', time, account: 'eve', subAccount: 1, mode: 'portfolio' });
  opening.push({ type: 'set-mode', time, account: 'dan', subAccount: 1, mode: 'isolated' });
  return opening;
}

function listing(config: Json): Json {
  return {
    type: 'list-instrument',
    time: STREAM_START,
    config: { underlying: 'ETH', ...config },
    price: '2000',
  };
}

type Kind =
  | 'trade'
  | 'mark'
  | 'index'
  | 'quote'
  | 'funding'
  | 'takeover'
  | 'backstop'
  | 'deleverage'
  | 'expire'
  | 'settlePnl'
  | 'lend'
  | 'transfer'
  | 'liquidate'
  | 'mode'
  | 'volatility'
  | 'accrue';

const KINDS: readonly (readonly [Kind, number])[] = [
  ['trade', 30],
  ['mark', 10],
  ['index', 6],
  ['quote', 6],
  ['funding', 4],
  ['takeover', 8],
  ['backstop', 2],
  ['deleverage', 3],
  ['expire', 4],
  ['settlePnl', 2],
  ['lend', 12],
  ['transfer', 2],
  ['liquidate', 2],
  ['mode', 1],
  ['volatility', 1],
  ['accrue', 1],
];
const WEIGHT = KINDS.reduce((sum, [, w]) => sum + w, 0);

/** Makes the commands of one stream; `next(state)` reads prices from the live state. */
export class MixedStream {
  private readonly rng: SeededRandom;
  private time = STREAM_START;

  constructor(seed: number) {
    this.rng = new SeededRandom(seed);
  }

  next(state: EngineState): Json {
    // Mostly seconds to minutes, sometimes hours: funding falls due and the future expires.
    this.time += this.rng.chance(0.02) ? this.rng.integer(3_600, 8_000) : this.rng.integer(0, 120);
    const time = this.time;
    let roll = this.rng.integer(0, WEIGHT - 1);
    let kind: Kind = 'trade';
    for (const [k, w] of KINDS) {
      if (roll < w) {
        kind = k;
        break;
      }
      roll -= w;
    }
    return { ...this.command(kind, state), time };
  }

  private command(kind: Kind, state: EngineState): Json {
    const instrument = this.pick(INSTRUMENTS);
    switch (kind) {
      case 'trade':
        return this.trade(state, instrument);
      case 'mark':
        return {
          type: 'set-price',
          asset: instrument,
          price: this.moved(state, instrument, this.rng.chance(0.2) ? 300 : 100),
        };
      case 'index':
        return { type: 'set-price', asset: 'ETH', price: this.moved(state, 'ETH', 150) };
      case 'quote':
        return {
          type: 'quote',
          asset: 'ETH-PERP-Q',
          source: this.pick(['a', 'b', 'c']),
          price: this.moved(state, 'ETH-PERP-Q', 40),
        };
      case 'funding':
        return { type: 'settle-funding', instrument: this.pick(['ETH-PERP', 'ETH-PERP-Q']) };
      case 'takeover':
      case 'backstop':
        return {
          type: 'liquidate-position',
          liquidator: kind === 'backstop' ? { account: '@insurance' } : { account: 'liz' },
          target: this.holder(state, instrument, 'liquidatable'),
          instrument,
          amount: this.rng.chance(0.8) ? 'max' : String(this.rng.integer(1, 20) / 10),
        };
      case 'deleverage':
        return {
          type: 'deleverage',
          target: this.holder(state, instrument, 'bankrupt'),
          instrument,
        };
      case 'expire':
        return { type: 'expire', instrument: this.pick(['ETH-FUT', 'ETH-2000-C']) };
      case 'settlePnl':
        return { type: 'settle-pnl', ...this.unsettled(state) };
      default:
        return this.other(kind, state);
    }
  }

  private other(kind: Kind, state: EngineState): Json {
    switch (kind) {
      case 'lend':
        if (this.rng.chance(0.3)) {
          // Sub-accounts 1 hold USDC: they borrow ETH against it, and a rise takes them under.
          const amount = `0.${this.rng.integer(1, 9)}`;
          return {
            type: 'borrow',
            account: this.pick(ACCOUNTS),
            subAccount: 1,
            asset: 'ETH',
            amount,
          };
        }
        return {
          type: this.pick(['deposit', 'withdraw', 'borrow', 'repay']),
          ...this.refFields(),
          asset: this.pick(['USDC', 'ETH']),
          amount: String(this.rng.integer(1, 3000)),
        };
      case 'transfer':
        return {
          type: 'transfer',
          from: this.ref(),
          to: this.ref(),
          asset: 'USDC',
          amount: String(this.rng.integer(1, 2000)),
        };
      case 'liquidate':
        return this.liquidation(state);
      case 'mode':
        return {
          type: 'set-mode',
          ...this.refFields(),
          mode: this.pick(['cross', 'isolated', 'portfolio']),
        };
      case 'volatility':
        return { type: 'set-volatility', asset: 'ETH', volatility: this.moved(state, 'VOL', 300) };
      default:
        return { type: 'accrue', asset: this.pick(['USDC', 'ETH']) };
    }
  }

  /** A spot liquidation of a sub-account below maintenance that owes, when there is one. */
  private liquidation(state: EngineState): Json {
    const draft = new Draft(state, state.time);
    const owing: { account: string; subAccount: number; debt: number; collateral: number }[] = [];
    for (const account of ACCOUNTS) {
      for (const sub of state.accounts.get(account)?.subAccounts ?? []) {
        const debt = sub.positions.find((p) => p.scaled < 0n);
        const collateral = sub.positions.find((p) => p.scaled > 0n);
        if (debt === undefined || collateral === undefined) continue;
        const ref = { account, subAccount: sub.number };
        if (draft.health(ref).meets('maintenance')) continue;
        owing.push({ ...ref, debt: debt.asset, collateral: collateral.asset });
      }
    }
    const symbol = (index: number) => state.assets[index]?.config.symbol ?? 'USDC';
    const target = owing.length > 0 ? this.pick(owing) : undefined;
    return {
      type: 'liquidate',
      liquidator: { account: 'liz', subAccount: 0 },
      target:
        target === undefined
          ? this.ref()
          : { account: target.account, subAccount: target.subAccount },
      debtAsset: target === undefined ? 'ETH' : symbol(target.debt),
      collateralAsset: target === undefined ? 'USDC' : symbol(target.collateral),
      amount: String(this.rng.integer(100, 5000)),
    };
  }

  private trade(state: EngineState, instrument: string): Json {
    const tenths = this.rng.integer(20, 120);
    const size =
      instrument === 'ETH-2000-C'
        ? `${Math.floor(tenths / 100)}.${String(tenths % 100).padStart(2, '0')}`
        : `${Math.floor(tenths / 10)}.${tenths % 10}`;
    return {
      type: 'trade',
      // Mostly the first traders buy and the last sell: books lean one way, and a move of the
      // mark takes one side below maintenance.
      buyer: this.rng.chance(0.8) ? this.refAmong(ACCOUNTS.slice(0, 3)) : this.ref(),
      seller: this.rng.chance(0.8) ? this.refAmong(ACCOUNTS.slice(3)) : this.ref(),
      instrument,
      size,
      // Near the mark: sometimes outside the band, refused.
      price: this.moved(state, instrument, 20),
      buyerFee: String(this.rng.integer(0, 3)),
      sellerFee: this.rng.chance(0.5) ? '0.5' : '0',
    };
  }

  /** The price of an asset, the mark of an instrument or ETH's volatility, moved up to ±permille. */
  private moved(state: EngineState, symbol: string, permille: number): string {
    const change = BigInt(1000 + this.rng.integer(-permille, permille));
    if (symbol === 'VOL') {
      const ppm = state.volatilities.get(state.assetIndex.get('ETH') ?? 0) ?? 800_000n;
      const next = (ppm * change) / 1000n;
      return (Number(next < 50_000n ? 50_000n : next) / 1e6).toFixed(6);
    }
    const index = state.instrumentIndex.get(symbol);
    const current =
      index === undefined
        ? (state.assets[state.assetIndex.get(symbol) ?? 0]?.risk.oraclePrice ?? 0n)
        : (state.instruments[index]?.mark ?? 0n);
    const next = (current * change) / 1000n;
    return (Number(next < 10n ** 16n ? 10n ** 16n : next) / 1e18).toFixed(6);
  }

  private ref(): Json {
    return this.refFields();
  }

  /**
   * A sub-account holding `instrument`, one below maintenance (or bankrupt) when there is one,
   * most of the time; any trader's otherwise.
   */
  private holder(state: EngineState, instrument: string, want: 'liquidatable' | 'bankrupt'): Json {
    const index = state.instrumentIndex.get(instrument);
    const draft = new Draft(state, state.time);
    const holders: Json[] = [];
    const wanted: Json[] = [];
    for (const account of ACCOUNTS) {
      for (const sub of state.accounts.get(account)?.subAccounts ?? []) {
        if (!sub.derivatives?.positions.some((p) => p.instrument === index)) continue;
        const ref = { account, subAccount: sub.number };
        holders.push(ref);
        const fits =
          want === 'bankrupt' ? equityOf(draft, ref) < 0n : !draft.health(ref).meets('maintenance');
        if (fits) wanted.push(ref);
      }
    }
    if (wanted.length > 0 && this.rng.chance(0.9)) return this.pick(wanted);
    return holders.length > 0 && this.rng.chance(0.8) ? this.pick(holders) : this.ref();
  }

  /** A sub-account with profit or loss not yet settled, when there is one. */
  private unsettled(state: EngineState): { account: string; subAccount: number } {
    const waiting: { account: string; subAccount: number }[] = [];
    for (const account of ACCOUNTS) {
      for (const sub of state.accounts.get(account)?.subAccounts ?? []) {
        const book = sub.derivatives;
        if (book !== undefined && book.unsettled !== 0n) {
          waiting.push({ account, subAccount: sub.number });
        }
      }
    }
    return waiting.length > 0 ? this.pick(waiting) : this.refFields();
  }

  private refFields(): { account: string; subAccount: number } {
    return this.refAmong(ACCOUNTS);
  }

  private refAmong(accounts: readonly string[]): { account: string; subAccount: number } {
    return { account: this.pick(accounts), subAccount: this.rng.chance(0.7) ? 0 : 1 };
  }

  private pick<T>(values: readonly T[]): T {
    return values[this.rng.integer(0, values.length - 1)] as T;
  }
}
