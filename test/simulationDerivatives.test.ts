/**
 * Seeded random simulation of the one margin account: the engine against the independent
 * reference model of `test/reference/derivativesModel.ts` (pools, positions, settlement, health).
 *
 * Each seed builds a market: USDC (the settlement asset) and ETH pools, BTC listed mid-stream,
 * an ETH perpetual without size premium, one with it (and its own profit weight), a dated ETH
 * future expiring mid-run, a BTC perpetual and a second future listed later; 5-7 traders with
 * 1-2 sub-accounts (some isolated) and a lender. Then a stream of JSON commands biased toward
 * edges: fills of 1 size unit, of exactly the largest size the model accepts and one more, fills
 * that close or flip a position, prices at the band's edge and one wei past it, marks and
 * indexes moving (crashes included, so that losses run past deposits into borrows), funding,
 * expiry, settle-pnl, withdrawals and borrows against profit and loss, fees, the venue's own
 * accounts, malformed inputs, time going backwards. Both sides receive the same JSON.
 *
 * After every command: same acceptance and error code; same pools, rates, prices and scaled
 * balances; same instruments (mark, funding, open interest, settlement); same positions (size,
 * quote, funding), mode and unsettled profit per sub-account; the same health numerators in the
 * three tiers for every sub-account; the state hash unchanged on a refusal (engine side); the
 * model's own conservation and the engine's pool bookkeeping.
 *
 * Replay one seed: `SIM_SEEDS=7 npx vitest run test/simulationDerivatives.test.ts` (also
 * `SIM_COMMANDS`). A failure names the seed and the command index.
 */
import { describe, expect, it } from 'vitest';
import { Draft } from '../src/engine/draft.js';
import { canonicalState, Engine, type EngineState, type Tier } from '../src/index.js';
import { SeededRandom } from '../src/math/random.js';
import { poolRates } from '../src/pools/pool.js';
import {
  DerivativesModel,
  type ModelPool,
  type ModelPosition,
  RAY,
  type Ref,
  SIZE_UNIT,
  VALUE_ONE,
} from './reference/derivativesModel.js';

type Json = Record<string, unknown>;

const DEFAULT_SEEDS = [101, 2027, 4409, 7919, 31337, 90001];
const SEEDS = (process.env.SIM_SEEDS ?? '')
  .split(',')
  .filter((s) => s.trim() !== '')
  .map(Number);
const COMMANDS = Number(process.env.SIM_COMMANDS ?? 2500);
/** Every sub-account's health is compared after every command; `SIM_HEALTH_EVERY` thins it. */
const HEALTH_EVERY = Number(process.env.SIM_HEALTH_EVERY ?? 1);

const PRICE_ONE = 10n ** 18n;
const DAY = 86_400;
const LARGEST_SIZE = 10n ** 20n;

