/**
 * The vault's compile step: Solidity sources to ABIs and bytecode with the `solc` package's
 * bundled compiler (never a downloaded one). Pure: sources in, artifacts out; the files are read
 * and `artifacts.ts` written by `test/chains/artifacts.test.ts`, which also checks that the
 * committed artifacts are what the sources compile to.
 */
import solc from 'solc';
import { FulcrumError } from '../base/errors.js';

/** The compiler the artifacts were built with: the `solc` package must carry exactly this one. */
export const SOLC_VERSION = '0.8.37';

/** The EVM the contracts target: one every local chain and production chain in view supports. */
export const EVM_VERSION = 'cancun';

export interface ContractArtifact {
  readonly abi: readonly unknown[];
  /** Creation bytecode, 0x-prefixed. */
  readonly bytecode: `0x${string}`;
}

interface SolcError {
  readonly severity: string;
  readonly formattedMessage: string;
}

interface SolcOutput {
  readonly errors?: readonly SolcError[];
  readonly contracts?: Record<
    string,
    Record<string, { abi: unknown[]; evm: { bytecode: { object: string } } }>
  >;
}

/**
 * Compiles Solidity sources (file name -> text) and returns every contract by name.
 * Refuses (`invalid_config`) on any compiler error, or when the bundled compiler is not
 * {@link SOLC_VERSION}.
 *
 * @example
 * const { TestToken } = compileContracts({ 'TestToken.sol': source });
 * TestToken.bytecode.startsWith('0x'); // true
 */
export function compileContracts(
  sources: Readonly<Record<string, string>>,
): Record<string, ContractArtifact> {
  const version = String(solc.version());
  if (!version.startsWith(`${SOLC_VERSION}+`)) {
    throw new FulcrumError('invalid_config', `solc ${version} is not the pinned ${SOLC_VERSION}`);
  }
  const input = {
    language: 'Solidity',
    sources: Object.fromEntries(
      Object.entries(sources).map(([name, content]) => [name, { content }]),
    ),
    settings: {
      evmVersion: EVM_VERSION,
      optimizer: { enabled: true, runs: 200 },
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
    },
  };
  const output = JSON.parse(String(solc.compile(JSON.stringify(input)))) as SolcOutput;
  const errors = (output.errors ?? []).filter((error) => error.severity === 'error');
  if (errors.length > 0) {
    const message = errors.map((error) => error.formattedMessage).join('\n');
    throw new FulcrumError('invalid_config', `the contracts do not compile:\n${message}`);
  }
  const artifacts: Record<string, ContractArtifact> = {};
  for (const file of Object.values(output.contracts ?? {})) {
    for (const [name, contract] of Object.entries(file)) {
      // Interfaces have no bytecode: nothing to deploy.
      if (contract.evm.bytecode.object === '') continue;
      artifacts[name] = { abi: contract.abi, bytecode: `0x${contract.evm.bytecode.object}` };
    }
  }
  return artifacts;
}

/** The text of `artifacts.ts` for compiled contracts: ABIs `as const`, so viem types every call. */
export function renderArtifactsModule(
  artifacts: Readonly<Record<string, ContractArtifact>>,
): string {
  const lines = [
    `// Generated from contracts/*.sol with solc ${SOLC_VERSION} (EVM ${EVM_VERSION}, optimizer 200`,
    '// runs). Do not edit: change the sources and run',
    '// `FULCRUM_WRITE_ARTIFACTS=1 npx vitest run test/chains/artifacts.test.ts`.',
    '',
  ];
  for (const name of Object.keys(artifacts).sort()) {
    const artifact = artifacts[name] as ContractArtifact;
    const key = name.charAt(0).toLowerCase() + name.slice(1);
    lines.push(`export const ${key}Abi = ${JSON.stringify(artifact.abi, null, 2)} as const;`, '');
    lines.push(`export const ${key}Bytecode = '${artifact.bytecode}' as const;`, '');
  }
  return lines.join('\n');
}
