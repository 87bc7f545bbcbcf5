/**
 * The one margin account in motion: in-memory commands of a derivatives venue's mix (fills,
 * marks, funding, deposits, borrows, withdrawals) on one core, beside a bare Map update per
 * command; and the cost of a deposit and of a fill at 10,000 and at 1,000,000 accounts, to show
 * it does not grow with the book.
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

const SIZE_UNIT = 10n ** 8n;
const PRICE = 10n ** 18n;
const USDC = 10n ** 6n;

/** The venue's opening: USDC and ETH pools, an ETH perpetual, a lender (JSON commands). */
export const OPENING: readonly Record<string, unknown>[] = [
  {
    type: 'list-asset',
    time: 0,
    price: '1',
    config: { symbol: 'USDC', decimals: 6, initialWeight: '0.9', maintenanceWeight: '0.95' },
  },
  {
    type: 'list-asset',
    time: 0,
    price: '2000',
    config: { symbol: 'ETH', decimals: 18, initialWeight: '0.8', maintenanceWeight: '0.825' },
  },
  {
    type: 'list-instrument',
    time: 0,
    price: '2000',
    config: {
      kind: 'perpetual',
      symbol: 'ETH-PERP',
      underlying: 'ETH',
      initialMargin: '0.1',
      maintenanceMargin: '0.05',
      fundingIntervalSeconds: '3600',
    },
  },
  { type: 'deposit', time: 0, account: 'lender', asset: 'USDC', amount: '1000000000' },
  { type: 'deposit', time: 0, account: 'lender', asset: 'ETH', amount: '100000' },
];

/** Account `a`'s opening deposit: 10,000 USDC. */
export function fundAccount(a: number): Command {
  return {
    type: 'deposit',
    time: 0,
    account: `acct-${a}`,
    subAccount: 0,
    asset: 'USDC',
    amount: 10_000n * USDC,
  };
}

/** The opened venue with `accounts` funded accounts. */
export function venue(accounts: number): EngineState {
  const state = createState();
  for (const input of OPENING) {
    const result = applyCommand(state, decodeCommand(input, state));
    if (!result.ok) throw new Error(result.error.message);
  }
  for (let a = 0; a < accounts; a++) {
    const result = applyCommand(state, fundAccount(a));
    if (!result.ok) throw new Error(result.error.message);
  }
  return state;
}

/**
 * The mix, seeded: fills 35% (0.01 to 1 ETH-PERP between two accounts, near the mark), marks
 * 15%, ETH prices 10%, deposits 15%, borrows of ETH 10%, withdrawals 10%, funding 5% (refused
 * until an hour has passed); the clock moves every 100 commands.
 */
export function mix(count: number, accounts: number, seed: number): Command[] {
  const random = new SeededRandom(seed);
  const commands: Command[] = [];
  let mark = 2_000n * PRICE;
  let index = 2_000n * PRICE;
  for (let i = 0; i < count; i++) {
    const time = 1 + Math.floor(i / 100);
    const account = `acct-${random.integer(0, accounts - 1)}`;
    const roll = random.next();
    if (roll < 0.35) {
      const seller = `acct-${random.integer(0, accounts - 1)}`;
      commands.push({
        type: 'trade',
        time,
        buyer: { account, subAccount: 0 },
        seller: { account: seller, subAccount: 0 },
        instrument: 'ETH-PERP',
        size: BigInt(random.integer(1, 100)) * (SIZE_UNIT / 100n),
        price: (mark * BigInt(9_995 + random.integer(0, 10))) / 10_000n,
      });
    } else if (roll < 0.5) {
      mark = (mark * BigInt(9_990 + random.integer(0, 20))) / 10_000n;
      commands.push({ type: 'set-price', time, asset: 'ETH-PERP', price: mark });
    } else if (roll < 0.6) {
      index = (index * BigInt(9_990 + random.integer(0, 20))) / 10_000n;
      commands.push({ type: 'set-price', time, asset: 'ETH', price: index });
    } else if (roll < 0.75) {
      const amount = BigInt(random.integer(1, 1000)) * USDC;
      commands.push({ type: 'deposit', time, account, subAccount: 0, asset: 'USDC', amount });
    } else if (roll < 0.85) {
      const amount = BigInt(random.integer(1, 100)) * 10n ** 15n;
      commands.push({ type: 'borrow', time, account, subAccount: 0, asset: 'ETH', amount });
    } else if (roll < 0.95) {
      const amount = BigInt(random.integer(1, 100)) * USDC;
      commands.push({ type: 'withdraw', time, account, subAccount: 0, asset: 'USDC', amount });
    } else {
      commands.push({ type: 'settle-funding', time, instrument: 'ETH-PERP' });
    }
  }
  return commands;
}

