/**
 * The derivatives ledger: quote cash and positions in perpetuals, dated futures and options,
 * per sub-account, in one of three margin modes; funding, expiry, liquidation through the
 * insurance fund, and auto-deleveraging when the fund cannot cover a bankruptcy.
 *
 * Exact, with no rounding at all in what moves between accounts. Every value is a bigint
 * numerator over {@link VALUE_UNIT} per quote unit: a size in 10^-8 units of the underlying
 * times a price in PRICE_SCALE times a funding rate's 10^12 is such a numerator, so trades
 * (size × price), funding (size × index × rate) and settlement are exact products. Per
 * position the ledger keeps its size and its quote balance (what was paid for it, signed): its
 * value at a mark is size × mark + quote, its average entry −quote / size. Since every long has
 * a short, the sum over all sub-accounts of cash + quote is always what was deposited less what
 * was withdrawn: the conservation law the tests check after every command.
 *
 * Deterministic, no clock: time comes with each command. A refused command changes nothing
 * (each handler checks everything before it writes).
 */
import { FulcrumError } from '../base/errors.js';
import { ACCOUNT_ID_PATTERN, LIMITS } from '../domain/limits.js';
import { PRICE_MAX } from '../domain/price.js';
import { fieldName, quoteInput } from '../domain/quote.js';
import { PRICE_SCALE } from '../math/fixed.js';
import {
  type InstrumentSpec,
  SIZE_DECIMALS,
  sizeAdjusted,
  validateInstrument,
} from './instruments.js';

/** Funding rates are kept to 10^-12. */
export const RATE_SCALE = 10n ** 12n;
/** Numerator units per quote unit: size (10^8) × price (10^18) × rate (10^12). */
export const VALUE_UNIT = 10n ** BigInt(SIZE_DECIMALS) * PRICE_SCALE * RATE_SCALE;
/** Quote cash is deposited and withdrawn in base units of 10^-6 (USDC). */
export const CASH_DECIMALS = 6;
const CASH_UNIT = VALUE_UNIT / 10n ** BigInt(CASH_DECIMALS);
const SIZE_UNIT = 10n ** BigInt(SIZE_DECIMALS);
const PPM = 1_000_000n;

export type MarginMode = 'cross' | 'isolated' | 'portfolio';

export interface Position {
  /** Signed size in 10^-8 units of the underlying: + long, − short. */
  readonly size: bigint;
  /** What was paid for it (negative) or received (positive), numerator. */
  readonly quote: bigint;
  /** The instrument's cumulative funding (numerator per size unit) when last settled. */
  readonly funding: bigint;
}

export interface SubAccount {
  readonly mode: MarginMode;
  /** Quote cash, numerator. */
  readonly cash: bigint;
  readonly positions: ReadonlyMap<string, Position>;
  /** Profit and loss realized per instrument so far (trades and settlement), numerator. */
  readonly realized: ReadonlyMap<string, bigint>;
}

export interface InstrumentState {
  readonly spec: InstrumentSpec;
  /** The underlying's index and the instrument's mark, PRICE_SCALE; 0 before the first. */
  readonly index: bigint;
  readonly mark: bigint;
  /** Cumulative funding per size unit (numerator), perpetuals only. */
  readonly funding: bigint;
  readonly lastFunding: number;
  readonly settled: boolean;
  /** The first index at or after expiry (futures and options): what they settle at; 0 before. */
  readonly settlementIndex: bigint;
  /** Open interest: the sum of long sizes (equal to the sum of short sizes). */
  readonly openInterest: bigint;
}

/** Rules of the ledger that are not per instrument. */
export interface LedgerConfig {
  /** Positive unrealized profit counts in cross margin at this share (ppm)... */
  readonly profitWeightPpm: bigint;
  /** ...and at most this share of the sub-account's cash (ppm). */
  readonly profitCapPpm: bigint;
  /** The liquidation fee to the insurance fund, a share of the notional closed (ppm). */
  readonly liquidationFeePpm: bigint;
  /**
   * Partial liquidation: a solvent sub-account whose positions' notional at the mark exceeds
   * this many quote units is liquidated in steps of `partialSharePpm` of every position, so
   * that a large book is not thrown at the fund (and the market) at once...
   */
  readonly partialAboveQuote: bigint;
  /** ...each step this share of every position (ppm). */
  readonly partialSharePpm: bigint;
}

/**
 * Hyperliquid's published rule for the partial steps (positions above 100,000 USDC of notional
 * lose 20% at a time); the fee and profit rules as in the docs.
 */
export const DEFAULT_LEDGER_CONFIG: LedgerConfig = {
  profitWeightPpm: 900_000n,
  profitCapPpm: 1_000_000n,
  liquidationFeePpm: 7_500n,
  partialAboveQuote: 100_000n,
  partialSharePpm: 200_000n,
};

/**
 * Hard limits: every collection the ledger keeps and every amount a command brings is bounded,
 * so that no sequence of commands can grow it without end or carry a number past what its
 * analytics read exactly.
 */
export const LEDGER_LIMITS = {
  /** Listed instruments, settled ones included. */
  instruments: 1_024,
  /** Distinct underlyings among them: the engine's limit on assets. */
  underlyings: LIMITS.assets,
  /** Sub-accounts, the insurance fund aside. */
  subAccounts: 1_000_000,
  /**
   * Open positions of one sub-account. The fund is exempt: it takes over whatever it must
   * (its positions are bounded by the number of instruments).
   */
  positionsPerSubAccount: 256,
  /**
   * The largest trade and the largest position, 10^-8 units: 10^12 units, the portfolio
   * margin's limit. A trade may still reduce a larger position (the fund's, after liquidations).
   */
  sizeMax: 10n ** 12n * 10n ** BigInt(SIZE_DECIMALS),
  /**
   * The largest deposit, and the most cash a deposit or a transfer in may leave in a
   * sub-account: 10^15 USDC, in base units.
   */
  cashMax: 10n ** 15n * 10n ** 6n,
  /** The highest index, mark or trade price, PRICE_SCALE: the engine's `PRICE_MAX`. */
  priceMax: PRICE_MAX,
  /** The latest command time and expiry: the engine's (unix seconds, the year 9999). */
  timeMax: LIMITS.timeMax,
} as const;

