/**
 * Derivatives commands on a draft: listing an instrument, its mark (set or quoted through the
 * oracle, with the settlement price of a dated instrument captured from its underlying), fills
 * from the venue's matching engine, funding, expiry, a sub-account's margin mode, and settling
 * profit into the pools. Positions live in the same sub-accounts as pool balances, under one
 * health (docs/MARGIN.md).
 */
import { FulcrumError } from '../base/errors.js';
import { LIMITS } from '../domain/limits.js';
import { gradeAllows } from '../domain/priceGrade.js';
import {
  applyFill,
  type DerivativePosition,
  RATE_SCALE,
  settlementValue,
} from '../derivatives/position.js';
import { settlementPrice } from '../derivatives/requirement.js';
import { WEIGHT_SCALE } from '../math/fixed.js';
import {
  breakerFrozen,
  gradeAt,
  initialOracleState,
  type OracleState,
  type OracleUpdate,
  takeQuote,
} from '../oracle/oracle.js';
import type { OracleConfig } from '../domain/oracleConfig.js';
import type {
  ExpireCommand,
  ListInstrumentCommand,
  QuoteCommand,
  SetModeCommand,
  SetVolatilityCommand,
  SetPriceCommand,
  SettleFundingCommand,
  SettlePnlCommand,
  TradeCommand,
} from './commands.js';
import { Draft } from './draft.js';
import { accountName } from './lending.js';
import { baseUnitValue, settle, settleAll, settlementAsset } from './settlement.js';
import {
  type DerivativesBook,
  INSURANCE_ACCOUNT,
  type InstrumentState,
  type SubAccountRef,
  VENUE_ACCOUNT,
} from './state.js';

const EMPTY_BOOK: DerivativesBook = { mode: 'cross', positions: [], unsettled: 0n };
const VENUE: SubAccountRef = { account: VENUE_ACCOUNT, subAccount: 0 };
/** The most negative size a position may reach. */
const SIZE_MIN = -LIMITS.sizeMax;

export function listInstrument(draft: Draft, command: ListInstrumentCommand): void {
  const { config, price } = command;
  const { spec } = config;
  if (draft.lookupInstrument(spec.symbol) !== undefined) {
    throw new FulcrumError('already_listed', `${spec.symbol} is already listed`, 'config.symbol');
  }
  if (draft.base.assetIndex.has(spec.symbol)) {
    throw new FulcrumError(
      'asset_already_listed',
      `${spec.symbol} is an asset: assets and instruments share their symbols`,
      'config.symbol',
    );
  }
  const index = draft.instrumentCount;
  if (index >= LIMITS.instruments) {
    throw new FulcrumError(
      'limit_exceeded',
      `at most ${LIMITS.instruments} instruments can be listed`,
      'config.symbol',
    );
  }
  const underlying = draft.findAsset(spec.underlying, 'config.underlying');
  if (spec.kind !== 'perpetual' && spec.expiry <= draft.time) {
    throw new FulcrumError(
      'invalid_config',
      `${spec.symbol}: expiry ${spec.expiry} is not after the listing time ${draft.time}`,
      'config.expiry',
    );
  }
  draft.setInstrument({
    index,
    listing: config,
    underlying: underlying.index,
    mark: price,
    oracle: config.oracle === null ? null : initialOracleState(price, draft.time, config.oracle),
    fundingIndex: 0n,
    fundingAt: draft.time,
    openInterest: 0n,
    settlementPrice: null,
    settled: false,
  });
  draft.emit({
    type: 'instrument-listed',
    instrument: spec.symbol,
    underlying: spec.underlying,
    kind: spec.kind,
    price,
  });
}

