/**
 * The routes the console reads (src/server/console.ts, venue.ts), without a browser: who may
 * call them, the venue's totals, the near-liquidation pages against an exact sort of every
 * sub-account, and the stress test against the venue-wide what-if of the same move.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_ROOT } from '../../src/server/console.js';
import {
  errorOf,
  get,
  KEY,
  post,
  startService,
  T0,
  type TestService,
  VENUE,
} from '../server/helpers.js';

/** 25 borrowers against ETH at 2000: borrower i owes 500 × (i + 1) USDC on 10 ETH. */
const BORROWERS = Array.from({ length: 25 }, (_, i) => [
  { type: 'deposit', time: T0, account: `b${i}`, asset: 'ETH', amount: '10' },
  { type: 'borrow', time: T0, account: `b${i}`, asset: 'USDC', amount: String(500 * (i + 1)) },
]).flat();

interface HeatMapReply {
  estimate: boolean;
  subAccounts: number;
  moves: number[];
  assets: { asset: string; cells: { move: number; liquidatable: number; debtValue: string }[] }[];
}

interface NearPage {
  total: number;
  items: { account: string; subAccount: number; healthFactor: string | null; estimate: number }[];
  next: string | null;
}

let service: TestService;

describe('the console routes', () => {
  beforeAll(async () => {
    service = await startService({}, [...VENUE, ...BORROWERS]);
  });
  afterAll(async () => service.close());

  it('tells a key who it is, with its sub-accounts', async () => {
    const reply = await get(service.app, '/v1/session', KEY.alice);
    expect(reply.json()).toEqual({
      id: 'alice',
      role: 'trader',
      everyAccount: false,
      accounts: ['alice'],
      subAccounts: [{ account: 'alice', subAccount: 0 }],
    });
    expect((await get(service.app, '/v1/session', null)).statusCode).toBe(401);
  });

  it('lets only venue-wide readers read the venue, its near list and its stress', async () => {
    const body = { moves: [{ asset: 'ETH', move: '-0.2' }] };
    for (const key of [KEY.alice, KEY.aliceViewer, KEY.liquidator, KEY.feed]) {
      expect((await get(service.app, '/v1/venue', key)).statusCode).toBe(403);
      expect((await get(service.app, '/v1/near-liquidation', key)).statusCode).toBe(403);
      expect((await post(service.app, '/v1/stress', key, body)).statusCode).toBe(403);
    }
    for (const key of [KEY.admin, KEY.auditor]) {
      expect((await get(service.app, '/v1/venue', key)).statusCode).toBe(200);
    }
  });

  it('adds up the venue from the pools and the insurance fund', async () => {
    const venue = (await get(service.app, '/v1/venue', KEY.auditor)).json();
    // Supplied: 1,000,000 + 100,000 USDC; 10 + 25 × 10 ETH at 2000. Debt: alice 15,000 and
    // 500 × (1 + ... + 25) = 162,500.
    expect(Number(venue.collateralValue)).toBe(1_100_000 + 260 * 2000);
    expect(Number(venue.debtValue)).toBeCloseTo(15_000 + 162_500, 0);
    expect(venue).toMatchObject({
      subAccounts: 28,
      liquidatable: 0,
      openInterestValue: '0',
      insuranceFundValue: '0',
      badDebtValue: '0',
      badDebtComplete: true,
    });
  });

  it('pages the sub-accounts with debt, lowest health first, as an exact sort would', async () => {
    const seen: NearPage['items'] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor === null ? '' : `&cursor=${cursor}`;
      const reply = await get(service.app, `/v1/near-liquidation?limit=7${query}`, KEY.auditor);
      expect(reply.statusCode).toBe(200);
      const page = reply.json() as NearPage;
      expect(page.total).toBe(26);
      seen.push(...page.items);
      cursor = page.next;
    } while (cursor !== null);
    expect(seen).toHaveLength(26);
    const health = seen.map((item) => Number(item.healthFactor));
    expect(health).toEqual([...health].sort((a, b) => a - b));
    // alice: 20,000 × 0.825 / 15,000 = 1.1; b24: 16,500 / 12,500 = 1.32.
    expect(seen[0]?.account).toBe('alice');
    for (const item of seen) expect(item.estimate).toBeCloseTo(Number(item.healthFactor), 9);
    const bad = await get(service.app, '/v1/near-liquidation?cursor=zzz', KEY.auditor);
    expect(errorOf(bad).code).toBe('invalid_field');
  });

  it('stresses the venue as the venue-wide what-if does, with the debt and bad debt', async () => {
    const move = { asset: 'ETH', move: '-0.4' };
    const stress = (await post(service.app, '/v1/stress', KEY.auditor, { moves: [move] })).json();
    const whatIf = (await post(service.app, '/v1/what-if', KEY.auditor, { shock: move })).json();
    expect(stress.liquidatableAfter).toBe(whatIf.liquidatableAfter);
    expect(stress.newlyLiquidatableCount).toBe(whatIf.newlyLiquidatableCount);
    // At 1200, 10 ETH is worth 12,000 (9,900 at maintenance): b18 (9,500) holds; b19 to b24
    // and alice (15,000) fall.
    expect(stress.newlyLiquidatableCount).toBe(6 + 1);
    // Shortfall beyond 12,000 of collateral: alice 3,000, b24 500.
    expect(Number(stress.badDebtAfterValue)).toBeCloseTo(3_500, 0);
    expect(Number(stress.liquidatableDebtValue)).toBeCloseTo(
      15_000 + 500 * (20 + 21 + 22 + 23 + 24 + 25),
      0,
    );
    expect(stress.newlyLiquidatable[0].account).toBe('alice');
    const twice = { moves: [move, move] };
    expect(errorOf(await post(service.app, '/v1/stress', KEY.auditor, twice)).code).toBe(
      'invalid_field',
    );
  });

  it('draws the heat map from the same drafts as the stress test, cached per position', async () => {
    expect((await get(service.app, '/v1/heat-map', KEY.alice)).statusCode).toBe(403);
    const reply = await get(service.app, '/v1/heat-map?moves=0,-40,-10', KEY.auditor);
    expect(reply.statusCode).toBe(200);
    const map = reply.json() as {
      moves: number[];
      subAccounts: number;
      assets: {
        asset: string;
        cells: { move: number; liquidatable: number; debtValue: string }[];
      }[];
    };
    expect(map.moves).toEqual([-40, -10, 0]);
    expect(map.subAccounts).toBe(28);
    const eth = map.assets.find((a) => a.asset === 'ETH');
    // -40%: as the stress test above, alice and b19 to b24 fall; -10%: alice (1.1 × 0.9); 0: none.
    expect(eth?.cells.map((c) => c.liquidatable)).toEqual([7, 1, 0]);
    expect(Number(eth?.cells[0]?.debtValue)).toBeCloseTo(
      15_000 + 500 * (20 + 21 + 22 + 23 + 24 + 25),
      0,
    );
    // USDC is the debt: 40% down makes every debt lighter, nobody falls.
    expect(map.assets.find((a) => a.asset === 'USDC')?.cells[0]?.liquidatable).toBe(0);
    const stress = (
      await post(service.app, '/v1/stress', KEY.auditor, {
        moves: [{ asset: 'ETH', move: '-0.1' }],
      })
    ).json();
    expect(eth?.cells[1]?.liquidatable).toBe(stress.liquidatableAfter);
    const again = (await get(service.app, '/v1/heat-map?moves=0,-40,-10', KEY.auditor)).json();
    expect(again).toEqual(map);
    const bad = await get(service.app, '/v1/heat-map?moves=-100', KEY.auditor);
    expect(errorOf(bad).code).toBe('invalid_field');
  });

  it('estimates the heat map past whatIfScanMax, from the liquidation monitor', async () => {
    const path = '/v1/heat-map?moves=-50,-40,-10,0,20';
    const exact = (await get(service.app, path, KEY.auditor)).json() as HeatMapReply;
    expect(exact.estimate).toBe(false);
    const small = await startService({ whatIfScanMax: 5 }, [...VENUE, ...BORROWERS]);
    try {
      const reply = await get(small.app, path, KEY.auditor);
      expect(reply.statusCode).toBe(200);
      const map = reply.json() as HeatMapReply;
      expect(map.estimate).toBe(true);
      expect(map.subAccounts).toBe(exact.subAccounts);
      expect(map.moves).toEqual(exact.moves);
      // The same counts; the debt a float sum, to the cent.
      for (const [i, { asset, cells }] of map.assets.entries()) {
        const want = exact.assets[i]?.cells ?? [];
        expect(asset).toBe(exact.assets[i]?.asset);
        expect(cells.map((c) => c.liquidatable)).toEqual(want.map((c) => c.liquidatable));
        cells.forEach((cell, j) => {
          expect(Number(cell.debtValue)).toBeCloseTo(Number(want[j]?.debtValue), 1);
        });
      }
      expect(map.assets.find((a) => a.asset === 'ETH')?.cells[1]?.liquidatable).toBe(7);
      const again = (await get(small.app, path, KEY.auditor)).json();
      expect(again).toEqual(map);
    } finally {
      await small.close();
    }
  });

  it('shows the parameters in force and pages the commands that set them', async () => {
    expect((await get(service.app, '/v1/parameters', KEY.alice)).statusCode).toBe(403);
    const params = (await get(service.app, '/v1/parameters', KEY.auditor)).json();
    const eth = params.assets.find((a: { symbol: string }) => a.symbol === 'ETH');
    expect(Number(eth.assetWeight.initial)).toBe(0.8);
    expect(Number(eth.assetWeight.maintenance)).toBe(0.825);
    expect(Number(eth.reserveFactor)).toBe(0.15);
    expect(Number(eth.interest.slope1)).toBeCloseTo(0.027, 9);
    expect(params.liquidation).toHaveProperty('closeFactor');
    expect(params.venue).toHaveProperty('settlementAsset');
    const seen: { type: string; seq: number }[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor === null ? '' : `&cursor=${cursor}`;
      const reply = await get(service.app, `/v1/parameters/history?limit=1${query}`, KEY.auditor);
      expect(reply.statusCode).toBe(200);
      const page = reply.json();
      seen.push(...page.items);
      cursor = page.next;
    } while (cursor !== null);
    expect(seen.map((c) => c.type)).toEqual(['list-asset', 'list-asset']);
    expect(seen.map((c) => c.seq)).toEqual([1, 2]);
    expect((await get(service.app, '/v1/parameters/history', KEY.alice)).statusCode).toBe(403);
  });

  it('names who changed a parameter: the key that sent it, never another', async () => {
    const weights = {
      type: 'set-weights',
      time: T0 + 10,
      asset: 'ETH',
      initialWeight: '0.79',
      maintenanceWeight: '0.825',
    };
    const before = service.durable.engine.state.sequence;
    const forged = await post(service.app, '/v1/commands', KEY.admin, { ...weights, by: 'alice' });
    expect(forged.statusCode).toBe(400);
    expect(errorOf(forged)).toMatchObject({ code: 'invalid_field', field: 'by' });
    expect(service.durable.engine.state.sequence).toBe(before);
    const sent = await post(service.app, '/v1/commands', KEY.admin, weights);
    expect(sent.statusCode).toBe(200);
    const named = await post(service.app, '/v1/commands', KEY.admin, {
      ...weights,
      time: T0 + 11,
      initialWeight: '0.8',
      by: 'admin',
    });
    expect(named.statusCode).toBe(200);
    const history = (
      await get(service.app, '/v1/parameters/history?limit=200', KEY.auditor)
    ).json();
    const who = (type: string) =>
      history.items
        .filter((c: { type: string }) => c.type === type)
        .map((c: { by: string | null }) => c.by);
    expect(who('set-weights')).toEqual(['admin', 'admin']);
    expect(who('list-asset')).toEqual(['admin', 'admin']);
    // A change journaled by the venue's own process, through no key, names nobody.
    const own = { type: 'set-volatility', time: T0 + 12, asset: 'ETH', volatility: '0.7' };
    expect(await service.durable.submitJson(own)).toMatchObject({ ok: true });
    const last = (await get(service.app, '/v1/parameters/history?limit=200', KEY.auditor)).json();
    expect(last.items.at(-1)).toMatchObject({ type: 'set-volatility', by: null });
  });

  it('has no replay to control on a service that is not a demo', async () => {
    expect(errorOf(await get(service.app, '/v1/demo/replay', KEY.auditor)).code).toBe('not_found');
    const body = { playing: false };
    expect((await post(service.app, '/v1/demo/replay', KEY.auditor, body)).statusCode).toBe(403);
    expect(errorOf(await post(service.app, '/v1/demo/replay', KEY.admin, body)).code).toBe(
      'not_found',
    );
  });

  it('names its routes in the OpenAPI document, each with its security', async () => {
    const doc = (await get(service.app, '/openapi.json', null)).json() as {
      paths: Record<string, Record<string, { security?: unknown }>>;
    };
    for (const path of [
      '/v1/session',
      '/v1/venue',
      '/v1/near-liquidation',
      '/v1/stress',
      '/v1/heat-map',
      '/v1/parameters',
      '/v1/parameters/history',
      '/v1/demo/replay',
    ]) {
      const operation = Object.values(doc.paths[path] ?? {})[0];
      expect(operation?.security, path).toEqual([{ bearer: [] }]);
    }
  });

  it.skipIf(!existsSync(CONSOLE_ROOT))(
    'serves the built console under a strict policy',
    async () => {
      const reply = await get(service.app, '/console/', null);
      expect(reply.statusCode).toBe(200);
      expect(reply.headers['content-type']).toMatch(/text\/html/);
      expect(reply.headers['content-security-policy']).toContain("default-src 'self'");
    },
  );
});