function formatUnits(value: bigint, decimals: number): string {
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(decimals + 1, '0');
  const whole = digits.slice(0, digits.length - decimals);
  const fraction = digits.slice(digits.length - decimals).replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${fraction === '' ? '' : `.${fraction}`}`;
}

const price = (value: bigint) => formatUnits(value, 18);
const sizeText = (value: bigint) => formatUnits(value, 8);

/** `value` × (1 + ppm / 10^6), at least 1 wei. */
function moved(value: bigint, ppm: number): bigint {
  const next = (value * BigInt(1_000_000 + ppm)) / 1_000_000n;
  return next > 0n ? next : 1n;
}

// ---- the market ----------------------------------------------------------------------------

interface Listing {
  readonly command: Json;
  /** Command index at which it is listed (0: in the opening). */
  readonly at: number;
}

interface Scenario {
  readonly opening: readonly Json[];
  readonly later: readonly Listing[];
  readonly traders: readonly Ref[];
  readonly lender: Ref;
}

const NAMES = ['ann', 'bob', 'cat', 'dan', 'eve', 'desk-7.a:b@c_d', 'gus'];

function assetListing(
  rng: SeededRandom,
  symbol: string,
  decimals: number,
  initial: string,
  maintenance: string,
): Json {
  const config: Json = {
    symbol,
    decimals,
    initialWeight: initial,
    maintenanceWeight: maintenance,
    initialLiabilityWeight: rng.pick(['1', '1.1', '1.25']),
    maintenanceLiabilityWeight: '1',
    reserveFactor: rng.pick(['0', '0.1', '0.25']),
    interest: {
      baseRate: rng.pick(['0', '0.01', '0.05']),
      slope1: rng.pick(['0.04', '0.2']),
      slope2: rng.pick(['0.5', '3']),
      optimalUtilization: rng.pick(['0.5', '0.8', '0.9']),
    },
  };
  return config;
}

function scenario(rng: SeededRandom, start: number, commands: number): Scenario {
  const eth = BigInt(rng.integer(1500, 3500)) * PRICE_ONE;
  const usdcWeight = rng.pick([
    ['0.9', '0.95'],
    ['0.85', '0.9'],
    ['0.95', '0.95'],
  ] as const);
  const usdc = assetListing(rng, 'USDC', 6, usdcWeight[0], usdcWeight[1]);
  if (rng.chance(0.3)) usdc.borrowable = false;
  const premium = rng.pick(['0.001', '0.0005', '0.003']);
  const perpLarge: Json = {
    kind: 'perpetual',
    symbol: 'ETH-PERP-L',
    underlying: 'ETH',
    initialMargin: rng.pick(['0.05', '0.1', '0.2']),
    maintenanceMargin: '0.03',
    sizePremium: premium,
    fundingIntervalSeconds: '3600',
    fundingClamp: rng.pick(['0.0075', '0.003', '0.05']),
    profitWeight: rng.pick(['0.8', '0.5', '0.95']),
    liquidationPenalty: '0.005',
  };
  const opening: Json[] = [
    { type: 'list-asset', time: start, config: usdc, price: '1' },
    {
      type: 'list-asset',
      time: start,
      config: assetListing(rng, 'ETH', 18, '0.8', '0.85'),
      price: price(eth),
    },
    {
      type: 'list-instrument',
      time: start,
      config: {
        kind: 'perpetual',
        symbol: 'ETH-PERP',
        underlying: 'ETH',
        initialMargin: '0.1',
        maintenanceMargin: '0.05',
        fundingIntervalSeconds: rng.pick(['3600', '28800']),
        fundingClamp: rng.pick(['0.0075', '0.003', '0.05']),
        liquidationPenalty: '0.01',
      },
      price: price(eth),
    },
    { type: 'list-instrument', time: start, config: perpLarge, price: price(eth) },
    {
      type: 'list-instrument',
      time: start,
      config: {
        kind: 'future',
        symbol: 'ETH-FUT',
        underlying: 'ETH',
        initialMargin: '0.1',
        maintenanceMargin: '0.05',
        expiry: start + rng.integer(10, 40) * DAY + rng.integer(0, 3600),
      },
      price: price(moved(eth, 10_000)),
    },
  ];
  // A call and a put on ETH, struck near the index, expiring mid-run.
  const optionExpiry = start + rng.integer(15, 45) * DAY + rng.integer(0, 3600);
  for (const right of ['call', 'put'] as const) {
    const strike = (eth / PRICE_ONE / 100n) * 100n + BigInt(rng.integer(-3, 3)) * 100n;
    const intrinsic = right === 'call' ? eth - strike * PRICE_ONE : strike * PRICE_ONE - eth;
    const mark = (intrinsic > 0n ? intrinsic : 0n) + eth / 20n;
    opening.push({
      type: 'list-instrument',
      time: start,
      config: {
        kind: 'option',
        symbol: `ETH-${strike}-${right === 'call' ? 'C' : 'P'}`,
        underlying: 'ETH',
        expiry: optionExpiry,
        strike: right === 'call' ? String(strike) : `${strike}.5`,
        right,
        sizePremium: rng.pick(['0', '0.001']),
      },
      price: price(mark),
    });
  }
  const lender: Ref = { account: 'lena', subAccount: 0 };
  opening.push(
    { type: 'deposit', time: start, account: 'lena', asset: 'USDC', amount: '20000000' },
    { type: 'deposit', time: start, account: 'lena', asset: 'ETH', amount: '5000' },
    { type: 'deposit', time: start, account: '@insurance', asset: 'USDC', amount: '1000' },
  );
  const traders: Ref[] = [];
  for (const account of NAMES.slice(0, rng.integer(5, 7))) {
    const subs = rng.chance(0.6) ? 2 : 1;
    for (let subAccount = 0; subAccount < subs; subAccount++) {
      const ref = { account, subAccount };
      traders.push(ref);
      if (subAccount === 1 && rng.chance(0.5)) {
        opening.push({ type: 'set-mode', time: start, account, subAccount, mode: 'isolated' });
      }
      const dollars = BigInt(rng.integer(1, 200)) * 1000n;
      opening.push({
        type: 'deposit',
        time: start,
        account,
        subAccount,
        asset: 'USDC',
        amount: dollars.toString(),
      });
      if (rng.chance(0.5)) {
        opening.push({
          type: 'deposit',
          time: start,
          account,
          subAccount,
          asset: 'ETH',
          amount: String(rng.integer(1, 40)),
        });
      }
    }
  }
  const btcAt = rng.integer(Math.floor(commands * 0.1), Math.floor(commands * 0.3));
  const later: Listing[] = [
    {
      at: btcAt,
      command: {
        type: 'list-asset',
        config: assetListing(rng, 'BTC', 8, '0.75', '0.8'),
        price: String(rng.integer(40_000, 80_000)),
      },
    },
    {
      at: btcAt + 1,
      command: {
        type: 'list-instrument',
        config: {
          kind: 'perpetual',
          symbol: 'BTC-PERP',
          underlying: 'BTC',
          initialMargin: '0.05',
          maintenanceMargin: '0.025',
          sizePremium: '0.0002',
          fundingIntervalSeconds: '28800',
        },
        price: 'INDEX',
      },
    },
    {
      at: rng.integer(Math.floor(commands * 0.3), Math.floor(commands * 0.6)),
      command: {
        type: 'list-instrument',
        config: {
          kind: 'future',
          symbol: 'ETH-FUT2',
          underlying: 'ETH',
          initialMargin: '0.08',
          maintenanceMargin: '0.04',
          sizePremium: '0.0001',
          expiry: 'LATER',
        },
        price: 'INDEX',
      },
    },
  ];
  return { opening, later, traders, lender };
}

// ---- the command generator -----------------------------------------------------------------

type Kind =
  | 'trade'
  | 'deposit'
  | 'withdraw'
  | 'borrow'
  | 'repay'
  | 'transfer'
  | 'price'
  | 'mark'
  | 'funding'
  | 'expire'
  | 'settlePnl'
  | 'accrue'
  | 'mode'
  | 'venue'
  | 'odd';

const KINDS: Record<Kind, number> = {
  trade: 36,
  deposit: 9,
  withdraw: 7,
  borrow: 6,
  repay: 5,
  transfer: 4,
  price: 7,
  mark: 10,
  funding: 5,
  expire: 2,
  settlePnl: 3,
  accrue: 1,
  mode: 1,
  venue: 1,
  odd: 4,
};

class Generator {
  private nextListing = 0;

  constructor(
    private readonly rng: SeededRandom,
    private readonly model: DerivativesModel,
    private readonly scenario: Scenario,
  ) {}

  next(index: number): Json {
    const time = this.nextTime();
    const listing = this.scenario.later[this.nextListing];
    if (listing !== undefined && listing.at <= index) {
      this.nextListing++;
      return this.listing(listing.command, Math.max(time, this.model.time));
    }
    switch (this.rng.weighted(KINDS)) {
      case 'trade':
        return this.trade(time);
      case 'deposit':
        return this.deposit(time);
      case 'withdraw':
        return this.withdraw(time);
      case 'borrow':
        return this.borrow(time);
      case 'repay':
        return this.repay(time);
      case 'transfer':
        return this.transfer(time);
      case 'price':
        return this.assetPrice(time);
      case 'mark':
        return this.mark(time);
      case 'funding':
        return this.funding(time);
      case 'expire':
        return this.expire(time);
      case 'settlePnl':
        return this.settlePnl(time);
      case 'accrue':
        return { type: 'accrue', time, asset: this.symbol(this.randomAsset()) };
      case 'mode':
        return this.mode(time);
      case 'venue':
        return this.venue(time);
      case 'odd':
        return this.odd(time);
    }
  }

  private listing(command: Json, time: number): Json {
    const out: Json = { ...command, time };
    const config = { ...(command.config as Json) };
    if (config.expiry === 'LATER') config.expiry = time + this.rng.integer(20, 60) * DAY;
    out.config = config;
    if (out.price === 'INDEX') {
      const underlying = this.assetIndex(String(config.underlying));
      out.price = price(moved(this.model.prices(underlying).oracle, this.rng.integer(-5000, 5000)));
    }
    return out;
  }

  private nextTime(): number {
    const now = this.model.time;
    const r = this.rng.next();
    if (r < 0.02 && now > 0) return now - this.rng.integer(1, 7200);
    if (r < 0.35) return now;
    if (r < 0.6) return now + this.rng.integer(1, 120);
    if (r < 0.85) return now + this.rng.integer(121, 3600);
    return now + this.rng.integer(3601, 2 * DAY);
  }

  // ---- names ----

  private randomAsset(): number {
    return this.rng.integer(0, this.model.assetCount - 1);
  }

  private assetIndex(symbol: string): number {
    for (let i = 0; i < this.model.assetCount; i++) {
      if (this.model.assetSymbol(i) === symbol) return i;
    }
    throw new Error(`no asset ${symbol}`);
  }

  private symbol(asset: number): string {
    return this.model.assetSymbol(asset);
  }

  private instrumentSymbol(index: number): string {
    return this.model.instrument(index).terms.symbol;
  }

  private randomRef(): Ref {
    return this.rng.pick(this.scenario.traders);
  }

  /** A trader for a fill of `instrument`: mostly not one isolated on another instrument. */
  private refFor(instrument: number): Ref {
    let ref = this.randomRef();
    for (let tries = 0; tries < 3 && this.isolatedElsewhere(ref, instrument); tries++) {
      if (this.rng.chance(0.15)) break;
      ref = this.randomRef();
    }
    return ref;
  }

  private isolatedElsewhere(ref: Ref, instrument: number): boolean {
    if (this.model.mode(ref) !== 'isolated') return false;
    return this.model
      .holdings()
      .some((h) => sameRef(h.ref, ref) && h.positions.some((p) => p.instrument !== instrument));
  }

  private refJson(ref: Ref): Json {
    return ref.subAccount === 0 && this.rng.chance(0.5)
      ? { account: ref.account }
      : { account: ref.account, subAccount: ref.subAccount };
  }

  /** A sub-account holding a position in `instrument` (or any when undefined), or none. */
  private holderOf(instrument?: number): { ref: Ref; position: ModelPosition } | undefined {
    const found: { ref: Ref; position: ModelPosition }[] = [];
    for (const h of this.model.holdings()) {
      if (h.ref.account.startsWith('@')) continue;
      for (const position of h.positions) {
        if (instrument === undefined || position.instrument === instrument) {
          found.push({ ref: h.ref, position });
        }
      }
    }
    return found.length === 0 ? undefined : this.rng.pick(found);
  }

  /** A (sub-account, asset) whose scaled balance passes `test`, or a random one. */
  private holding(test: (scaled: bigint) => boolean, p: number): { ref: Ref; asset: number } {
    if (this.rng.chance(p)) {
      const found: { ref: Ref; asset: number }[] = [];
      for (const h of this.model.holdings()) {
        if (h.ref.account.startsWith('@')) continue;
        for (const [asset, scaled] of h.balances)
          if (test(scaled)) found.push({ ref: h.ref, asset });
      }
      if (found.length > 0) return this.rng.pick(found);
    }
    return { ref: this.randomRef(), asset: this.randomAsset() };
  }

  /** Largest value in [1, high] that `make` turns into an accepted command (0 when none). */
  private largestAccepted(make: (value: bigint) => Json, high: bigint): bigint {
    const ok = (value: bigint) => this.model.dryRun(make(value)).ok;
    if (high < 1n || !ok(1n)) return 0n;
    if (ok(high)) return high;
    let low = 1n;
    let top = high;
    while (top - low > 1n) {
      const middle = (low + top) / 2n;
      if (ok(middle)) low = middle;
      else top = middle;
    }
    return low;
  }

  // ---- derivatives ----

  private tradable(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.model.instrumentCount; i++) {
      const instrument = this.model.instrument(i);
      const expiry = instrument.terms.expiry;
      if (!instrument.settled && (expiry === null || this.model.time < expiry)) out.push(i);
    }
    return out;
  }

  private trade(time: number): Json {
    const open = this.tradable();
    const index =
      open.length === 0 || this.rng.chance(0.03)
        ? this.rng.integer(0, this.model.instrumentCount - 1)
        : this.rng.pick(open);
    const instrument = this.model.instrument(index);
    const mark = instrument.mark;
    // Sides: often someone who holds the instrument, trading it down, closed or flipped.
    let buyer = this.refFor(index);
    let seller = this.refFor(index);
    let closing: bigint | undefined;
    const held = this.rng.chance(0.5) ? this.holderOf(index) : undefined;
    if (held !== undefined) {
      if (held.position.size < 0n) buyer = held.ref;
      else seller = held.ref;
      closing = held.position.size < 0n ? -held.position.size : held.position.size;
    }
    for (let tries = 0; tries < 4 && sameRef(buyer, seller); tries++) {
      if (held !== undefined && sameRef(held.ref, buyer)) seller = this.refFor(index);
      else buyer = this.refFor(index);
    }
    const r = this.rng.next();
    if (r < 0.025) seller = buyer;
    else if (r < 0.04) buyer = { account: '@insurance', subAccount: 0 };
    else if (r < 0.05) seller = { account: '@insurance', subAccount: 0 };
    // Price: near the mark, within the band, at its edge or one wei past it.
    const band = (mark * this.model.tradeBand) / 1_000_000n;
    const p = this.rng.next();
    let at: bigint;
    if (p < 0.6) at = moved(mark, this.rng.integer(-20_000, 20_000));
    else if (p < 0.72) at = moved(mark, this.rng.integer(-130_000, 130_000));
    else if (p < 0.8) at = this.rng.chance(0.5) ? mark + band : mark - band;
    else if (p < 0.86) at = this.rng.chance(0.5) ? mark + band + 1n : mark - band - 1n;
    else at = mark;
    if (at < 1n) at = 1n;
    const command = (size: string): Json => {
      const out: Json = {
        type: 'trade',
        time,
        buyer: this.refJson(buyer),
        seller: this.refJson(seller),
        instrument: instrument.terms.symbol,
        size,
        price: price(at),
      };
      if (this.rng.chance(0.3)) out.buyerFee = this.rng.pick(['0', '0.000001', '1.5', '25']);
      if (this.rng.chance(0.3)) out.sellerFee = this.rng.pick(['0', '0.01', '3', '120']);
      return out;
    };
    const s = this.rng.next();
    let size: bigint;
    if (s < 0.08) size = 1n;
    else if (s < 0.3) {
      const fixed = command('0');
      const most = this.largestAccepted(
        (value) => ({ ...fixed, size: sizeText(value) }),
        this.rng.chance(0.1) ? LARGEST_SIZE : 10n ** 15n,
      );
      size = most === 0n || this.rng.chance(0.4) ? most + 1n : most;
      return { ...fixed, size: sizeText(size) };
    } else if (s < 0.32) {
      size = this.rng.pick([LARGEST_SIZE, LARGEST_SIZE + 1n, 0n]);
    } else if (s < 0.5 && closing !== undefined) {
      const c = this.rng.next();
      if (c < 0.4) size = closing;
      else if (c < 0.55) size = closing - 1n > 0n ? closing - 1n : 1n;
      else if (c < 0.7) size = closing + 1n;
      else if (c < 0.85) size = closing * 2n;
      else size = this.rng.bigintBelow(closing) + 1n;
    } else {
      // $100 to $100k of notional at the mark.
      const dollars = BigInt(this.rng.integer(1, 10)) * 10n ** BigInt(this.rng.integer(2, 4));
      size = (dollars * PRICE_ONE * SIZE_UNIT) / mark;
      size += this.rng.bigintBelow(size / 10n + 1n);
      if (size < 1n) size = 1n;
    }
    return command(sizeText(size));
  }

  private mark(time: number): Json {
    const index = this.rng.integer(0, this.model.instrumentCount - 1);
    const instrument = this.model.instrument(index);
    const spot = this.model.prices(instrument.asset).oracle;
    const r = this.rng.next();
    let mark: bigint;
    const strike = instrument.terms.strike;
    if (strike !== null && r < 0.55) {
      // An option: its intrinsic value on the index and some time value.
      const beyond = instrument.terms.right === 'call' ? spot - strike : strike - spot;
      mark = (beyond > 0n ? beyond : 0n) + moved(spot / 20n, this.rng.integer(-900_000, 500_000));
    } else if (r < 0.55) mark = moved(spot, this.rng.integer(-8_000, 8_000));
    else if (r < 0.9) mark = moved(instrument.mark, this.rng.integer(-40_000, 40_000));
    else mark = moved(instrument.mark, this.rng.integer(-250_000, 250_000));
    const command: Json = { type: 'set-price', time, asset: instrument.terms.symbol };
    command.price = price(mark);
    if (this.rng.chance(0.03)) command.stablePrice = price(mark);
    return command;
  }

  private assetPrice(time: number): Json {
    const asset = this.rng.chance(0.75) ? this.assetIndex('ETH') : this.randomAsset();
    const { oracle } = this.model.prices(asset);
    const symbol = this.symbol(asset);
    const range = symbol === 'USDC' ? 20_000 : this.rng.chance(0.08) ? 300_000 : 50_000;
    const next = moved(oracle, this.rng.integer(-range, range));
    const command: Json = { type: 'set-price', time, asset: symbol, price: price(next) };
    const r = this.rng.next();
    if (r < 0.2) command.stablePrice = price(oracle);
    else if (r < 0.3) command.stablePrice = price(moved(next, this.rng.integer(-30_000, 30_000)));
    return command;
  }

  private funding(time: number): Json {
    const index = this.rng.integer(0, this.model.instrumentCount - 1);
    return { type: 'settle-funding', time, instrument: this.instrumentSymbol(index) };
  }

  private expire(time: number): Json {
    const dated: number[] = [];
    for (let i = 0; i < this.model.instrumentCount; i++) {
      if (this.model.instrument(i).terms.expiry !== null) dated.push(i);
    }
    const index =
      dated.length === 0 || this.rng.chance(0.1)
        ? this.rng.integer(0, this.model.instrumentCount - 1)
        : this.rng.pick(dated);
    return { type: 'expire', time, instrument: this.instrumentSymbol(index) };
  }

  private settlePnl(time: number): Json {
    const waiting = this.model
      .holdings()
      .filter((h) => h.unsettled > 0n && !h.ref.account.startsWith('@'));
    const ref =
      waiting.length > 0 && this.rng.chance(0.75) ? this.rng.pick(waiting).ref : this.randomRef();
    return { type: 'settle-pnl', time, ...this.refJson(ref) };
  }

  private mode(time: number): Json {
    const held = this.rng.chance(0.3) ? this.holderOf() : undefined;
    const ref = held?.ref ?? this.randomRef();
    const mode = this.rng.pick(['cross', 'isolated', 'isolated', 'margin']);
    return { type: 'set-mode', time, ...this.refJson(ref), mode };
  }

  private venue(time: number): Json {
    const config: Json = {};
    const r = this.rng.next();
    if (r < 0.45) config.profitCap = this.rng.pick(['1', '0.5', '2', '0', '0.333333']);
    else if (r < 0.85) config.tradeBand = this.rng.pick(['0.1', '0.05', '0.2', '0.012345']);
    else if (r < 0.92) config.tradeBand = '0';
    else config.profitCap = '10.5';
    return { type: 'configure-venue', time, config };
  }

  // ---- lending ----

  private accountCommand(type: string, time: number, ref: Ref, asset: number, amount: string) {
    const command: Json = { type, time, account: ref.account };
    if (ref.subAccount !== 0 || this.rng.chance(0.5)) command.subAccount = ref.subAccount;
    command.asset = this.symbol(asset);
    command.amount = amount;
    return command;
  }

  private text(value: bigint, asset: number): string {
    return formatUnits(value, this.model.decimals(asset));
  }

  /** $1 to $900k of the asset, or one base unit. */
  private plausible(asset: number): bigint {
    if (this.rng.chance(0.06)) return 1n;
    const dollars = BigInt(this.rng.integer(1, 9)) * 10n ** BigInt(this.rng.integer(0, 5));
    const units =
      (dollars * PRICE_ONE * 10n ** BigInt(this.model.decimals(asset))) /
      this.model.prices(asset).oracle;
    return units + this.rng.bigintBelow(units / 10n + 1n) || 1n;
  }

  private deposit(time: number): Json {
    const r = this.rng.next();
    const target =
      r < 0.03
        ? { ref: { account: '@insurance', subAccount: 0 }, asset: 0 }
        : r < 0.05
          ? { ref: { account: '@venue', subAccount: 0 }, asset: 0 }
          : this.holding((s) => s > 0n, 0.3);
    const { ref, asset } = target;
    // The settlement asset most of the time: it is what losses draw on.
    const which = this.rng.chance(0.6) ? 0 : asset;
    return this.accountCommand(
      'deposit',
      time,
      ref,
      which,
      this.text(this.plausible(which), which),
    );
  }

  /** All, the whole balance, one more, one unit, exactly the largest accepted, or a part. */
  private outAmount(ref: Ref, asset: number, time: number, make: (amount: bigint) => Json) {
    const held = this.model.amountAt(ref, asset, time);
    const balance = held > 0n ? held : 0n;
    const r = this.rng.next();
    if (r < 0.15) return 'all';
    if (r < 0.25) return this.text(balance > 0n ? balance : 1n, asset);
    if (r < 0.3) return this.text(balance + 1n, asset);
    if (r < 0.36) return this.text(1n, asset);
    if (r < 0.65) {
      const most = this.largestAccepted(make, balance);
      return this.text(most === 0n || this.rng.chance(0.35) ? most + 1n : most, asset);
    }
    if (balance === 0n) return this.text(this.plausible(asset), asset);
    return this.text(this.rng.bigintBelow(balance) + 1n, asset);
  }

  private withdraw(time: number): Json {
    const { ref, asset } = this.rng.chance(0.02)
      ? { ref: { account: '@insurance', subAccount: 0 }, asset: 0 }
      : this.holding((s) => s > 0n, 0.9);
    const make = (amount: bigint) =>
      this.accountCommand('withdraw', time, ref, asset, this.text(amount, asset));
    return this.accountCommand(
      'withdraw',
      time,
      ref,
      asset,
      this.outAmount(ref, asset, time, make),
    );
  }

  private borrow(time: number): Json {
    const held = this.rng.chance(0.5) ? this.holderOf() : undefined;
    const ref = held?.ref ?? this.holding((s) => s > 0n, 0.9).ref;
    let asset = this.randomAsset();
    for (let tries = 0; tries < 4 && this.model.scaled(ref, asset) > 0n; tries++) {
      asset = this.randomAsset();
    }
    const make = (amount: bigint) =>
      this.accountCommand('borrow', time, ref, asset, this.text(amount, asset));
    const cash = this.model.pool(asset).cash;
    const r = this.rng.next();
    let amount: bigint;
    if (r < 0.5) {
      const most = this.largestAccepted(make, cash);
      amount =
        most === 0n || r < 0.2 ? most + 1n : r < 0.4 ? most : this.rng.bigintBelow(most) + 1n;
    } else if (r < 0.6) amount = 1n;
    else amount = this.plausible(asset);
    return make(amount);
  }

  private repay(time: number): Json {
    const { ref, asset } = this.holding((s) => s < 0n, 0.9);
    const held = this.model.amountAt(ref, asset, time);
    const owed = held < 0n ? -held : 0n;
    const r = this.rng.next();
    let amount: string;
    if (r < 0.3) amount = 'all';
    else if (r < 0.45) amount = this.text(owed > 0n ? owed : 1n, asset);
    else if (r < 0.55) amount = this.text(owed + 1n, asset);
    else if (r < 0.65) amount = this.text(1n, asset);
    else if (owed > 1n) amount = this.text(this.rng.bigintBelow(owed - 1n) + 1n, asset);
    else amount = this.text(this.plausible(asset), asset);
    return this.accountCommand('repay', time, ref, asset, amount);
  }

  private transfer(time: number): Json {
    const held = this.rng.chance(0.5) ? this.holderOf() : undefined;
    const from = held?.ref ?? this.holding((s) => s > 0n, 0.9).ref;
    const asset = this.rng.chance(0.7) ? 0 : this.randomAsset();
    const r = this.rng.next();
    const to =
      r < 0.04
        ? from
        : r < 0.5
          ? { account: from.account, subAccount: from.subAccount === 0 ? 1 : 0 }
          : this.randomRef();
    const fromJson = this.refJson(from);
    const toJson = this.refJson(to);
    const make = (amount: bigint, text = this.text(amount, asset)): Json => ({
      type: 'transfer',
      time,
      from: fromJson,
      to: toJson,
      asset: this.symbol(asset),
      amount: text,
    });
    return make(0n, this.outAmount(from, asset, time, make));
  }

  /** Inputs the engine must refuse early, or rarely exercised paths. */
  private odd(time: number): Json {
    const ref = this.randomRef();
    const other = this.randomRef();
    const instrument = this.instrumentSymbol(this.rng.integer(0, this.model.instrumentCount - 1));
    const mark = price(this.model.instrument(0).mark);
    const trade = (fields: Json): Json => ({
      type: 'trade',
      time,
      buyer: { account: ref.account, subAccount: ref.subAccount },
      seller: { account: other.account, subAccount: other.subAccount },
      instrument: 'ETH-PERP',
      size: '1',
      price: mark,
      ...fields,
    });
    switch (this.rng.integer(0, 16)) {
      case 0:
        return trade({ instrument: 'DOGE-PERP' });
      case 1:
        return trade({ size: '0' });
      case 2:
        return trade({ size: '0.000000001' });
      case 3:
        return trade({ buyer: { account: '@settlement' } });
      case 4:
        return trade({ seller: { account: ref.account, sub: 1 } });
      case 5:
        return trade({ price: '0' });
      case 6:
        return trade({ buyerFee: '0.0000001' });
      case 7:
        return { type: 'settle-funding', time, instrument: 'ETH' };
      case 8:
        return { type: 'expire', time, instrument: 'NOPE' };
      case 9:
        return {
          type: 'list-instrument',
          time,
          config: { kind: 'perpetual', symbol: instrument, underlying: 'ETH' },
          price: mark,
        };
      case 10:
        return {
          type: 'list-instrument',
          time,
          config: { kind: 'perpetual', symbol: 'ETH', underlying: 'ETH' },
          price: mark,
        };
      case 11:
        return {
          type: 'list-instrument',
          time,
          config: {
            kind: 'perpetual',
            symbol: 'X-PERP',
            underlying: 'ETH',
            maintenanceMargin: '0.02',
            liquidationPenalty: '0.02',
          },
          price: mark,
        };
      case 12:
        return {
          type: 'list-instrument',
          time,
          config: { kind: 'future', symbol: 'OLD-FUT', underlying: 'ETH', expiry: this.model.time },
          price: mark,
        };
      case 13:
        return { type: 'settle-pnl', time, account: '@venue' };
      case 14:
        return { type: 'set-mode', time, account: '@insurance', mode: 'isolated' };
      case 15:
        return { type: 'accrue', time: this.model.time + 400 * DAY, asset: 'USDC' };
      default:
        return { type: 'mint', time, account: ref.account };
    }
  }
}

function sameRef(a: Ref, b: Ref): boolean {
  return a.account === b.account && a.subAccount === b.subAccount;
}

// ---- comparison ----------------------------------------------------------------------------

const POOL_FIELDS: readonly [keyof ModelPool, string][] = [
  ['cash', 'cash'],
  ['supplyScaled', 'supplyScaled'],
  ['borrowScaled', 'borrowScaled'],
  ['treasuryScaled', 'treasuryScaled'],
  ['supplyIndex', 'supplyIndexRay'],
  ['borrowIndex', 'borrowIndexRay'],
  ['accruedAt', 'accruedAt'],
];

const TIERS: readonly Tier[] = ['initial', 'liquidationEnd', 'maintenance'];

function positionsText(positions: readonly ModelPosition[]): string {
  return positions.map((p) => `${p.instrument}:${p.size}:${p.quote}:${p.funding}`).join(' ');
}

/** A sub-account as the comparison reads it: balances, then its derivatives book. */
interface Holding {
  readonly balances: readonly (readonly [number, bigint])[];
  readonly mode: string;
  readonly unsettled: bigint;
  readonly positions: readonly ModelPosition[];
}

function holdingText(h: Holding | undefined): string {
  if (h === undefined) return '-';
  const balances = h.balances.map(([asset, scaled]) => `${asset}:${scaled}`).join(' ');
  return `${balances} | ${h.mode} ${h.unsettled} [${positionsText(h.positions)}]`;
}

function sameHolding(a: Holding | undefined, b: Holding | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.mode !== b.mode || a.unsettled !== b.unsettled) return false;
  if (a.balances.length !== b.balances.length || a.positions.length !== b.positions.length) {
    return false;
  }
  for (let i = 0; i < a.balances.length; i++) {
    const x = a.balances[i];
    const y = b.balances[i];
    if (x === undefined || y === undefined || x[0] !== y[0] || x[1] !== y[1]) return false;
  }
  for (let i = 0; i < a.positions.length; i++) {
    const x = a.positions[i];
    const y = b.positions[i];
    if (x === undefined || y === undefined) return false;
    if (x.instrument !== y.instrument || x.size !== y.size) return false;
    if (x.quote !== y.quote || x.funding !== y.funding) return false;
  }
  return true;
}

function engineHoldings(state: EngineState): Map<string, Holding> {
  const out = new Map<string, Holding>();
  for (const [id, account] of state.accounts) {
    for (const sub of account.subAccounts) {
      const book = sub.derivatives;
      out.set(`${id}/${sub.number}`, {
        balances: sub.positions.map((p) => [p.asset, p.scaled] as const),
        mode: book?.mode ?? 'cross',
        unsettled: book?.unsettled ?? 0n,
        positions: book?.positions ?? [],
      });
    }
  }
  return out;
}

function modelHoldings(model: DerivativesModel): Map<string, Holding> {
  const out = new Map<string, Holding>();
  for (const h of model.holdings()) out.set(`${h.ref.account}/${h.ref.subAccount}`, h);
  return out;
}

/** Differences between the engine's state and the model's, as lines. */
function differences(state: EngineState, model: DerivativesModel, withHealth: boolean): string[] {
  const out: string[] = [];
  if (state.time !== model.time) out.push(`time: engine ${state.time}, model ${model.time}`);
  if (state.sequence !== model.sequence) {
    out.push(`sequence: engine ${state.sequence}, model ${model.sequence}`);
  }
  if (state.assets.length !== model.assetCount) {
    out.push(`assets: engine ${state.assets.length}, model ${model.assetCount}`);
    return out;
  }
  if (state.instruments.length !== model.instrumentCount) {
    out.push(`instruments: engine ${state.instruments.length}, model ${model.instrumentCount}`);
    return out;
  }
  for (const asset of state.assets) {
    const symbol = asset.config.symbol;
    const pool = model.pool(asset.index);
    for (const [mine, theirs] of POOL_FIELDS) {
      const engineValue = asset.pool[theirs as keyof typeof asset.pool];
      if (engineValue !== pool[mine]) {
        out.push(`${symbol} pool.${theirs}: engine ${engineValue}, model ${pool[mine]}`);
      }
    }
    const engineRate = poolRates(asset.pool, asset.config).borrowRatePerSecondRay;
    if (engineRate !== pool.ratePerSecond) {
      out.push(`${symbol} rate per second: engine ${engineRate}, model ${pool.ratePerSecond}`);
    }
    const { oracle, stable } = model.prices(asset.index);
    if (asset.risk.oraclePrice !== oracle || asset.risk.stablePrice !== stable) {
      out.push(
        `${symbol} prices: engine ${asset.risk.oraclePrice}/${asset.risk.stablePrice}, model ${oracle}/${stable}`,
      );
    }
  }
  for (const instrument of state.instruments) {
    const mine = model.instrument(instrument.index);
    const engineText = [
      instrument.mark,
      instrument.fundingIndex,
      instrument.fundingAt,
      instrument.openInterest,
      instrument.settlementPrice,
      instrument.settled,
    ].join(' ');
    const modelText = [
      mine.mark,
      mine.fundingIndex,
      mine.fundingAt,
      mine.openInterest,
      mine.settlementPrice,
      mine.settled,
    ].join(' ');
    if (engineText !== modelText) {
      out.push(
        `${mine.terms.symbol} (mark funding fundingAt openInterest settlement settled): engine ${engineText}, model ${modelText}`,
      );
    }
  }
  const engine = engineHoldings(state);
  const mine = modelHoldings(model);
  for (const key of new Set([...engine.keys(), ...mine.keys()])) {
    if (!sameHolding(engine.get(key), mine.get(key))) {
      const theirs = holdingText(engine.get(key));
      out.push(`sub-account ${key}: engine [${theirs}], model [${holdingText(mine.get(key))}]`);
    }
  }
  if (!withHealth || out.length > 0) return out;
  const draft = new Draft(state, state.time);
  for (const h of model.holdings()) {
    const snapshot = draft.health(h.ref);
    const health = model.health(h.ref);
    TIERS.forEach((tier, t) => {
      const c = snapshot.collateralNum(tier);
      const l = snapshot.liabilityNum(tier);
      const mc = health.collateral[t as 0 | 1 | 2];
      const ml = health.liabilities[t as 0 | 1 | 2];
      if (c !== mc || l !== ml) {
        out.push(
          `health ${h.ref.account}/${h.ref.subAccount} ${tier}: engine C ${c} L ${l}, model C ${mc} L ${ml}`,
        );
      }
    });
  }
  return out;
}

/** The engine's pool bookkeeping (as in the lending simulation), as lines. */
function conservation(state: EngineState): string[] {
  const out: string[] = [];
  for (const asset of state.assets) {
    const p = asset.pool;
    const symbol = asset.config.symbol;
    if (p.cash * RAY + p.borrowScaled * p.borrowIndexRay < p.supplyScaled * p.supplyIndexRay) {
      out.push(`${symbol}: cash + debt below supply`);
    }
    let supplied = 0n;
    let owed = 0n;
    for (const account of state.accounts.values()) {
      for (const sub of account.subAccounts) {
        for (const position of sub.positions) {
          if (position.asset !== asset.index) continue;
          if (position.scaled > 0n) supplied += position.scaled;
          else owed -= position.scaled;
        }
      }
    }
    if (p.supplyScaled !== supplied + p.treasuryScaled) out.push(`${symbol}: supplyScaled`);
    if (p.borrowScaled !== owed) out.push(`${symbol}: borrowScaled`);
  }
  return out;
}

// ---- the run -------------------------------------------------------------------------------

interface Stats {
  accepted: number;
  codes: Map<string, number>;
  kinds: Map<string, number>;
  /** Paths the stream should reach (counted from the model's state around accepted fills). */
  paths: Map<string, number>;
}

function count(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

/** What an accepted fill did, for the coverage counts. */
function notePaths(
  stats: Stats,
  command: Json,
  model: DerivativesModel,
  before: Map<string, { size: bigint; usdc: bigint }>,
): void {
  if (command.type === 'expire') count(stats.paths, 'expired');
  if (command.type === 'settle-pnl') count(stats.paths, 'settled from the reserve');
  if (command.type !== 'trade') return;
  const instrument = [...Array(model.instrumentCount).keys()].find(
    (i) => model.instrument(i).terms.symbol === command.instrument,
  );
  if (instrument === undefined) return;
  for (const side of ['buyer', 'seller'] as const) {
    const raw = command[side] as Json;
    const ref = { account: String(raw.account), subAccount: Number(raw.subAccount ?? 0) };
    const was = before.get(side);
    if (was === undefined) continue;
    const now = model.position(ref, instrument)?.size ?? 0n;
    if (was.size !== 0n && now === 0n) count(stats.paths, 'closed');
    else if (was.size !== 0n && now !== 0n && was.size > 0n !== now > 0n)
      count(stats.paths, 'flipped');
    else if (was.size !== 0n && (now < 0n ? -now : now) < (was.size < 0n ? -was.size : was.size)) {
      count(stats.paths, 'shrank');
    }
    if (model.instrument(instrument).terms.kind === 'option' && now !== 0n) {
      count(stats.paths, now < 0n ? 'short option' : 'long option');
    }
    const health = model.health(ref);
    if (health.collateral[0] < health.liabilities[0]) count(stats.paths, 'filled below initial');
    const usdc = model.scaled(ref, 0);
    if (was.usdc >= 0n && usdc < 0n) count(stats.paths, 'loss borrowed');
    const waiting = model.holdings().find((h) => sameRef(h.ref, ref))?.unsettled ?? 0n;
    if (waiting >= VALUE_ONE / 10n ** 6n) count(stats.paths, 'profit waits');
  }
}

function runSeed(seed: number, commands: number, replay: string): Stats {
  const rng = new SeededRandom(seed);
  const start = 1_700_000_000 + rng.integer(0, 10_000_000);
  const plan = scenario(rng, start, commands);
  const engine = new Engine();
  const model = new DerivativesModel();
  const generator = new Generator(rng, model, plan);
  const stats: Stats = { accepted: 0, codes: new Map(), kinds: new Map(), paths: new Map() };
  const recent: string[] = [];
  let canonical: string | undefined = canonicalState(engine.state);
  const total = plan.opening.length + commands;

  const fail = (index: number, command: Json, lines: string[]): never => {
    throw new Error(
      [
        `seed ${seed}, command #${index}: ${JSON.stringify(command)}`,
        ...lines.map((line) => `  ${line}`),
        `  (replay: ${replay}; commands #0-#${plan.opening.length - 1} are the opening)`,
        '  last commands:',
        ...recent.map((line) => `    ${line}`),
      ].join('\n'),
    );
  };

  for (let index = 0; index < total; index++) {
    const command = plan.opening[index] ?? generator.next(index - plan.opening.length);
    const before = new Map<string, { size: bigint; usdc: bigint }>();
    if (command.type === 'trade') {
      const symbol = command.instrument;
      const instrument = [...Array(model.instrumentCount).keys()].find(
        (i) => model.instrument(i).terms.symbol === symbol,
      );
      for (const side of ['buyer', 'seller'] as const) {
        const raw = command[side] as Json | undefined;
        if (raw === undefined || instrument === undefined) continue;
        const ref = { account: String(raw.account), subAccount: Number(raw.subAccount ?? 0) };
        before.set(side, {
          size: model.position(ref, instrument)?.size ?? 0n,
          usdc: model.scaled(ref, 0),
        });
      }
    }
    const expected = model.apply(command);
    // The state before a command the model refuses, as the state hash reads it (its canonical
    // text, compared whole: hashing it is the costly part), taken only when a refusal follows.
    if (!expected.ok && canonical === undefined) canonical = canonicalState(engine.state);
    const result = engine.applyJson(command);
    const engineCode = result.ok ? 'ok' : result.error.code;
    const modelCode = expected.ok ? 'ok' : expected.code;
    if (engineCode !== modelCode) {
      fail(index, command, [
        `engine ${engineCode}, model ${modelCode}`,
        ...(result.ok ? [] : [result.error.message]),
      ]);
    }
    // Health follows the state: after a refusal it is what it was.
    const diff = differences(engine.state, model, result.ok && index % HEALTH_EVERY === 0);
    if (diff.length > 0) fail(index, command, [`both ${engineCode}; states differ:`, ...diff]);
    if (result.ok) canonical = undefined;
    else if (canonicalState(engine.state) !== canonical) {
      fail(index, command, ['state (its hash) changed on a refused command']);
    }
    const broken = [...conservation(engine.state), ...model.conservation()];
    if (broken.length > 0) fail(index, command, ['conservation broken:', ...broken]);
    recent.push(`#${index} ${engineCode} ${JSON.stringify(command)}`);
    if (recent.length > 8) recent.shift();
    if (result.ok) {
      stats.accepted++;
      notePaths(stats, command, model, before);
    }
    count(stats.kinds, `${String(command.type)} ${engineCode}`);
    // `SIM_SHOW='trade insufficient_collateral'` prints the commands of one outcome.
    if (process.env.SIM_SHOW === `${String(command.type)} ${engineCode}`) {
      console.log(`#${index} ${JSON.stringify(command)}`);
    }
    count(stats.codes, engineCode);
  }
  if (model.idleRepayments > 0) count(stats.paths, 'idle repayment');
  if (process.env.SIM_STATS !== undefined) {
    console.log(
      `seed ${seed}: ${stats.accepted} accepted; idle repayments ${model.idleRepayments}; ` +
        [...stats.paths].map(([k, n]) => `${k} ${n}`).join(', '),
    );
  }
  return stats;
}