/** `set-price` on an instrument listed without an oracle: its mark. */
export function setInstrumentPrice(
  draft: Draft,
  instrument: InstrumentState,
  command: SetPriceCommand,
): void {
  const symbol = instrument.listing.spec.symbol;
  if (instrument.oracle !== null) {
    throw new FulcrumError(
      'oracle_managed',
      `${symbol}'s mark comes from its oracle: send quotes from its sources`,
      'asset',
    );
  }
  if (command.stablePrice !== undefined) {
    throw new FulcrumError('invalid_field', 'an instrument has no stable price', 'stablePrice');
  }
  draft.setInstrument(withMarkAndInterest(instrument, command.price, instrument.openInterest));
  draft.emit({
    type: 'price-set',
    asset: symbol,
    price: command.price,
    stablePrice: command.price,
  });
}

/** `quote` on an instrument listed with an oracle: one source's mark, aggregated. */
export function quoteInstrument(
  draft: Draft,
  instrument: InstrumentState,
  command: QuoteCommand,
): void {
  const symbol = instrument.listing.spec.symbol;
  const config = instrument.listing.oracle;
  if (instrument.oracle === null || config === null) {
    throw new FulcrumError('no_oracle', `${symbol} has no oracle: set its mark`, 'asset');
  }
  const update = takeQuote(
    instrument.oracle,
    {
      source: command.source,
      price: command.price,
      confidence: command.confidence ?? null,
      observedAt: command.observedAt ?? command.time,
    },
    draft.time,
    config,
  );
  const next = update.state;
  draft.setInstrument({ ...instrument, oracle: next, mark: next.price });
  emitOracleUpdate(draft, symbol, update);
}

/** The events of an oracle's update: the aggregated price, then each breaker change. */
export function emitOracleUpdate(draft: Draft, symbol: string, update: OracleUpdate): void {
  const next = update.state;
  draft.emit({
    type: 'price-aggregated',
    asset: symbol,
    grade: update.aggregation.grade,
    price: next.price,
    stablePrice: next.stablePrice,
    sources: update.aggregation.used,
    rejected: update.aggregation.rejected,
    frozen: update.aggregation.frozen,
  });
  for (const change of update.breaker) {
    draft.emit(
      change.kind === 'tripped'
        ? { type: 'breaker-tripped', asset: symbol, fromPrice: change.from, toPrice: change.to }
        : { type: 'breaker-reset', asset: symbol },
    );
  }
}

/**
 * After an asset's price moved at the command's time: a dated instrument on it that has reached
 * its expiry takes this price (its first at or after expiry) as its settlement price.
 */
export function captureSettlement(draft: Draft, assetIndex: number): void {
  const instruments = draft.base.instrumentsByAsset.get(assetIndex);
  if (instruments === undefined) return;
  const price = draft.asset(assetIndex).risk.oraclePrice;
  for (const index of instruments) {
    const instrument = draft.instrument(index);
    const { spec } = instrument.listing;
    if (spec.kind === 'perpetual' || instrument.settlementPrice !== null) continue;
    if (draft.time < spec.expiry) continue;
    draft.setInstrument({ ...instrument, settlementPrice: settlementPrice(spec, price) });
  }
}

/**
 * A fill: the buyer buys `size` from the seller at `price`. Checked: the instrument trades (not
 * settled, not past expiry, a mark), the price within the venue's band of the mark, and after the
 * fill each side meets initial margin, or reduced its position without lowering its initial
 * free collateral (reducing risk is always allowed).
 */
