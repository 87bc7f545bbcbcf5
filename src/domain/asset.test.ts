import { describe, expect, it } from 'vitest';
import { expectRefusal } from '../../test/fixtures/refusal.js';
import { RAY, WEIGHT_SCALE } from '../math/fixed.js';
import { DEFAULT_INTEREST_RATE_CURVE, parseAssetConfig, validateAssetConfig } from './asset.js';

const eth = { symbol: 'ETH', decimals: 18, initialWeight: '0.8', maintenanceWeight: '0.825' };

describe('parseAssetConfig', () => {
  it('fills defaults: liability weight 1, midpoint liquidation-end weights, Aave example curve', () => {
    const config = parseAssetConfig(eth, 'asset');
    expect(config.assetWeight).toEqual({
      initial: 800_000n,
      liquidationEnd: 812_500n,
      maintenance: 825_000n,
    });
    expect(config.liabilityWeight).toEqual({
      initial: WEIGHT_SCALE,
      liquidationEnd: WEIGHT_SCALE,
      maintenance: WEIGHT_SCALE,
    });
    expect(config.interest).toEqual(DEFAULT_INTEREST_RATE_CURVE);
    expect(config.reserveFactor).toBe(WEIGHT_SCALE / 10n);
    expect([config.supplyCap, config.borrowCap, config.borrowable]).toEqual([null, null, true]);
  });

  it('takes every parameter given', () => {
    const config = parseAssetConfig(
      {
        ...eth,
        liquidationEndWeight: '0.81',
        initialLiabilityWeight: '1.2',
        maintenanceLiabilityWeight: '1.1',
        interest: { baseRate: '0.01', slope1: '0.04', slope2: '1', optimalUtilization: '0.9' },
        reserveFactor: '0.25',
        supplyCap: '1000',
        borrowCap: '0.5',
        borrowable: false,
      },
      'asset',
    );
    expect(config.assetWeight.liquidationEnd).toBe(810_000n);
    // midpoint of 1.2 and 1.1, rounded toward the stricter (higher) weight
    expect(config.liabilityWeight.liquidationEnd).toBe(1_150_000n);
    expect(config.interest.optimalUtilizationRay).toBe((RAY * 9n) / 10n);
    expect(config.supplyCap).toBe(1000n * 10n ** 18n);
    expect(config.borrowCap).toBe(5n * 10n ** 17n);
    expect(config.borrowable).toBe(false);
  });

  it.each([
    [
      'initial above maintenance',
      { ...eth, initialWeight: '0.9' },
      'invalid_config',
      'asset.initialWeight',
    ],
    [
      'maintenance weight above 1',
      { ...eth, maintenanceWeight: '1.01' },
      'invalid_config',
      'asset.maintenanceWeight',
    ],
    [
      'liability weight below 1',
      { ...eth, liabilityWeight: '0.99' },
      'invalid_config',
      'asset.maintenanceLiabilityWeight',
    ],
    [
      'liability tiers inverted',
      { ...eth, initialLiabilityWeight: '1', maintenanceLiabilityWeight: '1.1' },
      'invalid_config',
      'asset.initialLiabilityWeight',
    ],
    [
      'end weight outside its tiers',
      { ...eth, liquidationEndWeight: '0.9' },
      'invalid_config',
      'asset.initialWeight',
    ],
    [
      'kink at 100%',
      { ...eth, interest: { baseRate: '0', slope1: '0.1', slope2: '1', optimalUtilization: '1' } },
      'invalid_config',
      'asset.interest.optimalUtilization',
    ],
    [
      'slope1 above slope2',
      { ...eth, interest: { baseRate: '0', slope1: '2', slope2: '1', optimalUtilization: '0.8' } },
      'invalid_config',
      'asset.interest.slope1',
    ],
    [
      'rates over 1000%',
      { ...eth, interest: { baseRate: '5', slope1: '3', slope2: '3', optimalUtilization: '0.8' } },
      'invalid_config',
      'asset.interest',
    ],
    [
      'reserve factor above 1',
      { ...eth, reserveFactor: '1.5' },
      'invalid_number',
      'asset.reserveFactor',
    ],
    ['too many decimals', { ...eth, decimals: 31 }, 'invalid_number', 'asset.decimals'],
    ['decimals as a string', { ...eth, decimals: '18' }, 'invalid_field', 'asset.decimals'],
    ['bad symbol', { ...eth, symbol: 'E T H' }, 'invalid_config', 'asset.symbol'],
    [
      'weight with 7 decimals',
      { ...eth, initialWeight: '0.8000001' },
      'too_many_decimals',
      'asset.initialWeight',
    ],
    [
      'missing maintenance weight',
      { symbol: 'ETH', decimals: 18, initialWeight: '0.8' },
      'invalid_field',
      'asset.maintenanceWeight',
    ],
    ['unknown field', { ...eth, ltv: '0.8' }, 'invalid_field', 'asset.ltv'],
    [
      'cap with too many decimals',
      { ...eth, decimals: 6, supplyCap: '1.0000001' },
      'too_many_decimals',
      'asset.supplyCap',
    ],
  ])('refuses %s', (_name, input, code, field) => {
    expectRefusal(() => parseAssetConfig(input, 'asset'), code, field);
  });

  it('refuses a config built in code with a number where a bigint belongs', () => {
    const config = parseAssetConfig(eth, 'asset');
    const broken = { ...config, reserveFactor: 100_000 as unknown as bigint };
    expect(() => validateAssetConfig(broken, 'config')).toThrow(/reserveFactor must be a bigint/);
    const heavy = {
      ...config,
      liabilityWeight: {
        initial: 50n * WEIGHT_SCALE,
        liquidationEnd: WEIGHT_SCALE,
        maintenance: WEIGHT_SCALE,
      },
    };
    expect(() => validateAssetConfig(heavy, 'config')).toThrow(/at most 10/);
  });
});