function merge(total: Stats, stats: Stats): void {
  total.accepted += stats.accepted;
  for (const [code, n] of stats.codes) total.codes.set(code, (total.codes.get(code) ?? 0) + n);
  for (const [kind, n] of stats.kinds) total.kinds.set(kind, (total.kinds.get(kind) ?? 0) + n);
  for (const [path, n] of stats.paths) total.paths.set(path, (total.paths.get(path) ?? 0) + n);
}

describe('simulation: the one margin account against the reference model', () => {
  const total: Stats = { accepted: 0, codes: new Map(), kinds: new Map(), paths: new Map() };
  const seeds = SEEDS.length > 0 ? SEEDS : DEFAULT_SEEDS;

  it.each(seeds)('seed %i: pools, perpetuals and futures', (seed) => {
    const replay = `SIM_SEEDS=${seed} SIM_COMMANDS=${COMMANDS} npx vitest run test/simulationDerivatives.test.ts`;
    merge(total, runSeed(seed, COMMANDS, replay));
  });

  it('covers every outcome and path the stream aims at', () => {
    if (SEEDS.length > 0) return;
    if (process.env.SIM_STATS !== undefined) {
      console.log(
        [...total.kinds]
          .sort((a, b) => a[0].localeCompare(b[0]))
          .map(([k, n]) => `${k}: ${n}`)
          .join('\n'),
      );
    }
    const codes = [
      'ok',
      'insufficient_collateral',
      'price_out_of_band',
      'same_account',
      'reserved_account',
      'instrument_expired',
      'isolated_one_instrument',
      'funding_not_due',
      'not_perpetual',
      'not_expired',
      'instrument_settled',
      'no_pnl',
      'has_positions',
      'limit_exceeded',
      'unknown_instrument',
      'already_listed',
      'asset_already_listed',
      'invalid_config',
      'invalid_number',
      'invalid_field',
      'too_many_decimals',
      'insufficient_balance',
      'asset_is_borrowed',
      'time_went_backwards',
      'time_jump_too_large',
      'unknown_command',
    ];
    for (const code of codes) expect(total.codes.get(code) ?? 0, code).toBeGreaterThan(0);
    const paths = [
      'closed',
      'flipped',
      'shrank',
      'filled below initial',
      'loss borrowed',
      'profit waits',
      'expired',
      'settled from the reserve',
      'short option',
      'long option',
    ];
    for (const path of paths) expect(total.paths.get(path) ?? 0, path).toBeGreaterThan(0);
    expect(total.accepted).toBeGreaterThan(seeds.length * COMMANDS * 0.3);
  });
});