export function trade(draft: Draft, command: TradeCommand): void {
  const instrument = draft.findInstrument(command.instrument, 'instrument');
  const { spec } = instrument.listing;
  if (instrument.settled || (spec.kind !== 'perpetual' && draft.time >= spec.expiry)) {
    throw new FulcrumError(
      'instrument_expired',
      `${spec.symbol} has reached its expiry: it only settles`,
      'instrument',
    );
  }
  const { buyer, seller } = command;
  if (buyer.account === seller.account && buyer.subAccount === seller.subAccount) {
    throw new FulcrumError('same_account', 'buyer and seller must differ', 'seller');
  }
  const band = (instrument.mark * draft.venueConfig.tradeBand) / WEIGHT_SCALE;
  const distance =
    command.price > instrument.mark
      ? command.price - instrument.mark
      : instrument.mark - command.price;
  if (distance > band) {
    throw new FulcrumError(
      'price_out_of_band',
      `${spec.symbol} fills within ${formatShare(draft.venueConfig.tradeBand)} of its mark ${instrument.mark}: ${command.price} is outside`,
      'price',
    );
  }
  const settlement = settlementAsset(draft, 'instrument');
  const unit = baseUnitValue(settlement.config.decimals);
  const quote = command.size * command.price * RATE_SCALE;
  const buyerFill = fill(draft, buyer, instrument, command.size, -quote, 'buyer');
  const sellerFill = fill(
    draft,
    seller,
    draft.instrument(instrument.index),
    -command.size,
    quote,
    'seller',
  );
  const buyerFee = command.buyerFee ?? 0n;
  const sellerFee = command.sellerFee ?? 0n;
  if (buyerFee > 0n) addUnsettled(draft, buyer, -buyerFee * unit);
  if (sellerFee > 0n) addUnsettled(draft, seller, -sellerFee * unit);
  const feeTotal = buyerFee + sellerFee;
  if (feeTotal > 0n) addUnsettled(draft, VENUE, feeTotal * unit);
  const current = draft.instrument(instrument.index);
  const openInterest =
    current.openInterest +
    long(buyerFill.after) -
    long(buyerFill.before) +
    long(sellerFill.after) -
    long(sellerFill.before);
  draft.setInstrument(withMarkAndInterest(current, current.mark, openInterest));
  settleAll(draft, feeTotal > 0n ? [buyer, seller, VENUE] : [buyer, seller]);
  requireTradeMargin(draft, buyer, buyerFill, 'buyer');
  requireTradeMargin(draft, seller, sellerFill, 'seller');
  draft.emit({
    type: 'traded',
    instrument: spec.symbol,
    buyer: { account: buyer.account, subAccount: buyer.subAccount },
    seller: { account: seller.account, subAccount: seller.subAccount },
    size: command.size,
    price: command.price,
    buyerRealizedValue: buyerFill.realized,
    sellerRealizedValue: sellerFill.realized,
    buyerFee,
    sellerFee,
    feeDecimals: settlement.config.decimals,
  });
}

/** What a fill did to one side: its size before and after, and the profit it realized. */
interface SideFill {
  readonly before: bigint;
  readonly after: bigint;
  readonly realized: bigint;
}

/** Books a fill of `size` for `quote` on `ref`'s position; the realized profit goes unsettled. */
export function fill(
  draft: Draft,
  ref: SubAccountRef,
  instrument: InstrumentState,
  size: bigint,
  quote: bigint,
  field: string,
): SideFill {
  const sub = draft.subAccount(ref);
  const book = sub.derivatives ?? EMPTY_BOOK;
  let held: DerivativePosition | null = null;
  let others = false;
  for (const p of book.positions) {
    if (p.instrument === instrument.index) held = p;
    else others = true;
  }
  if (book.mode === 'isolated' && others) {
    throw new FulcrumError(
      'isolated_one_instrument',
      `${accountName(ref)} is isolated: it holds one instrument`,
      'instrument',
    );
  }
  const result = applyFill(held, instrument.index, size, quote, instrument.fundingIndex);
  const before = held?.size ?? 0n;
  const after = result.position?.size ?? 0n;
  const system = ref.account === INSURANCE_ACCOUNT;
  if (!system) {
    if (held === null && book.positions.length >= LIMITS.derivativesPerSubAccount) {
      throw new FulcrumError(
        'limit_exceeded',
        `a sub-account holds at most ${LIMITS.derivativesPerSubAccount} derivatives positions`,
        field,
      );
    }
    if ((after > LIMITS.sizeMax || after < SIZE_MIN) && abs(after) > abs(before)) {
      throw new FulcrumError('limit_exceeded', `a position is at most 10^12 units`, 'size');
    }
  }
  const positions = withPosition(book.positions, instrument.index, result.position);
  // Literals rather than spreads: the sub-account and its book have these fields and no others.
  draft.setSubAccount(ref, {
    number: sub.number,
    positions: sub.positions,
    derivatives: {
      mode: book.mode,
      positions,
      unsettled: book.unsettled + result.realized,
    },
  });
  return { before, after, realized: result.realized };
}