function rate(count: number, run: () => void): number {
  const start = process.hrtime.bigint();
  run();
  return (count * 1e9) / Number(process.hrtime.bigint() - start);
}

/**
 * The least a deposit can cost at a book size: the same deposits' account names looked up in a
 * `Map` of every account to a slot, and one number added in a typed array, allocating nothing.
 * What the engine adds on top of it at 1,000,000 accounts is its own memory: the chain of
 * objects an account is and the collector's promotion of each new balance.
 */
function floor(rounds: readonly Command[][]): number[] {
  let accounts = 0;
  for (const round of rounds) {
    for (const command of round) {
      if (command.type === 'deposit')
        accounts = Math.max(accounts, accountNumber(command.account) + 1);
    }
  }
  const slots = new Map<string, number>();
  for (let a = 0; a < accounts; a++) slots.set(`acct-${a}`, a);
  const balances = new Float64Array(accounts);
  return rounds.map((round) =>
    rate(round.length, () => {
      for (const command of round) {
        if (command.type !== 'deposit') continue;
        const slot = slots.get(command.account) as number;
        balances[slot] = (balances[slot] as number) + 1;
      }
    }),
  );
}

function accountNumber(name: string): number {
  return Number(name.slice('acct-'.length));
}

export function accountBenchmarks(): { measurements: Measurement[]; note: string } {
  const COUNT = 100_000;
  const commands = mix(COUNT, 10_000, 11);
  const rates: number[] = [];
  let accepted = 0;
  for (let round = 0; round < 4; round++) {
    const state = venue(10_000);
    accepted = 0;
    rates.push(
      rate(COUNT, () => {
        for (const command of commands) if (applyCommand(state, command).ok) accepted++;
      }),
    );
  }
  const bare: number[] = [];
  for (let round = 0; round < 4; round++) {
    const balances = new Map<string, bigint>();
    bare.push(
      rate(COUNT, () => {
        for (const command of commands) {
          const key = 'account' in command ? command.account : command.type;
          balances.set(key, (balances.get(key) ?? 0n) + 1n);
        }
      }),
    );
  }
  const scaling: Measurement[] = [];
  // Code warmed on a small venue first, so that neither book size is measured on cold code;
  // then rounds of 20,000 commands each, the median kept.
  const runs = [
    { accounts: 10_000, kept: false },
    { accounts: 10_000, kept: true },
    { accounts: 1_000_000, kept: true },
  ];
  for (const { accounts, kept } of runs) {
    const state = venue(accounts);
    const random = new SeededRandom(accounts);
    const ROUNDS = 5;
    const N = 20_000;
    const deposits: Command[][] = [];
    const fills: Command[][] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const roundDeposits: Command[] = [];
      const roundFills: Command[] = [];
      for (let i = 0; i < N; i++) {
        const account = `acct-${random.integer(0, accounts - 1)}`;
        const other = `acct-${random.integer(0, accounts - 1)}`;
        const time = 1 + round;
        roundDeposits.push({
          type: 'deposit',
          time,
          account,
          subAccount: 0,
          asset: 'USDC',
          amount: USDC,
        });
        roundFills.push({
          type: 'trade',
          time,
          buyer: { account, subAccount: 0 },
          seller: { account: other, subAccount: 0 },
          instrument: 'ETH-PERP',
          size: SIZE_UNIT / 10n,
          price: 2_000n * PRICE,
        });
      }
      deposits.push(roundDeposits);
      fills.push(roundFills);
    }
    const apply = (list: Command[]) => () => {
      for (const command of list) applyCommand(state, command);
    };
    const depositRates: number[] = [];
    const fillRates: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      depositRates.push(rate(N, apply(deposits[round] as Command[])));
      fillRates.push(rate(N, apply(fills[round] as Command[])));
    }
    if (!kept) continue;
    const named = accounts.toLocaleString('en');
    scaling.push(
      rateMeasurement(`deposit, ${named} accounts`, depositRates),
      rateMeasurement(`fill, ${named} accounts`, fillRates),
      rateMeasurement(
        `floor: a Map lookup and a typed-array add, ${named} accounts`,
        floor(deposits),
      ),
    );
  }
  return {
    measurements: [
      rateMeasurement('Fulcrum: typed commands, a derivatives venue mix (10,000 accounts)', rates),
      ...scaling,
      rateMeasurement('bare Map.set with a bigint add per command (baseline)', bare),
    ],
    note: `${accepted} of ${COUNT} commands of the mix accepted; the rest refused`,
  };
}
