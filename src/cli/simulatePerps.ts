/**
 * The derivatives book of `fulcrum simulate` on the command line: `--perps`, `--leverage`,
 * `--long-share` and `--depeg` read strictly, perpetuals' mark files told apart from spot price
 * files, and the derivatives half of the printed comparison.
 */
import { quoteInput } from '../domain/quote.js';
import { DEPEG_DEPTH_MAX, PEGGED_TOKENS } from '../sim/peg.js';
import { PERP_SUFFIX } from '../sim/perpDesk.js';
import type { SimulationResult } from '../sim/result.js';
import { DEFAULT_PERPS_SHARE, type PerpsOptions } from '../sim/scenarios.js';
import { DEFAULT_TRADERS, LEVERAGE_MAX } from '../sim/traders.js';
import { CliError, EXIT, priceFileNames } from './io.js';
import { numberOption, optionalNumber } from './options.js';
import { table } from './table.js';

export const PERPS_HELP = `derivatives book (docs/SIMULATOR.md, "Perpetuals"):
  --perps SHARE          perpetual traders' share of the accounts and of the book, 0 to 1
                         (default 0: a lending book; ${DEFAULT_PERPS_SHARE} for black-thursday-perps and for
                         --prices with mark files); they trade ETH-PERP, BTC-PERP, ... against a maker
  --leverage MIN-MAX     traders' leverage, log-uniform (default ${DEFAULT_TRADERS.leverageMin}-${DEFAULT_TRADERS.leverageMax}; at most ${LEVERAGE_MAX};
                         initial margin and the size premium hold each trader to what it allows)
  --long-share F         share of traders who are long (default ${DEFAULT_TRADERS.longShare})
  --depeg TOKEN=DEPTH,...  how far a pegged token falls below its peg at the crash's worst,
                         0 to ${DEPEG_DEPTH_MAX} (tokens: ${PEGGED_TOKENS.map((t) => `${t.symbol} ${t.depth}`).join(', ')})
  perpetuals' marks: --prices takes them beside the spot files, named for a derivatives venue
  (binance-usdm_ETHUSDT_1h.csv) or for the perpetual (x_ETH-PERP_1h.csv); without one the
  basis over the index is zero`;

/** The derivatives options as parsed from the command line (strings). */
export interface PerpsFlags {
  readonly perps?: string | undefined;
  readonly leverage?: string | undefined;
  readonly longShare?: string | undefined;
  readonly depeg?: string | undefined;
}

function usage(message: string, field: string, code: 'invalid_field' = 'invalid_field'): never {
  throw new CliError(message, EXIT.usage, { code, field });
}

/**
 * The derivatives book the flags describe, or undefined for a lending book: `--perps` (else
 * `fallback`), and the traders' options, which need a share above zero.
 */
export function perpsOptions(flags: PerpsFlags, fallback: number): PerpsOptions | undefined {
  const share = optionalNumber(flags.perps, 'perps', { min: 0, max: 1 }, fallback);
  if (share === 0) {
    for (const [flag, value] of [
      ['--leverage', flags.leverage],
      ['--long-share', flags.longShare],
      ['--depeg', flags.depeg],
    ] as const) {
      if (value !== undefined) {
        usage(`${flag} describes perpetual traders: give --perps SHARE above 0 too`, flag);
      }
    }
    return undefined;
  }
  const leverage = flags.leverage === undefined ? undefined : parseLeverage(flags.leverage);
  const longShare =
    flags.longShare === undefined
      ? undefined
      : numberOption(flags.longShare, 'long-share', { min: 0, max: 1 });
  const depeg = flags.depeg === undefined ? undefined : parseDepeg(flags.depeg);
  return {
    share,
    ...(leverage === undefined ? {} : { leverageMin: leverage[0], leverageMax: leverage[1] }),
    ...(longShare === undefined ? {} : { longShare }),
    ...(depeg === undefined ? {} : { depeg }),
  };
}

/**
 * `--leverage MIN-MAX` (or one number, for every trader), each from 1 to {@link LEVERAGE_MAX},
 * the least first.
 *
 * @example
 * parseLeverage('2-50'); // [2, 50]
 */