/** A sub-account number after the slash: 0 to 255, written without leading zeros. */
const SUB_ACCOUNT_NUMBER_PATTERN = /^(?:0|[1-9][0-9]{0,2})$/;

/** What {@link isSubAccountName} accepts, for messages. */
export const SUB_ACCOUNT_NAME_RULE =
  'an account id (1-64 letters, digits or _ . : @ -), then optionally / and a sub-account number from 0 to 255 without leading zeros, such as ann or ann/1';

/**
 * Whether `name` names a sub-account: an account id as the engine's (`ACCOUNT_ID_PATTERN`),
 * then optionally `/` and a sub-account number below `LIMITS.subAccountsPerAccount` written
 * canonically (`ann`, `ann/1`, `ann/255`; not `ann/01`, `ann/256` or `ann/`). Journals and
 * history index accounts by name, separated by spaces: no name may hold one.
 *
 * @example
 * isSubAccountName('ann/1'); // true
 * isSubAccountName('ann/256'); // false
 */
export function isSubAccountName(name: unknown): name is string {
  if (typeof name !== 'string' || name.length > 68) return false;
  const slash = name.indexOf('/');
  if (slash < 0) return ACCOUNT_ID_PATTERN.test(name);
  const number = name.slice(slash + 1);
  return (
    ACCOUNT_ID_PATTERN.test(name.slice(0, slash)) &&
    SUB_ACCOUNT_NUMBER_PATTERN.test(number) &&
    Number(number) < LIMITS.subAccountsPerAccount
  );
}

/** Refuses a command naming a sub-account that is not {@link isSubAccountName}. */
function checkAccountNames(command: LedgerCommand): void {
  for (const [field, name] of namedAccounts(command)) {
    if (!isSubAccountName(name)) {
      throw new FulcrumError(
        'invalid_field',
        `${field} must be a sub-account name: ${SUB_ACCOUNT_NAME_RULE} (got ${quoteInput(name)})`,
        field,
      );
    }
  }
}

/** The sub-accounts a command names, with their fields (checked or not). */
export function namedAccounts(command: LedgerCommand): [string, unknown][] {
  switch (command.type) {
    case 'deposit':
      return [['to', command.to]];
    case 'withdraw':
      return [['from', command.from]];
    case 'transfer':
      return [
        ['from', command.from],
        ['to', command.to],
      ];
    case 'trade':
      return [
        ['buyer', command.buyer],
        ['seller', command.seller],
      ];
    case 'set-mode':
    case 'liquidate':
      return [['account', command.account]];
    default:
      return [];
  }
}

/** The insurance fund's account: it takes over liquidated positions and pays bankruptcies. */
export const FUND = 'fund';

export type LedgerCommand =
  | { readonly type: 'list-instrument'; readonly time: number; readonly spec: InstrumentSpec }
  | {
      readonly type: 'set-prices';
      readonly time: number;
      /**
       * Index per underlying and mark per instrument, PRICE_SCALE. Only own entries are read: a
       * name such as `valueOf` is never looked up on a prototype.
       */
      readonly index?: Readonly<Record<string, bigint>>;
      readonly marks?: Readonly<Record<string, bigint>>;
      /** Annual volatility per underlying, for the portfolio mode's scenarios (a float). */
      readonly volatility?: Readonly<Record<string, number>>;
    }
  | {
      readonly type: 'deposit';
      readonly time: number;
      readonly to: string;
      readonly amount: bigint;
    }
  | {
      readonly type: 'withdraw';
      readonly time: number;
      readonly from: string;
      readonly amount: bigint;
    }
  | {
      readonly type: 'transfer';
      readonly time: number;
      readonly from: string;
      readonly to: string;
      readonly amount: bigint;
    }
  | {
      readonly type: 'set-mode';
      readonly time: number;
      readonly account: string;
      readonly mode: MarginMode;
    }
  | {
      readonly type: 'trade';
      readonly time: number;
      readonly buyer: string;
      readonly seller: string;
      readonly instrument: string;
      /** Size bought by the buyer (sold by the seller), 10^-8 units, above 0. */
      readonly size: bigint;
      readonly price: bigint;
    }
  | { readonly type: 'settle-funding'; readonly time: number; readonly instrument: string }
  | { readonly type: 'expire'; readonly time: number; readonly instrument: string }
  | { readonly type: 'liquidate'; readonly time: number; readonly account: string };

/** What a command did, for the record and the tests. */
export type LedgerEvent =
  | {
      readonly type: 'funding';
      readonly instrument: string;
      readonly ratePpm: number;
      readonly perUnit: bigint;
    }
  | { readonly type: 'settled'; readonly instrument: string; readonly price: bigint }
  | {
      readonly type: 'liquidated';
      readonly account: string;
      readonly equity: bigint;
      readonly maintenance: bigint;
      readonly fee: bigint;
      /** What the fund paid to cover a negative equity. */
      readonly fundPaid: bigint;
      /** The share of every position closed (ppm): 1,000,000 when the liquidation was whole. */
      readonly closedPpm: bigint;
    }
  | {
      readonly type: 'deleveraged';
      readonly account: string;
      readonly counterparty: string;
      readonly instrument: string;
      readonly size: bigint;
      readonly price: bigint;
    };

/**
 * Margin of one sub-account in its mode, as numerators: equity, and the initial and
 * maintenance requirements. The portfolio mode's requirement comes from a scenario evaluation
 * the caller gives (`portfolioRequirement`), as the ledger does no float analytics itself.
 */
export interface LedgerMargin {
  readonly equity: bigint;
  /** Equity with positive unrealized profit haircut and capped: what initial margin is checked against. */
  readonly marginEquity: bigint;
  readonly initial: bigint;
  readonly maintenance: bigint;
}

/** A scenario margin for a portfolio-mode sub-account: initial and maintenance numerators. */
export type PortfolioRequirement = (
  account: string,
  sub: SubAccount,
  ledger: DerivativesLedger,
) => { readonly initial: bigint; readonly maintenance: bigint };

const EMPTY: SubAccount = { mode: 'cross', cash: 0n, positions: new Map(), realized: new Map() };

export class DerivativesLedger {
  readonly instruments = new Map<string, InstrumentState>();
  readonly accounts = new Map<string, SubAccount>();
  /** The last volatility set per underlying: what portfolio-mode scenarios shock. */
  readonly volatility = new Map<string, number>();
  time = 0;
  /** Cash deposited less cash withdrawn, numerator: what cash + quote must sum to. */
  netDeposits = 0n;

