/**
 * A population of leveraged accounts: who holds what collateral, how much, and how close to
 * maintenance, drawn from a described distribution with a seed (or loaded from a file).
 *
 * Real books are heavy-tailed: a few whales hold much of the collateral. Sizes here follow a
 * Pareto law (tail index `sizeTail`, 1.16 being the "80/20" law), scaled so that the book's
 * collateral is worth `bookValue` with no account above `largestShare` of it. Each account holds one
 * main collateral (drawn by `mix`) and, with probability `secondAssetShare`, a second one for
 * a fifth to a half of its value. It borrows the debt asset so that its maintenance health is
 * 1 + a log-normal draw (median `healthMedian` − 1, log spread `healthSpread`), never more than
 * initial margin allows.
 */
import { FulcrumError } from '../base/errors.js';
import { SYMBOL_PATTERN } from '../domain/asset.js';
import { expectObject, rejectUnknownFields } from '../domain/input.js';
import { parseJsonText } from '../domain/json.js';
import { fieldName, quoteInput } from '../domain/quote.js';
import { parseDecimal } from '../math/decimal.js';
import { SeededRandom } from '../math/random.js';

export interface PopulationSpec {
  readonly accounts: number;
  readonly seed: number;
  /** Total collateral value at the start prices (quote). */
  readonly bookValue: number;
  /** Relative share of accounts whose main collateral is each asset, by symbol. */
  readonly mix: Readonly<Record<string, number>>;
  readonly secondAssetShare: number;
  /** Pareto tail index of account sizes (smaller: heavier tail). */
  readonly sizeTail: number;
  /** Largest account, as a share of the book. */
  readonly largestShare: number;
  /** Median maintenance health at the start, and the log spread around it. */
  readonly healthMedian: number;
  readonly healthSpread: number;
}

export const DEFAULT_POPULATION: Omit<PopulationSpec, 'mix'> = {
  accounts: 10_000,
  seed: 1,
  bookValue: 1_000_000_000,
  secondAssetShare: 0.3,
  sizeTail: 1.3,
  largestShare: 0.02,
  healthMedian: 1.6,
  healthSpread: 0.55,
};

/** One account: collateral units per asset symbol and the maintenance health it aims at. */
export interface AccountSpec {
  readonly id: string;
  /** Units (not base units) of each collateral asset, at most two. */
  readonly collateral: readonly { readonly symbol: string; readonly units: number }[];
  readonly health: number;
}

/** Checks a specification; throws `invalid_field` naming the option. */
export function validatePopulation(spec: PopulationSpec): void {
  const fail = (field: string, message: string): never => {
    throw new FulcrumError('invalid_field', message, field);
  };
  if (!Number.isSafeInteger(spec.accounts) || spec.accounts < 1 || spec.accounts > 2_000_000)
    fail('accounts', 'accounts must be a whole number from 1 to 2,000,000');
  if (!Number.isSafeInteger(spec.seed) || spec.seed < 0 || spec.seed > 0xffffffff)
    fail('seed', 'the seed must be a whole number from 0 to 4294967295');
  if (!(spec.bookValue >= 1_000 && spec.bookValue <= 1e13))
    fail('bookValue', 'the book value must be from 1,000 to 10^13');
  const weights = Object.values(spec.mix);
  if (weights.length === 0 || weights.some((w) => !(w >= 0)) || !weights.some((w) => w > 0))
    fail('mix', 'the collateral mix needs at least one positive share');
  if (!(spec.secondAssetShare >= 0 && spec.secondAssetShare <= 1))
    fail('secondAssetShare', 'the share of accounts with a second asset must be in [0, 1]');
  if (!(spec.sizeTail >= 0.5 && spec.sizeTail <= 10))
    fail('sizeTail', 'the size tail index must be from 0.5 to 10');
  if (!(spec.largestShare > 0 && spec.largestShare <= 1))
    fail('largestShare', 'the largest share must be in (0, 1]');
  if (spec.accounts * spec.largestShare < 1)
    fail(
      'largestShare',
      'accounts × largest share must be at least 1, or no book reaches its value',
    );
  if (!(spec.healthMedian > 1 && spec.healthMedian <= 20))
    fail('healthMedian', 'the median health must be above 1 and at most 20');
  if (!(spec.healthSpread >= 0 && spec.healthSpread <= 3))
    fail('healthSpread', 'the health spread must be from 0 to 3');
}

