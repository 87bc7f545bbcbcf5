/**
 * Withdrawals on a real local chain: the engine's authorization signed with the venue's key
 * (EIP-712), executed by the vault once, refused when replayed, altered, sent to another chain's
 * vault or late, confirmed by the watcher, or returned after its expiry. The engine here is the
 * recording stand-in; engine.e2e.test.ts runs the story on the real engine.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { depositToVault, send, vaultBalance } from '../../src/chains/deploy.js';
import { signWithdrawal, withdrawCall, type VaultDomain } from '../../src/chains/withdrawals.js';
import { testTokenAbi } from '../../src/chains/artifacts.js';
import { FulcrumError } from '../../src/base/errors.js';
import { FakeEngine } from './fakeEngine.js';
import {
  chainTime,
  differences,
  E18,
  revertName,
  TestClock,
  vaultChain,
  venueKey,
  watcherConfig,
  watcherFor,
  type VaultChain,
} from './fixture.js';
import { privateKeyToAccount } from 'viem/accounts';
import { testPrivateKey } from '../../src/chains/localChain.js';

let arb: VaultChain;
let engine: FakeEngine;
let clock: TestClock;

function domain(vc: VaultChain): VaultDomain {
  const config = watcherConfig(vc);
  return {
    chain: vc.chain.name,
    chainId: vc.chain.chain.id,
    vault: vc.deployed.vault,
    tokens: config.tokens,
  };
}

async function conserved(vc: VaultChain = arb): Promise<void> {
  for (const difference of Object.values(await differences(vc, engine)))
    expect(difference).toBe(0n);
}

beforeEach(async () => {
  arb = await vaultChain('arb', 42_161);
  engine = new FakeEngine();
  engine.listChain('arb', 3_600, { [arb.eth]: 18, [arb.usd]: 6 });
  clock = new TestClock(await chainTime(arb));
  await depositToVault(arb.chain, arb.deployed, {
    from: 1,
    token: arb.weth,
    amount: 10n * E18,
    account: 'alice',
    subAccount: 0,
  });
  await arb.chain.mine(3);
  await watcherFor(arb, engine, clock).poll();
  expect(engine.balance('alice', arb.eth)).toBe(10n * E18);
});

describe('withdrawals', () => {
  it('pays a signed authorization once; a replay, an alteration or another vault is refused', async () => {
    const watcher = watcherFor(arb, engine, clock);
    const recipient = arb.chain.accounts[3]?.address as `0x${string}`;
    const event = engine.withdraw('arb', clock.advance(10), 'alice', arb.eth, 3n * E18, recipient);
    expect(event).toMatchObject({
      nonce: 1,
      amount: '3000000000000000000',
      expiry: clock.now() + 3_600,
    });
    await watcher.poll();
    await conserved(); // credited 7 = vault 10 - pending 3
    const signed = await signWithdrawal(event, venueKey, domain(arb));
    const relayer = arb.chain.wallet(2);
    // Altered: a larger amount, another recipient, a later expiry: the signature no longer matches.
    for (const altered of [
      { ...signed, amount: signed.amount + 1n },
      { ...signed, recipient: arb.chain.accounts[2]?.address as `0x${string}` },
      { ...signed, expiry: signed.expiry + 1n },
    ]) {
      expect(
        await revertName(send(arb.chain, relayer, withdrawCall(arb.deployed.vault, altered))),
      ).toBe('BadSignature');
    }
    // Signed by another key.
    const forged = await signWithdrawal(event, privateKeyToAccount(testPrivateKey(1)), domain(arb));
    expect(
      await revertName(send(arb.chain, relayer, withdrawCall(arb.deployed.vault, forged))),
    ).toBe('BadSignature');
    const block = await send(arb.chain, relayer, withdrawCall(arb.deployed.vault, signed));
    const balance = await arb.chain.client.readContract({
      address: arb.weth,
      abi: testTokenAbi,
      functionName: 'balanceOf',
      args: [recipient],
    });
    expect(balance).toBe(3n * E18);
    // Replayed: the nonce is used.
    expect(
      await revertName(send(arb.chain, relayer, withdrawCall(arb.deployed.vault, signed))),
    ).toBe('NonceUsed');
    // Not final yet: still pending in the engine; conservation holds at the cursor's block.
    await watcher.poll();
    expect(engine.chain('arb')?.pending.map((p) => p.nonce)).toEqual([1]);
    await conserved();
    await arb.chain.mine(3);
    const report = await watcher.poll();
    expect(report.delivered).toBe(1);
    expect(
      engine.accepted.find((command) => command.type === 'chain-withdrawal-paid'),
    ).toMatchObject({ nonce: 1, block });
    expect(engine.chain('arb')?.pending).toEqual([]);
    expect(await vaultBalance(arb.chain, arb.deployed, arb.weth)).toBe(7n * E18);
    await conserved();
  });

  it("refuses an authorization signed for another chain's vault", async () => {
    const base = await vaultChain('base', 8_453);
    const event = engine.withdraw(
      'arb',
      clock.advance(10),
      'alice',
      arb.eth,
      E18,
      base.chain.accounts[3]?.address as string,
    );
    // The same token address on both chains (same deployer, same nonces): only the domain differs.
    expect(base.weth).toBe(arb.weth);
    const signed = await signWithdrawal(event, venueKey, domain(arb));
    await depositToVault(base.chain, base.deployed, {
      from: 1,
      token: base.weth,
      amount: 5n * E18,
      account: 'bob',
      subAccount: 0,
    });
    expect(
      await revertName(
        send(base.chain, base.chain.wallet(2), withdrawCall(base.deployed.vault, signed)),
      ),
    ).toBe('BadSignature');
  });

  it('returns a withdrawal never executed once a final block is past its expiry; the vault refuses it after', async () => {
    const watcher = watcherFor(arb, engine, clock);
    const recipient = arb.chain.accounts[3]?.address as string;
    const event = engine.withdraw('arb', clock.advance(10), 'alice', arb.eth, 4n * E18, recipient);
    const expiry = event.expiry as number;
    const signed = await signWithdrawal(event, venueKey, domain(arb));
    expect(engine.balance('alice', arb.eth)).toBe(6n * E18);
    // The clock passes the expiry, but no final block has: not returned yet.
    clock.seconds = expiry + 5;
    expect((await watcher.poll()).expired).toEqual([]);
    await arb.chain.mine(1, expiry + 1);
    expect((await watcher.poll()).expired).toEqual([]);
    await conserved();
    await arb.chain.mine(3);
    const report = await watcher.poll();
    expect(report.expired).toEqual([1]);
    expect(engine.balance('alice', arb.eth)).toBe(10n * E18);
    expect(engine.chain('arb')?.pending).toEqual([]);
    await conserved();
    expect(
      await revertName(
        send(arb.chain, arb.chain.wallet(2), withdrawCall(arb.deployed.vault, signed)),
      ),
    ).toBe('Expired');
    // Returned once: later polls return nothing more.
    await arb.chain.mine(1);
    expect((await watcher.poll()).expired).toEqual([]);
  });

  it('refuses a malformed authorization event with a typed error', async () => {
    const event = engine.withdraw(
      'arb',
      clock.advance(10),
      'alice',
      arb.eth,
      E18,
      arb.chain.accounts[3]?.address as string,
    );
    const cases: [Record<string, unknown>, string][] = [
      [{ ...event, chain: 'base' }, 'chain'],
      [{ ...event, amount: '1.5' }, 'amount'],
      [{ ...event, amount: '0' }, 'amount'],
      [{ ...event, recipient: '0x12' }, 'recipient'],
      [{ ...event, nonce: 0 }, 'nonce'],
      [{ ...event, asset: 'BTC.arb' }, 'asset'],
      [{ ...event, type: 'chain-deposit' }, 'type'],
    ];
    for (const [input, field] of cases) {
      const error = await signWithdrawal(input, venueKey, domain(arb)).catch(
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(FulcrumError);
      expect(error).toMatchObject({ code: 'invalid_field', field });
    }
  });
});
