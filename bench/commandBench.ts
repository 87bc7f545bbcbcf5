/**
 * In-memory command throughput: a realistic mix of typed commands over many accounts, applied
 * to a fresh engine each round; the same mix through JSON (what `fulcrum run` does); and, as the
 * baseline measured in the same run, the bare cost of a Map update with a bigint add per command.
 */
import {
  applyCommand,
  type Command,
  createState,
  decodeCommand,
  type EngineState,
} from '../src/index.js';
import { SeededRandom } from '../src/math/random.js';
import { type Measurement, rateMeasurement } from './harness.js';

const ACCOUNTS = 10_000;
const COMMANDS = 200_000;
const ROUNDS = 5;
/** Commands per second of engine time: the clock moves every 100 commands. */
const COMMANDS_PER_SECOND = 100;

const LISTINGS = [
  { symbol: 'USDC', decimals: 6, price: 1, unit: 10n ** 6n },
  { symbol: 'ETH', decimals: 18, price: 2000, unit: 10n ** 18n },
  { symbol: 'WBTC', decimals: 8, price: 60000, unit: 10n ** 8n },
  { symbol: 'LINK', decimals: 18, price: 14, unit: 10n ** 18n },
] as const;

/** The JSON commands that list the assets, fill the pools and give every account collateral. */
export function setupCommands(): unknown[] {
  const commands: unknown[] = [];
  for (const l of LISTINGS) {
    commands.push({
      type: 'list-asset',
      time: 0,
      price: String(l.price),
      config: {
        symbol: l.symbol,
        decimals: l.decimals,
        initialWeight: '0.75',
        maintenanceWeight: '0.8',
      },
    });
    commands.push({
      type: 'deposit',
      time: 0,
      account: `lender-${l.symbol}`,
      asset: l.symbol,
      amount: String(Math.floor(1e9 / l.price)),
    });
  }
  for (let a = 0; a < ACCOUNTS; a++) {
    commands.push({ type: 'deposit', time: 0, account: `acct-${a}`, asset: 'ETH', amount: '10' });
  }
  return commands;
}

/** A state after {@link setupCommands}. */
export function setup(): EngineState {
  const state = createState();
  for (const input of setupCommands()) {
    const result = applyCommand(state, decodeCommand(input, state));
    if (!result.ok) throw new Error(result.error.message);
  }
  return state;
}

/**
 * The command mix, as an endless seeded stream: prices 30%, deposits 20%, borrows 20%, repays
 * 15%, withdrawals 10%, transfers 5%; the clock moves every 100 commands.
 */
export class Workload {
  private readonly random: SeededRandom;
  private readonly prices = LISTINGS.map((l) => BigInt(l.price) * 10n ** 18n);
  private index = 0;

  constructor(seed: number) {
    this.random = new SeededRandom(seed);
  }

  next(count: number): Command[] {
    const commands: Command[] = [];
    for (let n = 0; n < count; n++) commands.push(this.one());
    return commands;
  }

  private one(): Command {
    const { random, prices } = this;
    const i = this.index++;
    const time = 1 + Math.floor(i / COMMANDS_PER_SECOND);
    const account = `acct-${random.integer(0, ACCOUNTS - 1)}`;
    const which = random.integer(0, LISTINGS.length - 1);
    const listing = LISTINGS[which] ?? LISTINGS[0];
    const asset = listing.symbol;
    const small =
      (listing.unit * BigInt(1 + random.integer(0, 1000 - 1))) / BigInt(listing.price * 100);
    const roll = random.next();
    if (roll < 0.3) {
      const old = prices[which] ?? 1n;
      const moved = (old * BigInt(9990 + random.integer(0, 21 - 1))) / 10_000n;
      prices[which] = moved;
      return { type: 'set-price', time, asset, price: moved };
    } else if (roll < 0.5) {
      return { type: 'deposit', time, account, subAccount: 0, asset: 'ETH', amount: small };
    } else if (roll < 0.7) {
      const borrowable = asset === 'ETH' ? 'USDC' : asset;
      return {
        type: 'borrow',
        time,
        account,
        subAccount: 0,
        asset: borrowable,
        amount: small,
      };
    } else if (roll < 0.85) {
      const debt = asset === 'ETH' ? 'USDC' : asset;
      return {
        type: 'repay',
        time,
        account,
        subAccount: 0,
        asset: debt,
        amount: random.next() < 0.5 ? 'all' : small,
      };
    } else if (roll < 0.95) {
      return {
        type: 'withdraw',
        time,
        account,
        subAccount: 0,
        asset: 'ETH',
        amount: small,
      };
    } else {
      const to = { account: `acct-${random.integer(0, ACCOUNTS - 1)}`, subAccount: 1 };
      return {
        type: 'transfer',
        time,
        from: { account, subAccount: 0 },
        to,
        asset: 'ETH',
        amount: small,
      };
    }
  }
}

/** The first {@link COMMANDS} commands of the stream for `seed`. */
export function workload(seed: number): Command[] {
  return new Workload(seed).next(COMMANDS);
}

/** JSON text of the same commands, decimal strings as `fulcrum run` reads them. */
function toJsonLines(commands: readonly Command[]): string[] {
  return commands.map((c) =>
    JSON.stringify(c, (key, value) => {
      if (typeof value !== 'bigint') return value;
      if (key === 'price') return formatWad(value);
      const asset = (c as { asset: string }).asset;
      const listing = LISTINGS.find((l) => l.symbol === asset) ?? LISTINGS[0];
      return formatUnits(value, listing.decimals);
    }),
  );
}

function formatUnits(value: bigint, decimals: number): string {
  const text = value.toString().padStart(decimals + 1, '0');
  const whole = text.slice(0, text.length - decimals);
  const fraction = text.slice(text.length - decimals).replace(/0+$/, '');
  return fraction === '' ? whole : `${whole}.${fraction}`;
}

function formatWad(value: bigint): string {
  return formatUnits(value, 18);
}

function timed(rounds: number, prepare: () => () => void): number[] {
  const rates: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const run = prepare();
    const start = process.hrtime.bigint();
    run();
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    rates.push((COMMANDS * 1000) / ms);
  }
  return rates.sort((a, b) => a - b);
}

export function commandBenchmarks(): {
  measurements: Measurement[];
  accepted: number;
  total: number;
} {
  const commands = workload(7);
  const lines = toJsonLines(commands);
  let accepted = 0;
  const typed = timed(ROUNDS, () => {
    const state = setup();
    return () => {
      accepted = 0;
      for (const command of commands) if (applyCommand(state, command).ok) accepted++;
    };
  });
  const json = timed(ROUNDS, () => {
    const state = setup();
    return () => {
      for (const line of lines) applyCommand(state, decodeCommand(JSON.parse(line), state));
    };
  });
  const bare = timed(ROUNDS, () => {
    const balances = new Map<string, bigint>();
    return () => {
      for (const command of commands) {
        const key = 'account' in command ? command.account : command.type;
        const amount =
          'amount' in command && typeof command.amount === 'bigint' ? command.amount : 1n;
        balances.set(key, (balances.get(key) ?? 0n) + amount);
      }
    };
  });
  return {
    measurements: [
      rateMeasurement(`Fulcrum: typed commands (${ACCOUNTS} accounts, mixed)`, typed),
      rateMeasurement('Fulcrum: JSON line -> decode -> apply', json),
      rateMeasurement('bare Map.set with a bigint add per command (baseline)', bare),
    ],
    accepted,
    total: COMMANDS,
  };
}