/** The positions with `instrument`'s replaced (null: removed), kept sorted by instrument. */
function withPosition(
  positions: readonly DerivativePosition[],
  instrument: number,
  position: DerivativePosition | null,
): DerivativePosition[] {
  const out: DerivativePosition[] = [];
  let placed = position === null;
  for (const p of positions) {
    if (!placed && p.instrument > instrument) {
      out.push(position as DerivativePosition);
      placed = true;
    }
    if (p.instrument !== instrument) out.push(p);
  }
  if (!placed) out.push(position as DerivativePosition);
  return out;
}

/** Adds `value` (numerator) to `ref`'s unsettled profit. */
export function addUnsettled(draft: Draft, ref: SubAccountRef, value: bigint): void {
  const sub = draft.subAccount(ref);
  const book = sub.derivatives ?? EMPTY_BOOK;
  draft.setSubAccount(ref, {
    number: sub.number,
    positions: sub.positions,
    derivatives: { mode: book.mode, positions: book.positions, unsettled: book.unsettled + value },
  });
}

/**
 * After a fill: the side meets initial margin, or its position only shrank and its initial free
 * collateral did not fall. The insurance fund only unwinds (shrinks) what it took over. Its new
 * risk rests on prices: every price of the sub-account must allow new risk, unless it shrank.
 */
function requireTradeMargin(draft: Draft, ref: SubAccountRef, side: SideFill, field: string): void {
  const reduced =
    side.before !== 0n &&
    (side.after === 0n ||
      (side.after > 0n === side.before > 0n && abs(side.after) < abs(side.before)));
  if (ref.account === INSURANCE_ACCOUNT && !reduced) {
    throw new FulcrumError(
      'reserved_account',
      'the insurance fund only unwinds the positions it took over',
      field,
    );
  }
  if (!reduced) requireDerivativePrices(draft, ref, 'newRisk', field);
  if (draft.meets(ref, 'initial')) return;
  // Only a reduction below initial margin needs the sub-account as it was: read from the state,
  // which the draft has not changed.
  if (reduced) {
    const before = new Draft(draft.base, draft.time).health(ref).freeNum('initial');
    if (draft.health(ref).freeNum('initial') >= before) return;
  }
  throw new FulcrumError(
    'insufficient_collateral',
    `${accountName(ref)} would fall below initial margin`,
    field,
  );
}

/**
 * Prices a sub-account's positions rest on: each instrument's mark (when it has an oracle) and
 * each underlying's price must have a grade that allows `action`, and, for new risk, no tripped
 * circuit breaker.
 */
export function requireDerivativePrices(
  draft: Draft,
  ref: SubAccountRef,
  action: 'newRisk' | 'liquidate',
  field: string,
): void {
  const book = draft.subAccount(ref).derivatives;
  if (book === undefined) return;
  for (const position of book.positions) {
    const instrument = draft.instrument(position.instrument);
    const underlying = draft.asset(instrument.underlying);
    // The instrument's mark, then its underlying's price; a feed without an oracle is set directly.
    if (instrument.oracle !== null && instrument.listing.oracle !== null) {
      const { symbol } = instrument.listing.spec;
      requireFeed(draft, symbol, instrument.oracle, instrument.listing.oracle, action, field);
    }
    if (underlying.oracle !== null && underlying.config.oracle !== null) {
      const { symbol } = underlying.config;
      requireFeed(draft, symbol, underlying.oracle, underlying.config.oracle, action, field);
    }
  }
}

/** One price feed of {@link requireDerivativePrices}: its grade, and for new risk its breaker. */
function requireFeed(
  draft: Draft,
  name: string,
  oracle: OracleState,
  config: OracleConfig,
  action: 'newRisk' | 'liquidate',
  field: string,
): void {
  const grade = gradeAt(oracle, draft.time);
  if (!gradeAllows(config.policy, grade, action)) {
    throw new FulcrumError(
      'price_unusable',
      `${name}'s price is ${grade}: ${action === 'newRisk' ? 'new risk needs a valid price' : 'no liquidation on it'}`,
      field,
    );
  }
  if (action === 'newRisk' && breakerFrozen(oracle, draft.time, config)) {
    throw new FulcrumError(
      'circuit_breaker',
      `${name}'s circuit breaker tripped at ${oracle.trippedAt}: new risk is frozen`,
      field,
    );
  }
}