/**
 * Draws the accounts. Deterministic: the same spec and prices give the same accounts.
 *
 * @example
 * generatePopulation({ ...DEFAULT_POPULATION, mix: { ETH: 0.6, BTC: 0.4 } }, { ETH: 194, BTC: 7900 });
 */
export function generatePopulation(
  spec: PopulationSpec,
  prices: Readonly<Record<string, number>>,
): AccountSpec[] {
  validatePopulation(spec);
  const random = new SeededRandom(spec.seed);
  const symbols = Object.keys(spec.mix).filter((s) => (spec.mix[s] ?? 0) > 0);
  for (const symbol of symbols) {
    // Own properties only: a symbol such as `toString` is a name, not a method of the object.
    const price = Object.hasOwn(prices, symbol) ? prices[symbol] : undefined;
    if (price === undefined || !(price > 0)) {
      throw new FulcrumError('unknown_asset', `no price for ${symbol}`, 'mix');
    }
  }
  const total = symbols.reduce((sum, s) => sum + (spec.mix[s] ?? 0), 0);
  const pick = (u: number): string => {
    let acc = 0;
    for (const s of symbols) {
      acc += (spec.mix[s] ?? 0) / total;
      if (u < acc) return s;
    }
    return symbols.at(-1) as string;
  };
  const sizes = paretoSizes(spec, random);
  const accounts: AccountSpec[] = [];
  const width = String(spec.accounts).length;
  for (let i = 0; i < spec.accounts; i++) {
    const value = sizes[i] as number;
    const main = pick(random.next());
    const collateral: { symbol: string; units: number }[] = [];
    const second =
      symbols.length > 1 && random.next() < spec.secondAssetShare
        ? symbols.filter((s) => s !== main)[Math.floor(random.next() * (symbols.length - 1))]
        : undefined;
    const secondShare = second === undefined ? 0 : 0.2 + 0.3 * random.next();
    collateral.push({
      symbol: main,
      units: (value * (1 - secondShare)) / (prices[main] as number),
    });
    if (second !== undefined) {
      collateral.push({
        symbol: second,
        units: (value * secondShare) / (prices[second] as number),
      });
    }
    const health = 1 + (spec.healthMedian - 1) * Math.exp(spec.healthSpread * random.normal());
    accounts.push({ id: `a${String(i + 1).padStart(width, '0')}`, collateral, health });
  }
  return accounts;
}

/**
 * Account sizes (quote): Pareto draws (tail index `sizeTail`), scaled so that the book is worth
 * `bookValue` with no account above `largestShare` of it. Water-filling: accounts at the cap stay
 * there, the others are scaled up to make up the rest, until no new account reaches the cap
 * (each round caps at least one more, so it ends; in practice within a few rounds). Draws one
 * number of `random` per account.
 */
export function paretoSizes(
  spec: Pick<PopulationSpec, 'accounts' | 'bookValue' | 'sizeTail' | 'largestShare'>,
  random: SeededRandom,
): Float64Array {
  const sizes = new Float64Array(spec.accounts);
  for (let i = 0; i < spec.accounts; i++) {
    sizes[i] = (1 - random.next()) ** (-1 / spec.sizeTail);
  }
  const cap = spec.bookValue * spec.largestShare;
  const capped = new Uint8Array(spec.accounts);
  for (let round = 0; round <= spec.accounts; round++) {
    let free = 0;
    let cappedCount = 0;
    for (let i = 0; i < sizes.length; i++) {
      if (capped[i] === 1) cappedCount++;
      else free += sizes[i] as number;
    }
    const scale = (spec.bookValue - cappedCount * cap) / free;
    let changed = false;
    for (let i = 0; i < sizes.length; i++) {
      if (capped[i] === 1) continue;
      const size = (sizes[i] as number) * scale;
      if (size >= cap) {
        sizes[i] = cap;
        capped[i] = 1;
        changed = true;
      } else {
        sizes[i] = size;
      }
    }
    if (!changed) break;
  }
  return sizes;
}

/** Most accounts a population file may hold (as many as a generated population). */
export const POPULATION_ACCOUNTS_MAX = 2_000_000;

/** Most collateral assets one account of a population file may hold. */
export const POPULATION_COLLATERAL_MAX = 8;

/** Largest units of one collateral asset an account may hold (below 10^15). */
const UNITS_MAX = 10n ** 33n - 1n;