  constructor(
    readonly config: LedgerConfig = DEFAULT_LEDGER_CONFIG,
    private readonly portfolioRequirement?: PortfolioRequirement,
  ) {}

  /**
   * Applies a command; throws a FulcrumError (and changes nothing) when it is refused. Sub-
   * accounts and instruments are immutable values in two maps, so a copy of the maps taken
   * before the command restores everything when it is refused midway.
   */
  apply(command: LedgerCommand): LedgerEvent[] {
    if (typeof command !== 'object' || command === null) {
      throw new FulcrumError('invalid_field', 'a command must be an object', 'command');
    }
    if (
      !Number.isSafeInteger(command.time) ||
      command.time < 0 ||
      command.time > LEDGER_LIMITS.timeMax
    ) {
      throw new FulcrumError(
        'invalid_field',
        `time must be unix seconds from 0 to ${LEDGER_LIMITS.timeMax} (got ${quoteInput(command.time)})`,
        'time',
      );
    }
    if (command.time < this.time) {
      throw new FulcrumError('invalid_field', 'time must not go backwards', 'time');
    }
    const accounts = new Map(this.accounts);
    const instruments = new Map(this.instruments);
    const netDeposits = this.netDeposits;
    const volatility = new Map(this.volatility);
    const time = this.time;
    // The command's time is the ledger's while it runs: a portfolio requirement reads it.
    this.time = command.time;
    try {
      return this.run(command);
    } catch (error) {
      this.time = time;
      this.accounts.clear();
      for (const [k, v] of accounts) this.accounts.set(k, v);
      this.instruments.clear();
      for (const [k, v] of instruments) this.instruments.set(k, v);
      this.netDeposits = netDeposits;
      this.volatility.clear();
      for (const [k, v] of volatility) this.volatility.set(k, v);
      throw error;
    }
  }

  private run(command: LedgerCommand): LedgerEvent[] {
    checkAccountNames(command);
    const events: LedgerEvent[] = [];
    switch (command.type) {
      case 'list-instrument':
        this.listInstrument(command.spec, command.time);
        break;
      case 'set-prices':
        this.setPrices(command);
        break;
      case 'deposit': {
        positive(command.amount, 'amount', LEDGER_LIMITS.cashMax);
        const sub = this.sub(command.to);
        this.accounts.set(command.to, this.withCashIn(command.to, sub, command.amount));
        this.netDeposits += command.amount * CASH_UNIT;
        break;
      }
      case 'withdraw': {
        positive(command.amount, 'amount', LEDGER_LIMITS.cashMax);
        const sub = this.sub(command.from);
        const next = { ...sub, cash: sub.cash - command.amount * CASH_UNIT };
        this.requireWithdrawable(command.from, next);
        this.accounts.set(command.from, next);
        this.netDeposits -= command.amount * CASH_UNIT;
        break;
      }
      case 'transfer': {
        positive(command.amount, 'amount', LEDGER_LIMITS.cashMax);
        if (command.from === command.to) {
          throw new FulcrumError('same_account', 'a transfer needs two sub-accounts', 'to');
        }
        const from = this.sub(command.from);
        const to = this.sub(command.to);
        const next = { ...from, cash: from.cash - command.amount * CASH_UNIT };
        this.requireWithdrawable(command.from, next);
        this.accounts.set(command.from, next);
        this.accounts.set(command.to, this.withCashIn(command.to, to, command.amount));
        break;
      }
      case 'set-mode': {
        if (command.account === FUND) {
          throw new FulcrumError('reserved_account', 'the fund keeps cross margin', 'account');
        }
        const sub = this.sub(command.account);
        if (sub.positions.size > 0) {
          throw new FulcrumError(
            'has_positions',
            'the margin mode changes only without open positions',
            'mode',
          );
        }
        if (!['cross', 'isolated', 'portfolio'].includes(command.mode)) {
          throw new FulcrumError(
            'invalid_field',
            'mode must be cross, isolated or portfolio',
            'mode',
          );
        }
        if (command.mode === 'portfolio' && this.portfolioRequirement === undefined) {
          throw new FulcrumError('invalid_config', 'this ledger has no portfolio margin', 'mode');
        }
        this.accounts.set(command.account, { ...sub, mode: command.mode });
        break;
      }
      case 'trade':
        this.trade(command);
        break;
      case 'settle-funding':
        events.push(this.settleFunding(command.instrument, command.time));
        break;
      case 'expire':
        events.push(this.expire(command.instrument, command.time));
        break;
      case 'liquidate':
        events.push(...this.liquidate(command.account));
        break;
      default:
        throw new FulcrumError(
          'unknown_command',
          `unknown command type ${quoteInput((command as { type: unknown }).type)}`,
          'type',
        );
    }
    // Only a command that opened a sub-account can take the count past the limit.
    const subAccounts = this.accounts.size - (this.accounts.has(FUND) ? 1 : 0);
    if (subAccounts > LEDGER_LIMITS.subAccounts) {
      throw new FulcrumError(
        'limit_exceeded',
        `the ledger holds at most ${LEDGER_LIMITS.subAccounts} sub-accounts`,
        'account',
      );
    }
    return events;
  }

  /** A sub-account after `amount` (USDC base units) of cash came in, within the cash limit. */
  private withCashIn(account: string, sub: SubAccount, amount: bigint): SubAccount {
    const cash = sub.cash + amount * CASH_UNIT;
    if (cash > LEDGER_LIMITS.cashMax * CASH_UNIT) {
      throw new FulcrumError(
        'limit_exceeded',
        `${account} would hold more than ${LEDGER_LIMITS.cashMax / 10n ** BigInt(CASH_DECIMALS)} of cash`,
        'amount',
      );
    }
    return { ...sub, cash };
  }

  /** A sub-account (empty if it has never been used). */
  sub(account: string): SubAccount {
    return this.accounts.get(account) ?? EMPTY;
  }

  instrument(symbol: string, field = 'instrument'): InstrumentState {
    const state = this.instruments.get(symbol);
    if (state === undefined) {
      throw new FulcrumError('unknown_instrument', `no instrument ${quoteInput(symbol)}`, field);
    }
    return state;
  }