/**
 * Funding for every whole interval since it was last paid: the premium of mark over index,
 * clamped, per interval, paid by longs to shorts when positive. It raises the instrument's
 * cumulative funding; each position owes its share from then on, settled when it is next filled
 * (and counted in health until then): one step, however many hold it.
 */
export function settleFunding(draft: Draft, command: SettleFundingCommand): void {
  const instrument = draft.findInstrument(command.instrument, 'instrument');
  const { spec } = instrument.listing;
  if (spec.kind !== 'perpetual') {
    throw new FulcrumError('not_perpetual', `${spec.symbol} pays no funding`, 'instrument');
  }
  const due = instrument.fundingAt + spec.fundingIntervalSeconds;
  if (draft.time < due) {
    throw new FulcrumError('funding_not_due', `${spec.symbol}'s next funding is at ${due}`, 'time');
  }
  const underlying = draft.asset(instrument.underlying);
  const index = underlying.risk.oraclePrice;
  for (const [name, oracle, config] of [
    [spec.symbol, instrument.oracle, instrument.listing.oracle],
    [underlying.config.symbol, underlying.oracle, underlying.config.oracle],
  ] as const) {
    if (oracle === null || config === null) continue;
    const grade = gradeAt(oracle, draft.time);
    if (!gradeAllows(config.policy, grade, 'liquidate')) {
      throw new FulcrumError(
        'price_unusable',
        `${name}'s price is ${grade}: no funding on it`,
        'instrument',
      );
    }
  }
  const clamp = BigInt(Math.round(spec.fundingClamp * 1e12));
  const premium = ((instrument.mark - index) * RATE_SCALE) / index;
  const rate = premium > clamp ? clamp : premium < -clamp ? -clamp : premium;
  const intervals = Math.floor((draft.time - instrument.fundingAt) / spec.fundingIntervalSeconds);
  const perUnit = rate * index * BigInt(intervals);
  draft.setInstrument({
    ...instrument,
    fundingIndex: instrument.fundingIndex + perUnit,
    fundingAt: instrument.fundingAt + intervals * spec.fundingIntervalSeconds,
  });
  draft.emit({
    type: 'funding-paid',
    instrument: spec.symbol,
    rate,
    intervals,
    perUnitValue: perUnit,
  });
}

/**
 * Settles every position of a dated instrument that reached its expiry at its settlement price
 * (the underlying's first price at or after expiry): each position's value goes to its
 * sub-account's unsettled profit and settles, losses first, in the order of account names, so
 * that profits are paid from what the losses brought.
 */
export function expire(draft: Draft, command: ExpireCommand): void {
  const instrument = draft.findInstrument(command.instrument, 'instrument');
  const { spec } = instrument.listing;
  if (spec.kind === 'perpetual') {
    throw new FulcrumError('not_expiring', `${spec.symbol} never expires`, 'instrument');
  }
  if (draft.time < spec.expiry) {
    throw new FulcrumError('not_expired', `${spec.symbol} expires at ${spec.expiry}`, 'time');
  }
  if (instrument.settled) {
    throw new FulcrumError('instrument_settled', `${spec.symbol} is settled`, 'instrument');
  }
  const price = instrument.settlementPrice;
  if (price === null) {
    throw new FulcrumError(
      'no_price',
      `${spec.symbol} has no price of ${spec.underlying} at or after its expiry yet`,
      'instrument',
    );
  }
  const holders: { ref: SubAccountRef; value: bigint }[] = [];
  for (const id of [...draft.base.accounts.keys()].sort()) {
    for (const sub of draft.base.accounts.get(id)?.subAccounts ?? []) {
      const position = sub.derivatives?.positions.find((p) => p.instrument === instrument.index);
      if (position === undefined) continue;
      holders.push({
        ref: { account: id, subAccount: sub.number },
        value: settlementValue(position, price),
      });
    }
  }
  for (const { ref } of holders) closeForSettlement(draft, ref, instrument.index, price);
  for (const pass of [true, false]) {
    for (const { ref, value } of holders) if (value < 0n === pass) settle(draft, ref);
  }
  draft.setInstrument({
    ...draft.instrument(instrument.index),
    mark: price,
    settled: true,
    openInterest: 0n,
  });
  draft.emit({
    type: 'instrument-expired',
    instrument: spec.symbol,
    price,
    positions: holders.length,
  });
}

