/** The README's library example, line for line: what it prints must stay true. */
import { describe, expect, it } from 'vitest';
import { Engine, renderHealthReport } from '../src/index.js';

describe('README library example', () => {
  it('prints health 1.375 and an ETH liquidation price of 1454.545454545454545455', () => {
    const engine = new Engine();
    const results = [
      engine.applyJson({
        type: 'list-asset',
        time: 0,
        price: '1',
        config: { symbol: 'USDC', decimals: 6, initialWeight: '0.85', maintenanceWeight: '0.875' },
      }),
      engine.applyJson({
        type: 'list-asset',
        time: 0,
        price: '2000',
        config: { symbol: 'ETH', decimals: 18, initialWeight: '0.8', maintenanceWeight: '0.825' },
      }),
      engine.applyJson({
        type: 'deposit',
        time: 1,
        account: 'lena',
        asset: 'USDC',
        amount: '100000',
      }),
      engine.applyJson({ type: 'deposit', time: 1, account: 'alice', asset: 'ETH', amount: '10' }),
      engine.applyJson({
        type: 'borrow',
        time: 2,
        account: 'alice',
        asset: 'USDC',
        amount: '12000',
      }),
    ];
    expect(results.every((r) => r.ok)).toBe(true);
    const health = renderHealthReport(engine.health({ account: 'alice', subAccount: 0 }));
    // 10 × 2000 × 0.825 / 12000; 12000 / (10 × 0.825)
    expect(health.healthFactor).toBe('1.375');
    expect(health.liquidationPrices.ETH).toBe('1454.545454545454545455');
    expect(engine.hash()).toMatch(/^[0-9a-f]{64}$/);
  });
});