  /** The value of a position at its instrument's mark, numerator (funding not yet settled aside). */
  positionValue(symbol: string, position: Position): bigint {
    const state = this.instrument(symbol);
    return (
      position.size * state.mark * RATE_SCALE + position.quote - this.owedFunding(state, position)
    );
  }

  /** Funding a position owes since it last settled (negative: is owed), numerator. */
  owedFunding(state: InstrumentState, position: Position): bigint {
    return position.size * (state.funding - position.funding);
  }

  /** Equity and requirements of a sub-account in its mode. */
  margin(account: string, sub: SubAccount = this.sub(account)): LedgerMargin {
    let equity = sub.cash;
    let profit = 0n;
    let initial = 0n;
    let maintenance = 0n;
    for (const [symbol, position] of sub.positions) {
      const value = this.positionValue(symbol, position);
      equity += value;
      const state = this.instrument(symbol);
      // Unrealized profit of the position: its value less what its entry is worth.
      const unrealized = position.size * state.mark * RATE_SCALE + position.quote;
      if (unrealized > 0n) profit += unrealized;
      const requirement = standardRequirement(state, position.size);
      initial += requirement.initial;
      maintenance += requirement.maintenance;
    }
    if (
      sub.mode === 'portfolio' &&
      this.portfolioRequirement !== undefined &&
      sub.positions.size > 0
    ) {
      const scenario = this.portfolioRequirement(account, sub, this);
      initial = scenario.initial;
      maintenance = scenario.maintenance;
    }
    // Positive unrealized profit counts at a haircut, and at most a share of the cash.
    const counted = minBig(
      (profit * this.config.profitWeightPpm) / PPM,
      maxBig(0n, (sub.cash * this.config.profitCapPpm) / PPM),
    );
    const marginEquity = equity - profit + counted;
    return { equity, marginEquity, initial, maintenance };
  }

  /** Whether a sub-account is below maintenance (and holds a position). */
  liquidatable(account: string): boolean {
    const sub = this.sub(account);
    if (sub.positions.size === 0) return false;
    const m = this.margin(account, sub);
    return m.equity < m.maintenance;
  }

  // ---- handlers --------------------------------------------------------------------------

  private listInstrument(spec: InstrumentSpec, time: number): void {
    validateInstrument(spec);
    if (this.instruments.has(spec.symbol)) {
      throw new FulcrumError('already_listed', `${spec.symbol} is already listed`, 'symbol');
    }
    if (spec.kind !== 'perpetual' && spec.expiry <= time) {
      throw new FulcrumError(
        'invalid_config',
        `${spec.symbol}: expiry ${spec.expiry} is not after the listing time ${time}`,
        'expiry',
      );
    }
    if (this.instruments.size >= LEDGER_LIMITS.instruments) {
      throw new FulcrumError(
        'limit_exceeded',
        `the ledger lists at most ${LEDGER_LIMITS.instruments} instruments`,
        'symbol',
      );
    }
    const underlyings = this.underlyings();
    if (!underlyings.has(spec.underlying) && underlyings.size >= LEDGER_LIMITS.underlyings) {
      throw new FulcrumError(
        'limit_exceeded',
        `the ledger lists instruments on at most ${LEDGER_LIMITS.underlyings} underlyings`,
        'underlying',
      );
    }
    this.instruments.set(spec.symbol, {
      // A copy: what the ledger keeps cannot change behind it.
      spec: { ...spec },
      index: 0n,
      mark: 0n,
      funding: 0n,
      lastFunding: time,
      settled: false,
      settlementIndex: 0n,
      openInterest: 0n,
    });
  }

  /** The underlyings of the listed instruments. */
  underlyings(): Set<string> {
    const names = new Set<string>();
    for (const state of this.instruments.values()) names.add(state.spec.underlying);
    return names;
  }

  /**
   * Index prices per underlying, marks per instrument, volatilities per underlying: each name
   * must be listed and each value in range. The command's objects are read by their own entries
   * into maps, so that a name such as `valueOf` or `constructor` is a name and never a property
   * every object has.
   */
  private setPrices(command: Extract<LedgerCommand, { type: 'set-prices' }>): void {
    const underlyings = this.underlyings();
    const marks = new Map<string, bigint>();
    for (const [symbol, price] of ownEntries(command.marks, 'marks')) {
      const field = `marks.${fieldName(symbol)}`;
      this.instrument(symbol, field);
      marks.set(symbol, priceCheck(price, field, 0n));
    }
    const index = new Map<string, bigint>();
    for (const [underlying, price] of ownEntries(command.index, 'index')) {
      const field = `index.${fieldName(underlying)}`;
      if (!underlyings.has(underlying)) {
        throw new FulcrumError(
          'unknown_asset',
          `no instrument on ${quoteInput(underlying)}`,
          field,
        );
      }
      index.set(underlying, priceCheck(price, field, 1n));
    }
    for (const [underlying, vol] of ownEntries(command.volatility, 'volatility')) {
      const field = `volatility.${fieldName(underlying)}`;
      if (!underlyings.has(underlying)) {
        throw new FulcrumError(
          'unknown_asset',
          `no instrument on ${quoteInput(underlying)}`,
          field,
        );
      }
      if (!(typeof vol === 'number' && vol > 0 && vol <= 10)) {
        throw new FulcrumError(
          'invalid_number',
          'a volatility must be above 0 and at most 10',
          field,
        );
      }
      this.volatility.set(underlying, vol);
    }
    const time = command.time;
    for (const [symbol, state] of this.instruments) {
      const newIndex = index.get(state.spec.underlying);
      const nextIndex = newIndex ?? state.index;
      const nextMark = marks.get(symbol) ?? state.mark;
      // The first index at or after expiry is the settlement price; later ones do not move it.
      const expiring = state.spec.kind !== 'perpetual' && time >= state.spec.expiry;
      const settlementIndex =
        expiring && state.settlementIndex === 0n && newIndex !== undefined
          ? nextIndex
          : state.settlementIndex;
      this.instruments.set(symbol, {
        ...state,
        index: nextIndex,
        mark: nextMark,
        settlementIndex,
      });
    }
  }

