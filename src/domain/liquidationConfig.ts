/**
 * The venue's liquidation rules, one set for the whole engine: how much of a debt one
 * liquidation may repay, when it may repay all of it, what counts as dust, how fast
 * liquidations may go (throttles against cascades), and when the protocol's backstop steps in.
 * Values are in the quote unit (VALUE_SCALE), ratios in WEIGHT_SCALE, health in HEALTH_SCALE.
 */
import { FulcrumError } from '../base/errors.js';
import { parseDecimal } from '../math/decimal.js';
import {
  HEALTH_DECIMALS,
  HEALTH_SCALE,
  VALUE_DECIMALS,
  VALUE_SCALE,
  WEIGHT_DECIMALS,
  WEIGHT_SCALE,
} from '../math/fixed.js';
import { expectInteger, expectObject, rejectUnknownFields } from './input.js';

export interface LiquidationConfig {
  /** Share of one debt a liquidation may repay while the account is large and not deeply short. */
  readonly closeFactor: bigint;
  /** Accounts owing less than this (quote) may be liquidated in full (Aave v3.3: $2,000). */
  readonly fullCloseValue: bigint;
  /** Below this maintenance health, an account may be liquidated in full (Aave: 0.95). */
  readonly fullCloseHealth: bigint;
  /** A leftover debt or collateral worth less than this (quote) is taken whole, not left behind. */
  readonly dustValue: bigint;
  /** Throttle window (seconds); the caps below apply per window. */
  readonly throttleWindowSeconds: number;
  /** Most debt value (quote) repaid per account per window; null for no cap. */
  readonly accountCapValue: bigint | null;
  /** Most debt value (quote) repaid across the engine per window; null for no cap. */
  readonly globalCapValue: bigint | null;
  /** The protocol's backstop may act below this maintenance health (Hyperliquid: 2/3). */
  readonly backstopHealth: bigint;
  /** The backstop's market: the debt value that moves a collateral's price by 1% (quote). */
  readonly backstopDepthValue: bigint;
  /** The backstop's price impact never exceeds this (WEIGHT_SCALE). */
  readonly backstopImpactMax: bigint;
}

export const DEFAULT_LIQUIDATION_CONFIG: LiquidationConfig = {
  closeFactor: WEIGHT_SCALE / 2n,
  fullCloseValue: 2_000n * VALUE_SCALE,
  fullCloseHealth: (HEALTH_SCALE * 95n) / 100n,
  dustValue: 100n * VALUE_SCALE,
  throttleWindowSeconds: 60,
  accountCapValue: 1_000_000n * VALUE_SCALE,
  globalCapValue: 25_000_000n * VALUE_SCALE,
  backstopHealth: (HEALTH_SCALE * 2n) / 3n,
  backstopDepthValue: 1_000_000n * VALUE_SCALE,
  backstopImpactMax: WEIGHT_SCALE / 2n,
};

const FIELDS = [
  'closeFactor',
  'fullCloseValue',
  'fullCloseHealth',
  'dustValue',
  'throttleWindowSeconds',
  'accountCapValue',
  'globalCapValue',
  'backstopHealth',
  'backstopDepthValue',
  'backstopImpactMax',
] as const;

const VALUE_MAX = 10n ** 15n * VALUE_SCALE;

/**
 * Liquidation rules from JSON; fields not given keep their value in `base` (the defaults unless
 * said). A cap of `null` removes it.
 *
 * @example
 * parseLiquidationConfig({ closeFactor: '0.5', accountCapValue: '100000' }, 'config');
 */
export function parseLiquidationConfig(
  input: unknown,
  field: string,
  base: LiquidationConfig = DEFAULT_LIQUIDATION_CONFIG,
): LiquidationConfig {
  const raw = expectObject(input, field);
  rejectUnknownFields(raw, FIELDS, field);
  const d = base;
  const ratio = (name: string, fallback: bigint) =>
    raw[name] === undefined
      ? fallback
      : parseDecimal(raw[name], WEIGHT_DECIMALS, { field: `${field}.${name}`, max: WEIGHT_SCALE });
  const value = (name: string, fallback: bigint) =>
    raw[name] === undefined
      ? fallback
      : parseDecimal(raw[name], VALUE_DECIMALS, { field: `${field}.${name}`, max: VALUE_MAX });
  const cap = (name: string, fallback: bigint | null) =>
    raw[name] === undefined ? fallback : raw[name] === null ? null : value(name, 0n);
  const health = (name: string, fallback: bigint) =>
    raw[name] === undefined
      ? fallback
      : parseDecimal(raw[name], HEALTH_DECIMALS, { field: `${field}.${name}`, max: HEALTH_SCALE });
  const config: LiquidationConfig = {
    closeFactor: ratio('closeFactor', d.closeFactor),
    fullCloseValue: value('fullCloseValue', d.fullCloseValue),
    fullCloseHealth: health('fullCloseHealth', d.fullCloseHealth),
    dustValue: value('dustValue', d.dustValue),
    throttleWindowSeconds:
      raw.throttleWindowSeconds === undefined
        ? d.throttleWindowSeconds
        : expectInteger(raw.throttleWindowSeconds, `${field}.throttleWindowSeconds`, 1, 86_400),
    accountCapValue: cap('accountCapValue', d.accountCapValue),
    globalCapValue: cap('globalCapValue', d.globalCapValue),
    backstopHealth: health('backstopHealth', d.backstopHealth),
    backstopDepthValue: value('backstopDepthValue', d.backstopDepthValue),
    backstopImpactMax: ratio('backstopImpactMax', d.backstopImpactMax),
  };
  validateLiquidationConfig(config, field);
  return config;
}

/** Checks a configuration, parsed or built in code. Throws `invalid_config`. */
export function validateLiquidationConfig(config: LiquidationConfig, field: string): void {
  const fail = (message: string, name: string): never => {
    throw new FulcrumError('invalid_config', message, `${field}.${name}`);
  };
  if (config.closeFactor <= 0n || config.closeFactor > WEIGHT_SCALE)
    fail('closeFactor must be in (0, 1]', 'closeFactor');
  if (config.backstopDepthValue <= 0n)
    fail('backstopDepthValue must be more than zero', 'backstopDepthValue');
  if (config.backstopImpactMax >= WEIGHT_SCALE)
    fail('backstopImpactMax must be below 1', 'backstopImpactMax');
  for (const name of [
    'fullCloseValue',
    'dustValue',
    'fullCloseHealth',
    'backstopHealth',
  ] as const) {
    if (config[name] < 0n) fail(`${name} must not be negative`, name);
  }
  for (const name of ['accountCapValue', 'globalCapValue'] as const) {
    const cap = config[name];
    if (cap !== null && cap <= 0n) fail(`${name} must be more than zero, or null for no cap`, name);
  }
}
