/**
 * Local EVM chains for tests and the bench: Hardhat's EDR, in process (no node to start, no
 * port, nothing downloaded), one provider per chain, reached through viem like any chain.
 * Snapshots and reverts (`evm_snapshot`, `evm_revert`), mining on demand and set timestamps give
 * the tests reorganizations, halts and expiries without waiting.
 */
import {
  EdrContext,
  L1_CHAIN_TYPE,
  l1GenesisState,
  l1HardforkFromString,
  l1ProviderFactory,
  MineOrdering,
  ContractDecoder,
  type Provider,
} from '@nomicfoundation/edr';
import {
  createPublicClient,
  createWalletClient,
  custom,
  defineChain,
  type Address,
  type Chain,
  type Hex,
  type PublicClient,
  type Transport,
  type WalletClient,
  type Account,
  hexToBigInt,
  keccak256,
  stringToHex,
  toHex,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { FulcrumError } from '../base/errors.js';

/** The hardfork the local chains run (the contracts target cancun, which it includes). */
const HARDFORK = 'Cancun';

/** Test accounts funded at genesis: 10,000 ether each. */
const GENESIS_BALANCE = 10n ** 22n;

/** Most test accounts a chain is started with. */
const ACCOUNTS_MAX = 32;

let context: Promise<EdrContext> | undefined;

/** EDR allows one context per process: every local chain is a provider of it. */
function edrContext(): Promise<EdrContext> {
  context ??= (async () => {
    const created = new EdrContext();
    await created.registerProviderFactory(L1_CHAIN_TYPE, l1ProviderFactory());
    return created;
  })();
  return context;
}

/** The private key of test account `index` (the same on every chain): never a real key. */
export function testPrivateKey(index: number): Hex {
  return keccak256(stringToHex(`fulcrum local chain test account ${index}`));
}

export interface LocalChain {
  readonly name: string;
  readonly chain: Chain;
  /** Reads, as the watcher uses them. */
  readonly client: PublicClient<Transport, Chain>;
  /** Test accounts, funded: `accounts[0]` deploys. */
  readonly accounts: readonly Account[];
  /** A wallet sending as test account `index`. */
  wallet(index: number): WalletClient<Transport, Chain, Account>;
  /** A raw JSON-RPC request (`evm_mine`, `evm_snapshot`, ...). */
  request(method: string, params?: readonly unknown[]): Promise<unknown>;
  /** Mines `count` empty blocks (default 1), the first at `timestamp` when given. */
  mine(count?: number, timestamp?: number): Promise<void>;
  /** Whether each transaction is mined in a block of its own at once (default true). */
  setAutomine(on: boolean): Promise<void>;
  snapshot(): Promise<Hex>;
  /** Reverts to a snapshot (which it consumes, as the EVM method does). */
  revert(id: Hex): Promise<void>;
  blockNumber(): Promise<number>;
}

export interface LocalChainOptions {
  readonly name: string;
  readonly chainId: number;
  /** Funded test accounts (default 4, at most 32). */
  readonly accounts?: number;
  /** Unix seconds of the genesis block (default: the wall clock, as EDR chooses). */
  readonly genesisTime?: number;
}

/**
 * Starts a local chain in this process.
 *
 * @example
 * const arb = await startLocalChain({ name: 'arb', chainId: 42_161 });
 * await arb.mine(3);
 * await arb.blockNumber(); // 3
 */
export async function startLocalChain(options: LocalChainOptions): Promise<LocalChain> {
  const count = options.accounts ?? 4;
  if (!Number.isSafeInteger(count) || count < 1 || count > ACCOUNTS_MAX) {
    throw new FulcrumError('invalid_config', `accounts must be 1 to ${ACCOUNTS_MAX}`);
  }
  const keys = Array.from({ length: count }, (_, index) => testPrivateKey(index));
  const accounts = keys.map((key) => privateKeyToAccount(key));
  const provider = await createProvider(
    options,
    accounts.map((account) => account.address),
  );
  const transport = custom({ request: ({ method, params }) => call(provider, method, params) });
  const chain = defineChain({
    id: options.chainId,
    name: options.name,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [] } },
  });
  const client = createPublicClient({ chain, transport, pollingInterval: 10, cacheTime: 0 });
  const request = (method: string, params: readonly unknown[] = []): Promise<unknown> =>
    call(provider, method, params);
  return {
    name: options.name,
    chain,
    client,
    accounts,
    wallet: (index) => {
      const account = accounts[index];
      if (account === undefined) throw new FulcrumError('invalid_config', `no account ${index}`);
      return createWalletClient({ account, chain, transport, pollingInterval: 10, cacheTime: 0 });
    },
    request,
    mine: async (blocks = 1, timestamp) => {
      for (let i = 0; i < blocks; i++) {
        await request('evm_mine', i === 0 && timestamp !== undefined ? [timestamp] : []);
      }
    },
    setAutomine: async (on) => void (await request('evm_setAutomine', [on])),
    snapshot: async () => (await request('evm_snapshot')) as Hex,
    revert: async (id) => {
      if ((await request('evm_revert', [id])) !== true) {
        throw new FulcrumError('invalid_config', `no snapshot ${id} on ${options.name}`);
      }
    },
    blockNumber: async () => Number(hexToBigInt((await request('eth_blockNumber')) as Hex)),
  };
}