  private trade(command: Extract<LedgerCommand, { type: 'trade' }>): void {
    const state = this.instrument(command.instrument);
    positive(command.size, 'size', LEDGER_LIMITS.sizeMax);
    priceCheck(command.price, 'price', 0n);
    if (state.settled) {
      throw new FulcrumError(
        'instrument_settled',
        `${command.instrument} has expired`,
        'instrument',
      );
    }
    if (state.mark === 0n) {
      throw new FulcrumError(
        'no_price',
        `${command.instrument} has no mark price yet`,
        'instrument',
      );
    }
    if (state.spec.kind !== 'perpetual' && this.time >= state.spec.expiry) {
      throw new FulcrumError(
        'instrument_expired',
        `${command.instrument} has reached its expiry: it only settles now`,
        'instrument',
      );
    }
    if (state.index === 0n) {
      throw new FulcrumError(
        'no_price',
        `${command.instrument}'s underlying has no index yet`,
        'instrument',
      );
    }
    if (command.buyer === command.seller) {
      throw new FulcrumError('same_account', 'buyer and seller must differ', 'seller');
    }
    const notional = command.size * command.price * RATE_SCALE;
    const buyer = this.withTrade(command.buyer, command.instrument, command.size, -notional);
    const seller = this.withTrade(command.seller, command.instrument, -command.size, notional);
    for (const [account, next] of [
      [command.buyer, buyer],
      [command.seller, seller],
    ] as const) {
      this.requireTradable(account, next, command.instrument, command.price);
    }
    this.accounts.set(command.buyer, buyer);
    this.accounts.set(command.seller, seller);
    this.updateOpenInterest(command.instrument);
  }

  /**
   * A sub-account after trading `size` (signed) for `quote` (signed numerator): funding settled
   * first, the position's quote moved, and the closed part's profit or loss realized into cash
   * in proportion to the size closed.
   */
  private withTrade(account: string, symbol: string, size: bigint, quote: bigint): SubAccount {
    const sub = this.sub(account);
    const state = this.instrument(symbol);
    if (sub.mode === 'isolated' && sub.positions.size > 0 && !sub.positions.has(symbol)) {
      throw new FulcrumError(
        'isolated_one_instrument',
        `${account} is isolated: it holds one instrument`,
        'instrument',
      );
    }
    const before = sub.positions.get(symbol) ?? { size: 0n, quote: 0n, funding: state.funding };
    const cash = sub.cash - this.owedFunding(state, before);
    const combined = { size: before.size + size, quote: before.quote + quote };
    let realized = 0n;
    let keptQuote = combined.quote;
    const reducing = before.size !== 0n && before.size > 0n !== size > 0n;
    if (reducing) {
      // What stays open keeps its share of the old quote (rounded toward zero); the rest of the
      // combined quote is the closed part's result. Nothing leaves the sub-account.
      const open =
        combined.size === 0n || combined.size > 0n !== before.size > 0n ? 0n : combined.size;
      const openQuote = (before.quote * open) / before.size;
      if (combined.size !== 0n && combined.size > 0n !== before.size > 0n) {
        // Flipped: the new position's quote is what was paid for the part beyond the old size.
        const beyond = combined.size;
        const flippedQuote = (quote * beyond) / size;
        realized = combined.quote - flippedQuote;
        keptQuote = flippedQuote;
      } else {
        realized = combined.quote - openQuote;
        keptQuote = openQuote;
      }
    }
    if (account !== FUND) this.checkPositionLimits(sub, symbol, before.size, combined.size);
    const positions = new Map(sub.positions);
    if (combined.size === 0n) positions.delete(symbol);
    else positions.set(symbol, { size: combined.size, quote: keptQuote, funding: state.funding });
    return {
      ...sub,
      cash: cash + realized,
      positions,
      realized: addRealized(sub, symbol, realized),
    };
  }

  /**
   * Refuses a trade that would open a position past the number a sub-account may hold, or take
   * a position past the largest size (a trade that shrinks one is always allowed).
   */
  private checkPositionLimits(sub: SubAccount, symbol: string, before: bigint, after: bigint) {
    if (
      before === 0n &&
      after !== 0n &&
      !sub.positions.has(symbol) &&
      sub.positions.size >= LEDGER_LIMITS.positionsPerSubAccount
    ) {
      throw new FulcrumError(
        'limit_exceeded',
        `a sub-account holds at most ${LEDGER_LIMITS.positionsPerSubAccount} positions`,
        'instrument',
      );
    }
    if (abs(after) > LEDGER_LIMITS.sizeMax && abs(after) > abs(before)) {
      throw new FulcrumError(
        'limit_exceeded',
        `a position is at most ${LEDGER_LIMITS.sizeMax / SIZE_UNIT} units`,
        'size',
      );
    }
  }

  private settleFunding(symbol: string, time: number): LedgerEvent {
    const state = this.instrument(symbol);
    const spec = state.spec;
    if (spec.kind !== 'perpetual') {
      throw new FulcrumError('not_perpetual', `${symbol} pays no funding`, 'instrument');
    }
    if (time < state.lastFunding + spec.fundingIntervalSeconds) {
      throw new FulcrumError(
        'funding_not_due',
        `${symbol}'s next funding is at ${state.lastFunding + spec.fundingIntervalSeconds}`,
        'time',
      );
    }
    if (state.index === 0n || state.mark === 0n) {
      throw new FulcrumError('no_price', `${symbol} has no index or mark yet`, 'instrument');
    }
    // The premium of mark over index, clamped, to 10^-12: longs pay it to shorts when positive.
    const clamp = BigInt(Math.round(spec.fundingClamp * 1e12));
    const premium = ((state.mark - state.index) * RATE_SCALE) / state.index;
    const rate = premium > clamp ? clamp : premium < -clamp ? -clamp : premium;
    // Every whole interval since the last payment is paid, at this rate: delaying the
    // command skips nothing.
    const intervals = BigInt(Math.floor((time - state.lastFunding) / spec.fundingIntervalSeconds));
    const perUnit = rate * state.index * intervals;
    this.instruments.set(symbol, {
      ...state,
      funding: state.funding + perUnit,
      lastFunding: state.lastFunding + Number(intervals) * spec.fundingIntervalSeconds,
    });
    // Settle every position at once (each pays size × perUnit; they sum to zero).
    const next = this.instrument(symbol);
    for (const [account, sub] of this.accounts) {
      const position = sub.positions.get(symbol);
      if (position === undefined) continue;
      const owed = this.owedFunding(next, position);
      const positions = new Map(sub.positions);
      positions.set(symbol, { ...position, funding: next.funding });
      this.accounts.set(account, { ...sub, cash: sub.cash - owed, positions });
    }
    return { type: 'funding', instrument: symbol, ratePpm: Number(rate) / 1e6, perUnit };
  }

