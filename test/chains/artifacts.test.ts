/**
 * The committed artifacts (src/chains/artifacts.ts) are what contracts/*.sol compile to with the
 * bundled solc. FULCRUM_WRITE_ARTIFACTS=1 rewrites them instead (after a source change).
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { describe, expect, it } from 'vitest';
import { compileContracts, renderArtifactsModule } from '../../src/chains/compile.js';
import { FulcrumError } from '../../src/base/errors.js';

const CONTRACTS = fileURLToPath(new URL('../../contracts/', import.meta.url));
const ARTIFACTS = fileURLToPath(new URL('../../src/chains/artifacts.ts', import.meta.url));

function sources(): Record<string, string> {
  const files = readdirSync(CONTRACTS).filter((name) => name.endsWith('.sol'));
  return Object.fromEntries(files.map((name) => [name, readFileSync(CONTRACTS + name, 'utf8')]));
}

describe('contract artifacts', () => {
  it('are what the sources compile to with the bundled solc', async () => {
    const compiled = compileContracts(sources());
    expect(Object.keys(compiled).sort()).toEqual(['FulcrumVault', 'TestToken']);
    const options = { ...(await resolveConfig(ARTIFACTS)), filepath: ARTIFACTS };
    const text = await format(renderArtifactsModule(compiled), options);
    if (process.env.FULCRUM_WRITE_ARTIFACTS === '1') writeFileSync(ARTIFACTS, text);
    expect(readFileSync(ARTIFACTS, 'utf8')).toBe(text);
  });

  it('refuses a source that does not compile, with a typed error', () => {
    const broken = { 'Broken.sol': 'pragma solidity 0.8.37; contract Broken { uint x = ; }' };
    expect(() => compileContracts(broken)).toThrow(FulcrumError);
  });
});
