import { describe, expect, it } from 'vitest';
import { FulcrumError } from '../base/errors.js';
import { decodeStoredCommand, encodeCommand } from '../engine/commandCodec.js';
import { Engine } from '../engine/engine.js';
import { RAY } from '../math/fixed.js';
import {
  DEFAULT_ORACLE_CONFIG,
  LEGACY_ORACLE_FIELDS,
  parseOracleConfig,
  withLegacyOracleFields,
} from './oracleConfig.js';

describe('oracle configuration: agreement, frozen sources, delay price, widening', () => {
  it.each([
    // JSON, what it parses to
    [{}, {}],
    [{ maxSpread: '0.01' }, { maxSpreadRay: RAY / 100n }],
    [{ maxSpread: null }, { maxSpreadRay: null }],
    [{ maxUnchangedSeconds: 60 }, { maxUnchangedSeconds: 60 }],
    [{ maxUnchangedSeconds: null }, { maxUnchangedSeconds: 0 }],
    [{ maxUnchangedSeconds: 0 }, { maxUnchangedSeconds: 0 }],
    [{ delayIntervals: null }, { delayIntervals: 0 }],
    [
      { delayIntervals: 12, delayIntervalSeconds: 300, delayGrowthMax: '0.02' },
      { delayIntervals: 12, delayIntervalSeconds: 300, delayGrowthMaxRay: RAY / 50n },
    ],
    [{ confidenceWidening: '2.12' }, { confidenceWideningRay: (RAY * 212n) / 100n }],
  ] as const)('%j', (json, fields) => {
    expect(parseOracleConfig(json, 'oracle')).toEqual({ ...DEFAULT_ORACLE_CONFIG, ...fields });
  });

  it.each([
    [{ maxSpread: '0' }, 'oracle.maxSpreadRay'],
    [{ maxSpread: '1.5' }, 'oracle.maxSpread'],
    [{ maxUnchangedSeconds: -1 }, 'oracle.maxUnchangedSeconds'],
    [{ delayIntervals: 49 }, 'oracle.delayIntervals'],
    [{ delayIntervalSeconds: 0 }, 'oracle.delayIntervalSeconds'],
    [{ delayGrowthMax: '0' }, 'oracle.delayGrowthMaxRay'],
    [{ confidenceWidening: '10.5' }, 'oracle.confidenceWidening'],
    [{ confidenceWidening: '-1' }, 'oracle.confidenceWidening'],
  ] as const)('refuses %j', (json, field) => {
    let error: unknown;
    try {
      parseOracleConfig(json, 'oracle');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FulcrumError);
    expect((error as FulcrumError).field).toBe(field);
  });

  it('a listing refused for its oracle changes nothing', () => {
    const engine = new Engine();
    const hash = engine.hash();
    const result = engine.applyJson({
      type: 'list-asset',
      time: 0,
      price: '2000',
      config: {
        symbol: 'ETH',
        decimals: 18,
        initialWeight: '0.8',
        maintenanceWeight: '0.825',
        oracle: { delayIntervals: 100 },
      },
    });
    expect(result.ok).toBe(false);
    expect(engine.hash()).toBe(hash);
  });

  it('stored listings keep every field; one stored without them reads as before them', () => {
    const config = {
      ...DEFAULT_ORACLE_CONFIG,
      maxSpreadRay: null,
      confidenceWideningRay: RAY * 2n,
      delayIntervals: 6,
    };
    const listing = {
      type: 'list-asset',
      time: 0,
      price: 10n ** 21n,
      config: { symbol: 'ETH', oracle: config },
    };
    const stored = encodeCommand(listing as never);
    expect(decodeStoredCommand(stored)).toMatchObject({ config: { oracle: config } });
    // the values that keep an earlier oracle as it was: no agreement rule, nothing frozen, no
    // delay price, no widening
    expect(withLegacyOracleFields({ quorum: 3 })).toEqual({
      quorum: 3,
      maxSpreadRay: null,
      maxUnchangedSeconds: 0,
      delayIntervals: 0,
      delayIntervalSeconds: 3600,
      delayGrowthMaxRay: (RAY * 6n) / 100n,
      confidenceWideningRay: 0n,
    });
    expect(Object.keys(LEGACY_ORACLE_FIELDS).sort()).toEqual(
      Object.keys(DEFAULT_ORACLE_CONFIG)
        .filter((k) => !STORED_BEFORE.includes(k))
        .sort(),
    );
  });
});

/** The oracle fields a listing was stored with before the agreement and delay rules. */
const STORED_BEFORE = [
  'quorum',
  'maxStalenessSeconds',
  'maxDeviationRay',
  'maxConfidenceRay',
  'maxStableGapRay',
  'stableRatePerSecondRay',
  'stableStepSecondsMax',
  'breakerMoveRay',
  'breakerWindowSeconds',
  'breakerCooldownSeconds',
  'policy',
];