  private expire(symbol: string, time: number): LedgerEvent {
    const state = this.instrument(symbol);
    const spec = state.spec;
    if (spec.kind === 'perpetual') {
      throw new FulcrumError('not_expiring', `${symbol} never expires`, 'instrument');
    }
    if (time < spec.expiry) {
      throw new FulcrumError('not_expired', `${symbol} expires at ${spec.expiry}`, 'time');
    }
    if (state.settled)
      throw new FulcrumError('instrument_settled', `${symbol} is settled`, 'instrument');
    const index = state.settlementIndex;
    if (index === 0n) {
      throw new FulcrumError(
        'no_price',
        `${symbol} has no index at or after its expiry yet`,
        'instrument',
      );
    }
    // Futures settle at the first index at or after expiry; options at their intrinsic value on it.
    const strike = spec.kind === 'option' ? BigInt(Math.round(spec.strike * 1e9)) * 10n ** 9n : 0n;
    const price =
      spec.kind === 'future'
        ? index
        : spec.right === 'call'
          ? maxBig(0n, index - strike)
          : maxBig(0n, strike - index);
    for (const [account, sub] of this.accounts) {
      const position = sub.positions.get(symbol);
      if (position === undefined) continue;
      const positions = new Map(sub.positions);
      positions.delete(symbol);
      const value = position.size * price * RATE_SCALE + position.quote;
      this.accounts.set(account, {
        ...sub,
        cash: sub.cash + value,
        positions,
        realized: addRealized(sub, symbol, value),
      });
    }
    this.instruments.set(symbol, { ...state, mark: price, settled: true, openInterest: 0n });
    return { type: 'settled', instrument: symbol, price };
  }

  /**
   * Closes every position of a sub-account below maintenance, or, for a solvent account whose
   * notional exceeds `partialAboveQuote`, a step of `partialSharePpm` of each (the next
   * `liquidate` takes the next step while the account stays below maintenance). The insurance
   * fund takes the positions over at their marks and a fee out of what equity is left; a negative equity (a
   * bankruptcy) the fund pays if it can. If it cannot, the positions are auto-deleveraged: they
   * are closed against the opposite positions of the most profitable, most leveraged accounts,
   * at the bankruptcy price (where the bankrupt account's equity is exactly zero), and the fund
   * is not touched.
   */
  private liquidate(account: string): LedgerEvent[] {
    if (account === FUND)
      throw new FulcrumError('reserved_account', 'the fund is not liquidated', 'account');
    const sub = this.sub(account);
    if (sub.positions.size === 0) {
      throw new FulcrumError('not_liquidatable', `${account} has no positions`, 'account');
    }
    const m = this.margin(account, sub);
    if (m.equity >= m.maintenance) {
      throw new FulcrumError('not_liquidatable', `${account} meets maintenance margin`, 'account');
    }
    const fund = this.sub(FUND);
    if (m.equity >= 0n || fund.cash >= -m.equity) {
      const closedPpm = this.liquidationShare(sub, m.equity);
      // The fund takes the positions (or the step's share of each) at their marks: each is a
      // trade at the mark.
      let notional = 0n;
      let target = sub;
      let taker = fund;
      for (const [symbol, position] of sub.positions) {
        const state = this.instrument(symbol);
        // A step's share rounds toward zero: the account keeps the odd size unit.
        const size = (position.size * closedPpm) / PPM;
        if (size === 0n) continue;
        const value = size * state.mark * RATE_SCALE;
        notional += value < 0n ? -value : value;
        this.accounts.set(account, target);
        this.accounts.set(FUND, taker);
        target = this.withTrade(account, symbol, -size, value);
        this.accounts.set(account, target);
        taker = this.withTrade(FUND, symbol, size, -value);
        this.accounts.set(FUND, taker);
      }
      // The fee on the notional closed, from what is left (a step never takes the account below
      // zero equity: at most its equity after the step); or the deficit from the fund.
      const feeDue = ceilDiv(notional * this.config.liquidationFeePpm, PPM);
      let fee: bigint;
      let fundPaid: bigint;
      if (closedPpm === PPM) {
        const left = target.cash;
        fee = left > 0n ? minBig(left, feeDue) : 0n;
        fundPaid = left < 0n ? -left : 0n;
      } else {
        this.accounts.set(account, target);
        fee = minBig(feeDue, maxBig(0n, this.margin(account, target).equity));
        fundPaid = 0n;
      }
      this.accounts.set(account, { ...target, cash: target.cash - fee + fundPaid });
      this.accounts.set(FUND, { ...taker, cash: taker.cash + fee - fundPaid });
      for (const symbol of sub.positions.keys()) this.updateOpenInterest(symbol);
      return [
        {
          type: 'liquidated',
          account,
          equity: m.equity,
          maintenance: m.maintenance,
          fee,
          fundPaid,
          closedPpm,
        },
      ];
    }
    return this.deleverage(account, sub, m.equity);
  }

  /**
   * The share of every position a liquidation closes (ppm): a step of `partialSharePpm` when the
   * account is solvent and its notional at the mark exceeds `partialAboveQuote` (and the step
   * closes something), the whole otherwise.
   */
  private liquidationShare(sub: SubAccount, equity: bigint): bigint {
    const { partialAboveQuote, partialSharePpm } = this.config;
    if (equity < 0n || partialSharePpm >= PPM || partialSharePpm <= 0n) return PPM;
    let notional = 0n;
    let stepCloses = false;
    for (const [symbol, position] of sub.positions) {
      notional += abs(position.size * this.instrument(symbol).mark * RATE_SCALE);
      if ((position.size * partialSharePpm) / PPM !== 0n) stepCloses = true;
    }
    return notional > partialAboveQuote * VALUE_UNIT && stepCloses ? partialSharePpm : PPM;
  }