async function createProvider(
  options: LocalChainOptions,
  funded: readonly Address[],
): Promise<Provider> {
  const hardfork = l1HardforkFromString(HARDFORK);
  const genesisState = [
    ...l1GenesisState(hardfork),
    ...funded.map((address) => ({ address: hexBytes(address), balance: GENESIS_BALANCE })),
  ];
  const ignore = (): void => undefined;
  return (await edrContext()).createProvider(
    L1_CHAIN_TYPE,
    {
      allowBlocksWithSameTimestamp: false,
      allowUnlimitedContractSize: false,
      bailOnCallFailure: false,
      bailOnTransactionFailure: false,
      chainId: BigInt(options.chainId),
      coinbase: hexBytes('0x0000000000000000000000000000000000000000'),
      defaultTransactionGasLimit: 30_000_000n,
      genesisState,
      hardfork: HARDFORK,
      initialBaseFeePerGas: 1_000_000_000n,
      minGasPrice: 0n,
      mining: { autoMine: true, memPool: { order: MineOrdering.Priority } },
      network: {
        genesisBlockGasLimit: 60_000_000n,
        ...(options.genesisTime === undefined
          ? {}
          : { genesisBlockTime: BigInt(options.genesisTime) }),
      },
      networkId: BigInt(options.chainId),
      observability: {},
      ownedAccounts: [],
      precompileOverrides: [],
    },
    { enable: false, decodeConsoleLogInputsCallback: () => [], printLineCallback: ignore },
    { subscriptionCallback: ignore },
    new ContractDecoder(),
  );
}

let requestId = 0;

/** One JSON-RPC call; an error answer becomes an EIP-1193 error (viem reads its code). */
async function call(provider: Provider, method: string, params: unknown): Promise<unknown> {
  requestId += 1;
  const request = JSON.stringify({ jsonrpc: '2.0', id: requestId, method, params: params ?? [] });
  const response = await provider.handleRequest(request);
  const data = (typeof response.data === 'string' ? JSON.parse(response.data) : response.data) as {
    result?: unknown;
    error?: { code: number; message: string; data?: unknown };
  };
  if (data.error !== undefined) {
    throw Object.assign(new Error(data.error.message), {
      code: data.error.code,
      data: data.error.data,
    });
  }
  return data.result;
}

function hexBytes(hex: Hex): Uint8Array {
  return Uint8Array.from(Buffer.from(hex.slice(2), 'hex'));
}

export { toHex };