export function parseLeverage(text: string): [number, number] {
  const parts = text.split('-');
  if (parts.length > 2 || parts.some((p) => p === '')) {
    usage(
      `--leverage takes MIN-MAX such as 2-50, or one number (got ${quoteInput(text)})`,
      '--leverage',
    );
  }
  const range = { min: 1, max: LEVERAGE_MAX };
  const [min, max] = parts.map((p) => numberOption(p, 'leverage', range));
  const low = min as number;
  const high = max ?? low;
  if (low > high) {
    usage(`--leverage takes the least first: MIN-MAX (got ${quoteInput(text)})`, '--leverage');
  }
  return [low, high];
}

/**
 * `--depeg TOKEN=DEPTH,...`: pegged tokens of the model, each once, each depth from 0 to
 * {@link DEPEG_DEPTH_MAX}.
 *
 * @example
 * parseDepeg('STETH=0.1,SUSD=0.05'); // { STETH: 0.1, SUSD: 0.05 }
 */
export function parseDepeg(text: string): Record<string, number> {
  const known = PEGGED_TOKENS.map((t) => t.symbol);
  const depeg = new Map<string, number>();
  for (const item of text.split(',')) {
    const equals = item.indexOf('=');
    const token = equals < 0 ? item : item.slice(0, equals);
    if (equals < 0) {
      usage(`--depeg takes TOKEN=DEPTH,... such as STETH=0.1 (got ${quoteInput(text)})`, '--depeg');
    }
    if (!known.includes(token)) {
      usage(
        `--depeg names ${quoteInput(token)}, not a pegged token of the model (${known.join(', ')})`,
        '--depeg',
      );
    }
    if (depeg.has(token)) usage(`--depeg names ${token} twice`, '--depeg');
    depeg.set(
      token,
      numberOption(item.slice(equals + 1), 'depeg', { min: 0, max: DEPEG_DEPTH_MAX }),
    );
  }
  return Object.fromEntries(depeg);
}

/** Sources of perpetuals' bars: a derivatives venue's name ends with one of these. */
const DERIVATIVES_VENUE = /(^|-)(usdm|coinm|perp|perps|perpetual|futures|swap)$/i;

/**
 * The perpetual a price file marks, by its name, or null for a spot file: its pair names the
 * perpetual (`x_ETH-PERP_1h.csv`), or its source is a derivatives venue
 * (`binance-usdm_ETHUSDT_1h.csv` marks `ETH-PERP`).
 */
export function markSymbolOf(path: string): string | null {
  const { asset, source } = priceFileNames(path);
  if (asset.toUpperCase().endsWith(PERP_SUFFIX)) {
    return `${asset.slice(0, -PERP_SUFFIX.length)}${PERP_SUFFIX}`;
  }
  return DERIVATIVES_VENUE.test(source) ? `${asset}${PERP_SUFFIX}` : null;
}

/** The derivatives half of the printed comparison: one row per policy; none without perpetuals. */
export function perpsSummary(result: SimulationResult, money: (x: number) => string): string[] {
  const traders = result.population.traders;
  if (traders === undefined || result.runs.every((r) => r.metrics.derivatives === undefined)) {
    return [];
  }
  const rows = result.runs.map((r) => {
    const d = r.metrics.derivatives;
    if (d === undefined) return [r.policy, '—'];
    const spot = r.metrics.badDebt - d.badDebt;
    return [
      r.policy,
      `${d.positionLiquidations} (${d.fundTakeovers})`,
      money(d.takeoverNotional + d.fundTakeoverNotional),
      String(d.tradersLiquidated),
      money(d.fundingPaid),
      `${d.adlFills} / ${money(d.adlNotional)}`,
      money(d.socializedLoss),
      `${money(spot)} / ${money(d.badDebt)}`,
      money(d.badDebtInsuranceDraw),
      money(d.badDebtSocialized),
      money(d.insuranceFund.end - d.insuranceFund.start),
    ];
  });
  return [
    '',
    `derivatives book: ${traders.accounts} traders, collateral ${money(traders.collateralValue)}, ` +
      `leverage p10/p50/p90 ${traders.leverage.p10.toFixed(1)}x/${traders.leverage.p50.toFixed(1)}x/${traders.leverage.p90.toFixed(1)}x; ` +
      `perpetuals ${(result.perpetuals ?? []).map((p) => `${p.symbol} (basis: ${p.basisSource})`).join(', ')}`,
    '',
    table(
      [
        'policy',
        'takeovers (fund)',
        'taken over',
        'traders',
        'funding paid',
        'ADL fills / notional',
        'ADL counterparties bore',
        'bad debt spot / perps',
        'perps: fund paid',
        'perps: lenders bore',
        'fund result',
      ],
      rows,
    ),
  ];
}
