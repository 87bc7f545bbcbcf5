/**
 * Price grades and the policy that says which actions each grade allows.
 *
 * Every aggregated price carries a grade. Grades are ordered by severity (the first that applies
 * wins): non-positive, too volatile, too uncertain, stale, insufficient sources, valid. The
 * policy is configuration; its defaults keep new risk to valid prices and never liquidate on a
 * non-positive, too volatile or stale price.
 */
import { FulcrumError } from '../base/errors.js';
import { expectObject, rejectUnknownFields } from './input.js';

export const GRADES = [
  'nonPositive',
  'tooVolatile',
  'tooUncertain',
  'stale',
  'insufficientSources',
  'valid',
] as const;
export type Grade = (typeof GRADES)[number];

/** What a grade may allow: new risk (borrow, withdraw, transfer out) and liquidation. */
export const PRICE_ACTIONS = ['newRisk', 'liquidate'] as const;
export type PriceAction = (typeof PRICE_ACTIONS)[number];

/** For each grade, the actions it allows. Plain lists, so that a policy stores as JSON. */
export type PricePolicy = Readonly<Record<Grade, readonly PriceAction[]>>;

/**
 * The safe default: new risk only on valid prices; liquidation also when sources are too few or
 * too uncertain (an outage must not stop liquidations that protect the venue), never on a stale,
 * too volatile or non-positive price.
 */
export const DEFAULT_PRICE_POLICY: PricePolicy = {
  valid: ['newRisk', 'liquidate'],
  insufficientSources: ['liquidate'],
  tooUncertain: ['liquidate'],
  stale: [],
  tooVolatile: [],
  nonPositive: [],
};

/** True when `grade` allows `action` under `policy`. */
export function gradeAllows(policy: PricePolicy, grade: Grade, action: PriceAction): boolean {
  return policy[grade].includes(action);
}

/**
 * A policy from JSON: `{ "stale": ["liquidate"], ... }`; grades not named keep their default.
 * Non-positive and too-volatile prices may never allow liquidation or new risk.
 */
export function parsePricePolicy(input: unknown, field: string): PricePolicy {
  const raw = expectObject(input, field);
  rejectUnknownFields(raw, GRADES, field);
  const policy: Record<Grade, readonly PriceAction[]> = { ...DEFAULT_PRICE_POLICY };
  for (const grade of GRADES) {
    const value = raw[grade];
    if (value === undefined) continue;
    const where = `${field}.${grade}`;
    if (
      !Array.isArray(value) ||
      value.some((a) => !(PRICE_ACTIONS as readonly unknown[]).includes(a))
    ) {
      throw new FulcrumError(
        'invalid_config',
        `${where} must be a list of ${PRICE_ACTIONS.join(', ')}`,
        where,
      );
    }
    if ((grade === 'nonPositive' || grade === 'tooVolatile') && value.length > 0) {
      throw new FulcrumError(
        'invalid_config',
        `${where}: a ${grade} price may allow nothing`,
        where,
      );
    }
    policy[grade] = [...new Set(value as PriceAction[])];
  }
  return policy;
}