function closeForSettlement(draft: Draft, ref: SubAccountRef, index: number, price: bigint): void {
  const sub = draft.subAccount(ref);
  const book = sub.derivatives as DerivativesBook;
  const position = book.positions.find((p) => p.instrument === index) as DerivativePosition;
  draft.setSubAccount(ref, {
    ...sub,
    derivatives: {
      ...book,
      positions: book.positions.filter((p) => p.instrument !== index),
      unsettled: book.unsettled + settlementValue(position, price),
    },
  });
}

/** A sub-account's margin mode, only while it holds no position. */
export function setMode(draft: Draft, command: SetModeCommand): void {
  if (command.account === INSURANCE_ACCOUNT) {
    throw new FulcrumError('reserved_account', 'the insurance fund keeps cross margin', 'account');
  }
  const sub = draft.subAccount(command);
  const book = sub.derivatives ?? EMPTY_BOOK;
  if (book.positions.length > 0) {
    throw new FulcrumError(
      'has_positions',
      `${accountName(command)} holds positions: the margin mode changes only without them`,
      'mode',
    );
  }
  draft.setSubAccount(command, { ...sub, derivatives: { ...book, mode: command.mode } });
  draft.emit({
    type: 'mode-set',
    account: command.account,
    subAccount: command.subAccount,
    mode: command.mode,
  });
}

/** Settles a sub-account's unsettled profit as far as the reserve holds (losses in full). */
export function settlePnl(draft: Draft, command: SettlePnlCommand): void {
  const book = draft.subAccount(command).derivatives;
  if (book === undefined || book.unsettled === 0n) {
    throw new FulcrumError('no_pnl', `${accountName(command)} has nothing to settle`, 'account');
  }
  const { amount } = settle(draft, command);
  if (amount === 0n) {
    throw new FulcrumError(
      'no_pnl',
      `${accountName(command)}'s profit waits: the settlement reserve holds nothing to pay it`,
      'account',
    );
  }
}

/**
 * The instrument with its mark and open interest replaced: a literal in the fields' order, not a
 * spread (a fill and a mark each make one; the spread's generic copy cost a tenth of a fill).
 */
function withMarkAndInterest(
  instrument: InstrumentState,
  mark: bigint,
  openInterest: bigint,
): InstrumentState {
  return {
    index: instrument.index,
    listing: instrument.listing,
    underlying: instrument.underlying,
    mark,
    oracle: instrument.oracle,
    fundingIndex: instrument.fundingIndex,
    fundingAt: instrument.fundingAt,
    openInterest,
    settlementPrice: instrument.settlementPrice,
    settled: instrument.settled,
  };
}

/** The long side of a signed size: the size when long, else 0. */
function long(size: bigint): bigint {
  return size > 0n ? size : 0n;
}

function abs(x: bigint): bigint {
  return x < 0n ? -x : x;
}

function formatShare(ppm: bigint): string {
  return `${Number(ppm) / 1e4}%`;
}

/** `set-volatility`: an asset's volatility, which portfolio margin's option scenarios read. */
export function setVolatility(draft: Draft, command: SetVolatilityCommand): void {
  const asset = draft.findAsset(command.asset, 'asset');
  draft.setVolatility(asset.index, command.volatility);
  draft.emit({
    type: 'volatility-set',
    asset: asset.config.symbol,
    volatilityPpm: command.volatility,
  });
}