  /**
   * Auto-deleveraging: each of the bankrupt account's positions is closed against opposite
   * positions, ranked by unrealized profit as a share of entry times leverage (profit share ×
   * notional / equity, highest first; ties by account name), at the bankruptcy price: the mark
   * moved against the bankrupt side by the deficit's share of that position's notional, so that
   * the account ends with exactly zero equity (to a numerator unit).
   */
  private deleverage(account: string, sub: SubAccount, equity: bigint): LedgerEvent[] {
    const events: LedgerEvent[] = [];
    const deficit = -equity;
    // Each position bears the deficit in proportion to its notional (to its size, when every
    // mark is zero).
    let total = 0n;
    let totalSize = 0n;
    for (const [symbol, position] of sub.positions) {
      total += abs(position.size * this.instrument(symbol).mark);
      totalSize += abs(position.size);
    }
    let target = sub;
    for (const [symbol, position] of sub.positions) {
      const state = this.instrument(symbol);
      // The deficit share of this position, numerator; per unit of size below.
      const share =
        total === 0n
          ? (deficit * abs(position.size)) / totalSize
          : (deficit * abs(position.size * state.mark)) / total;
      const perUnit = ceilDiv(share, abs(position.size));
      const markValue = state.mark * RATE_SCALE;
      // A bankrupt long sells above the mark, a bankrupt short buys below it: the counterparty,
      // closing its profitable opposite position there, gives up the deficit.
      const bankruptcyValue = position.size > 0n ? markValue + perUnit : markValue - perUnit;
      let remaining = abs(position.size);
      for (const counterparty of this.ranking(symbol, position.size > 0n ? -1n : 1n)) {
        if (remaining === 0n) break;
        const other = this.sub(counterparty).positions.get(symbol);
        if (other === undefined) continue;
        // A counterparty gives up at most its equity: closing at the bankruptcy price costs it
        // perUnit per size unit beyond the mark, and it is never left below zero.
        const equity = this.margin(counterparty).equity;
        const affordable = perUnit === 0n ? abs(other.size) : equity / perUnit;
        const size = minBig(minBig(remaining, abs(other.size)), affordable);
        if (size <= 0n) continue;
        const signed = position.size > 0n ? size : -size;
        // The bankrupt side closes `signed` at the bankruptcy value; the counterparty the reverse.
        this.accounts.set(account, target);
        target = this.withTrade(account, symbol, -signed, signed * bankruptcyValue);
        this.accounts.set(account, target);
        const next = this.withTrade(counterparty, symbol, signed, -signed * bankruptcyValue);
        this.accounts.set(counterparty, next);
        remaining -= size;
        events.push({
          type: 'deleveraged',
          account,
          counterparty,
          instrument: symbol,
          size: signed,
          price: bankruptcyValue / RATE_SCALE,
        });
      }
      if (remaining !== 0n) {
        throw new FulcrumError(
          'adl_failed',
          `the opposite positions of ${symbol} cannot absorb the deficit`,
          'account',
        );
      }
      this.updateOpenInterest(symbol);
    }
    this.accounts.set(account, target);
    return events;
  }

  /**
   * Accounts holding `side` (+1 long, −1 short) of an instrument, ranked for deleveraging: by
   * profit as a share of entry times leverage, (mark/entry − 1)·(notional/equity) for a long
   * (the reverse for a short), highest first; ties by name. A position at a loss ranks below
   * every position in profit. The fund is left out.
   */
  ranking(symbol: string, side: bigint): string[] {
    const state = this.instrument(symbol);
    const scored: { account: string; score: number }[] = [];
    for (const [account, sub] of this.accounts) {
      // The fund is not a counterparty: deleveraging is what happens when it cannot pay.
      if (account === FUND) continue;
      const position = sub.positions.get(symbol);
      if (position === undefined || (position.size > 0n ? 1n : -1n) !== side) continue;
      const entry = -Number(position.quote) / Number(position.size);
      const mark = Number(state.mark * RATE_SCALE);
      const profitShare = entry === 0 ? 0 : ((mark - entry) / entry) * (side > 0n ? 1 : -1);
      const m = this.margin(account, sub);
      const notional = Math.abs(Number(position.size) * mark);
      const leverage = m.equity > 0n ? notional / Number(m.equity) : Number.POSITIVE_INFINITY;
      scored.push({ account, score: profitShare * leverage });
    }
    scored.sort((a, b) => b.score - a.score || (a.account < b.account ? -1 : 1));
    return scored.map((s) => s.account);
  }

  private updateOpenInterest(symbol: string): void {
    const state = this.instrument(symbol);
    let longs = 0n;
    for (const sub of this.accounts.values()) {
      const p = sub.positions.get(symbol);
      if (p !== undefined && p.size > 0n) longs += p.size;
    }
    this.instruments.set(symbol, { ...state, openInterest: longs });
  }

  /**
   * After a withdrawal or transfer out: cash stays positive, and with positions open, the cash
   * and the unrealized losses (profit left out: it cannot be taken out before it is realized)
   * still meet initial margin.
   */
  private requireWithdrawable(account: string, next: SubAccount): void {
    if (account === FUND) {
      throw new FulcrumError('reserved_account', 'the fund only pays bankruptcies', 'from');
    }
    if (next.cash < 0n) {
      throw new FulcrumError('insufficient_balance', `${account} has not that much cash`, 'amount');
    }
    if (next.positions.size === 0) return;
    let losses = 0n;
    for (const [symbol, position] of next.positions) {
      const value = this.positionValue(symbol, position);
      if (value < 0n) losses += value;
    }
    if (next.cash + losses < this.margin(account, next).initial) {
      throw new FulcrumError(
        'insufficient_margin',
        `${account} would fall below initial margin`,
        'amount',
      );
    }
  }

  /**
   * After a trade: initial margin met, or the trade only reduced the position (no flip, no
   * growth) with a lower requirement and a surplus no worse than before, counted both on the
   * margin equity and on the full equity: reducing risk is always allowed, giving value away
   * below margin is not. The fund only unwinds what it took over, within 10% of the mark, and
   * never into negative cash.
   */
  private requireTradable(account: string, next: SubAccount, symbol: string, price: bigint): void {
    const before = this.sub(account);
    const was = before.positions.get(symbol)?.size ?? 0n;
    const now = next.positions.get(symbol)?.size ?? 0n;
    const reduces = was !== 0n && (now === 0n || (now > 0n === was > 0n && abs(now) < abs(was)));
    if (account === FUND) {
      const mark = this.instrument(symbol).mark;
      if (!reduces || abs(price - mark) * 10n > mark || next.cash < 0n) {
        throw new FulcrumError(
          'reserved_account',
          'the fund only unwinds the positions it took over, near the mark',
          'buyer',
        );
      }
      return;
    }
    const after = this.margin(account, next);
    if (after.marginEquity >= after.initial) return;
    const prior = this.margin(account, before);
    if (
      reduces &&
      after.initial < prior.initial &&
      after.marginEquity - after.initial >= prior.marginEquity - prior.initial &&
      after.equity - after.initial >= prior.equity - prior.initial
    ) {
      return;
    }
    throw new FulcrumError(
      'insufficient_margin',
      `${account} would fall below initial margin`,
      'size',
    );
  }
}