/** Account ids of a population file: 1-64 letters, digits, `.`, `_` or `-`, a letter or digit first. */
const POPULATION_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * Parses a population file: one account a line,
 * `{"id":"a1","collateral":[{"symbol":"ETH","units":"12.5"}],"health":"1.4"}`, blank lines
 * skipped. Strict: every field typed and in range, no other field, units and health as decimal
 * strings, each id once and each symbol once per account, at most
 * {@link POPULATION_ACCOUNTS_MAX} accounts. Errors name `name:line` and the field.
 *
 * @example
 * parsePopulation('{"id":"a1","collateral":[{"symbol":"ETH","units":"2"}],"health":"1.5"}', 'book.jsonl');
 */
export function parsePopulation(text: string, name: string): AccountSpec[] {
  const file = fieldName(name);
  const accounts: AccountSpec[] = [];
  const lineOf = new Map<string, number>();
  let lineNumber = 0;
  let start = 0;
  while (start <= text.length) {
    const end = text.indexOf('\n', start);
    const line = text.slice(start, end === -1 ? text.length : end).trim();
    lineNumber++;
    start = end === -1 ? text.length + 1 : end + 1;
    if (line === '') continue;
    const where = `${file}:${lineNumber}`;
    if (accounts.length >= POPULATION_ACCOUNTS_MAX) {
      throw new FulcrumError(
        'limit_exceeded',
        `${file} holds more than ${POPULATION_ACCOUNTS_MAX} accounts`,
        where,
      );
    }
    const account = parseAccountLine(line, where);
    const earlier = lineOf.get(account.id);
    if (earlier !== undefined) {
      throw new FulcrumError(
        'invalid_field',
        `${where}: account ${quoteInput(account.id)} is already on line ${earlier}`,
        `${where} id`,
      );
    }
    lineOf.set(account.id, lineNumber);
    accounts.push(account);
  }
  if (accounts.length === 0) {
    throw new FulcrumError('invalid_field', `${file} holds no accounts`, file);
  }
  return accounts;
}

/** One line of a population file. */
function parseAccountLine(line: string, where: string): AccountSpec {
  const raw = expectObject(parseJsonText(line, where), where);
  rejectUnknownFields(raw, ['id', 'collateral', 'health'], where);
  const fail = (
    field: string,
    message: string,
    code: 'invalid_field' | 'invalid_number' = 'invalid_field',
  ): never => {
    throw new FulcrumError(code, `${where} ${field} ${message}`, `${where} ${field}`);
  };
  const id = raw.id;
  if (typeof id !== 'string' || !POPULATION_ID_PATTERN.test(id)) {
    fail('id', `must be 1-64 letters, digits, ".", "_" or "-" (got ${quoteInput(id)})`);
  }
  const collateral = raw.collateral;
  if (
    !Array.isArray(collateral) ||
    collateral.length === 0 ||
    collateral.length > POPULATION_COLLATERAL_MAX
  ) {
    fail('collateral', `must list 1 to ${POPULATION_COLLATERAL_MAX} assets`);
  }
  const held = new Set<string>();
  const entries = (collateral as unknown[]).map((entry, k) => {
    const field = `collateral[${k}]`;
    const c = expectObject(entry, `${where} ${field}`);
    rejectUnknownFields(c, ['symbol', 'units'], `${where} ${field}`);
    const symbol = c.symbol;
    if (typeof symbol !== 'string' || !SYMBOL_PATTERN.test(symbol)) {
      fail(
        `${field}.symbol`,
        `must be an asset symbol of 1-16 letters or digits (got ${quoteInput(symbol)})`,
      );
    }
    if (held.has(symbol as string)) fail(`${field}.symbol`, `repeats ${quoteInput(symbol)}`);
    held.add(symbol as string);
    const units = parseDecimal(c.units, 18, {
      field: `${where} ${field}.units`,
      min: 1n,
      max: UNITS_MAX,
    });
    return { symbol: symbol as string, units: Number(units) / 1e18 };
  });
  const health = parseDecimal(raw.health, 18, { field: `${where} health` });
  const healthValue = Number(health) / 1e18;
  if (!(healthValue > 1 && healthValue <= 100)) {
    fail('health', 'must be above 1 and at most 100', 'invalid_number');
  }
  return { id: id as string, collateral: entries, health: healthValue };
}