describe('collateral on other chains over the service', () => {
  const CHAIN_VENUE = [
    ...VENUE,
    { type: 'list-chain', time: T0, chain: 'arb' },
    {
      type: 'list-asset',
      time: T0,
      price: '1',
      config: {
        symbol: 'ETH.arb',
        decimals: 18,
        initialWeight: '0.7',
        maintenanceWeight: '0.75',
        borrowable: false,
        location: { chain: 'arb', asset: 'ETH' },
      },
    },
  ];
  const deposit = {
    type: 'chain-deposit',
    time: T0 + 1,
    chain: 'arb',
    block: 7,
    logIndex: 0,
    tx: `0x${'ab'.repeat(32)}`,
    account: 'alice',
    asset: 'ETH.arb',
    amount: '3',
  };

  it('lets only the operator credit, a trader withdraw her own, and venue readers see the vault', async () => {
    const chains = await startService({}, CHAIN_VENUE);
    try {
      // A trader cannot credit herself: vault events are the operator's (its watcher's).
      expect((await post(chains.app, '/v1/commands', KEY.alice, deposit)).statusCode).toBe(403);
      expect((await post(chains.app, '/v1/commands', KEY.admin, deposit)).statusCode).toBe(200);
      const again = await post(chains.app, '/v1/commands', KEY.admin, deposit);
      expect(errorOf(again).code).toBe('chain_event_seen');
      const withdraw = {
        type: 'chain-withdraw',
        time: T0 + 2,
        chain: 'arb',
        account: 'alice',
        asset: 'ETH.arb',
        amount: '1',
        recipient: `0x${'a1'.repeat(20)}`,
      };
      expect((await post(chains.app, '/v1/commands', KEY.bob, withdraw)).statusCode).toBe(403);
      const mine = await post(chains.app, '/v1/commands', KEY.alice, withdraw);
      expect(mine.statusCode).toBe(200);
      expect(mine.json().events).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            type: 'chain-withdrawal-authorized',
            nonce: 1,
            amount: '1',
            baseUnits: '1000000000000000000',
          }),
        ]),
      );
      expect((await get(chains.app, '/v1/chains', KEY.alice)).statusCode).toBe(403);
      const reply = await get(chains.app, '/v1/chains', KEY.auditor);
      expect(reply.statusCode).toBe(200);
      expect(reply.json().chains[0]).toMatchObject({
        chain: 'arb',
        status: 'active',
        cursor: { block: 7, logIndex: 0 },
        assets: [{ asset: 'ETH.arb', credited: '2', pending: '1', vaultHolds: '3' }],
      });
    } finally {
      await chains.close();
    }
  });
});