/**
 * The standard requirement of one position, numerator: futures and perpetuals a share of
 * notional at the mark; a short option Deribit's legacy form, initial max(0.15 − OTM share, 0.1)
 * of the index plus its mark and maintenance 0.075 of the index plus its mark; a long option its
 * own value (it is paid in full: its value, counted in the equity, is required back). Every share
 * of notional or index goes through the instrument's size premium ({@link sizeAdjusted}); ratios
 * are rounded up.
 */
export function standardRequirement(
  state: InstrumentState,
  size: bigint,
): { initial: bigint; maintenance: bigint } {
  const spec = state.spec;
  const units = Number(size < 0n ? -size : size) / Number(SIZE_UNIT);
  const absSize = size < 0n ? -size : size;
  if (spec.kind === 'option') {
    // A long option is paid in full: its value counts in equity and is required back, so it
    // lends no margin and needs none beyond its premium.
    if (size >= 0n) {
      const value = size * state.mark * RATE_SCALE;
      return { initial: value, maintenance: value };
    }
    const index = Number(state.index) / Number(PRICE_SCALE);
    const otm =
      index === 0
        ? 0
        : Math.max(0, spec.right === 'call' ? spec.strike - index : index - spec.strike) / index;
    // The size premium grows both shares with √size, as for futures: a large short option
    // book cannot carry the ratio of a small one.
    const initialRatio = ppmUp(sizeAdjusted(Math.max(0.15 - otm, 0.1), spec.sizePremium, units));
    const maintenanceRatio = ppmUp(sizeAdjusted(0.075, spec.sizePremium, units));
    const indexValue = absSize * state.index * RATE_SCALE;
    const markValue = absSize * state.mark * RATE_SCALE;
    return {
      initial: ceilDiv(indexValue * initialRatio, PPM) + markValue,
      maintenance: ceilDiv(indexValue * maintenanceRatio, PPM) + markValue,
    };
  }
  const notional = absSize * state.mark * RATE_SCALE;
  const initialRatio = ppmUp(sizeAdjusted(spec.initialMargin, spec.sizePremium, units));
  const maintenanceRatio = ppmUp(sizeAdjusted(spec.maintenanceMargin, spec.sizePremium, units));
  return {
    initial: ceilDiv(notional * initialRatio, PPM),
    maintenance: ceilDiv(notional * maintenanceRatio, PPM),
  };
}

function addRealized(sub: SubAccount, symbol: string, amount: bigint): ReadonlyMap<string, bigint> {
  if (amount === 0n) return sub.realized;
  const realized = new Map(sub.realized);
  realized.set(symbol, (realized.get(symbol) ?? 0n) + amount);
  return realized;
}

/** A ratio as parts per million, rounded up (the venue's side). */
function ppmUp(ratio: number): bigint {
  return BigInt(Math.ceil(ratio * 1e6 - 1e-9));
}

function ceilDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return q * b === a || a < 0n ? q : q + 1n;
}

function positive(amount: bigint, field: string, max: bigint): void {
  if (typeof amount !== 'bigint' || amount <= 0n || amount > max) {
    throw new FulcrumError(
      'invalid_number',
      `${field} must be a whole number of base units from 1 to ${max}`,
      field,
    );
  }
}

/** A price (PRICE_SCALE) from `min` to the price limit, or `invalid_number`. */
function priceCheck(price: unknown, field: string, min: bigint): bigint {
  if (typeof price !== 'bigint' || price < min || price > LEDGER_LIMITS.priceMax) {
    throw new FulcrumError(
      'invalid_number',
      `${field} must be a price ${min === 0n ? 'of at least 0' : 'above 0'} and at most ${LEDGER_LIMITS.priceMax / PRICE_SCALE}`,
      field,
    );
  }
  return price;
}

/**
 * The own entries of a command's name-to-value object (none when absent): never a property
 * every object inherits. Anything but a plain object is refused.
 */
function ownEntries(record: object | undefined, field: string): [string, unknown][] {
  if (record === undefined) return [];
  if (typeof record !== 'object' || record === null || Array.isArray(record)) {
    throw new FulcrumError('invalid_field', `${field} must be an object of names to values`, field);
  }
  return Object.entries(record);
}

function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

function maxBig(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

function abs(a: bigint): bigint {
  return a < 0n ? -a : a;
}

/**
 * The portfolio mode's requirement for a ledger: the scenario margin of the sub-account's
 * positions at the ledger's index prices and the given volatility surfaces, rounded up to a
 * numerator unit. `margin` is the scenario evaluation (`portfolioMargin` from
 * `portfolioMargin.ts`), passed in so that the exact ledger stays free of the float analytics.
 */
export function scenarioRequirement(
  margin: (
    positions: readonly { instrument: InstrumentSpec; size: number }[],
    indices: ReadonlyMap<string, number>,
    time: number,
  ) => { initial: number; maintenance: number },
): PortfolioRequirement {
  return (_account, sub, ledger) => {
    const positions: { instrument: InstrumentSpec; size: number }[] = [];
    const indices = new Map<string, number>();
    for (const [symbol, position] of sub.positions) {
      const state = ledger.instrument(symbol);
      positions.push({ instrument: state.spec, size: Number(position.size) / Number(SIZE_UNIT) });
      indices.set(state.spec.underlying, Number(state.index) / Number(PRICE_SCALE));
    }
    const result = margin(positions, indices, ledger.time);
    const toNumerator = (x: number) => BigInt(Math.ceil(x * 1e6)) * CASH_UNIT;
    return { initial: toNumerator(result.initial), maintenance: toNumerator(result.maintenance) };
  };
}
