/**
 * The package's public API as a user gets it: each entry point of package.json's `exports`,
 * imported from the built `dist/` (by the package's own name: `fulcrum`, `fulcrum/store`, ...),
 * holds what it promises and not the internals; and the `@example` of each central entry point
 * runs, as written in its doc comment, against the built package and prints what it says.
 *
 * An example is plain JavaScript (no type annotations: it runs as an `.mjs` file) that imports
 * only from the package's entry points and Node's own modules; each line `// → text` after a
 * statement says the next line it prints. Needs `npm run build` first (as `npm test` does).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  exports: Record<string, { types: string; default: string }>;
};
const run = promisify(execFile);

/** Each subpath, with names it must export and internal names it must not. */
const ENTRY_POINTS: Record<string, { has: string[]; hasNot: string[] }> = {
  '.': {
    has: [
      'Engine',
      'applyCommand',
      'dryRun',
      'decodeCommand',
      'decodeJson',
      'createState',
      'stateHash',
      'subAccountReport',
      'liquidationStatus',
      'poolSummaries',
      'renderEvent',
      'renderHealthReport',
      'evaluateHealth',
      'assetRisk',
      'maxBorrowByMargin',
      'collateralLiquidationPrice',
      'parseAssetConfig',
      'aggregate',
      'takeQuote',
      'replayQuotes',
      'LiveFeed',
      'planLiquidation',
      'penaltyLimit',
      'LiquidationMonitor',
      'FulcrumError',
      'ERROR_CODES',
      'parseDecimal',
      'formatDecimal',
      'PRICE_SCALE',
      'DEFAULT_LIQUIDATION_CONFIG',
    ],
    hasNot: [
      // Internals: the draft a command runs on, the effects journal's byte format, the stored
      // forms of commands and snapshots, private helpers.
      'Draft',
      'applyEffects',
      'EffectsWriter',
      'EffectsError',
      'encodeCommand',
      'serializeState',
      'sha256Hex',
      'quoteInput',
      'fieldName',
      // What the other entry points hold.
      'DurableEngine',
      'recover',
      'black76',
      'portfolioMargin',
      'volatilityEstimates',
      'StressMargin',
      'simulate',
      'SeededRandom',
    ],
  },
  './store': {
    has: [
      'DurableEngine',
      'recover',
      'openStore',
      'SqliteStore',
      'PostgresStore',
      'StoreError',
      'accountHistory',
      'eventsInTimeRange',
      'stateAt',
    ],
    hasNot: ['Engine', 'replayRecord', 'checkedReplay', 'encodeCommand', 'serializeState'],
  },
  './derivatives': {
    has: [
      'black76',
      'thetaPerDay',
      'volSurface',
      'flatSurface',
      'volatilityAt',
      'forwardAt',
      'portfolioMargin',
      'portfolioScenarios',
      'standardRequirement',
      'settlementPrice',
      'positionValue',
      'validateInstrument',
      'parseInstrumentListing',
      'parsePortfolio',
      'portfolioReport',
      'isolatedLiquidationPrice',
    ],
    hasNot: ['DerivativesMargin', 'applyFill', 'ppmUp', 'parseTime', 'collateralNeeded', 'Engine'],
  },
  './risk': {
    has: [
      'volatilityEstimates',
      'closeToCloseVolatility',
      'ewmaVolatility',
      'parkinsonVolatility',
      'garmanKlassVolatility',
      'tierHaircut',
      'proposeWeights',
      'parseOrderBook',
      'fitLinearDepth',
      'squareRootImpact',
      'StressMargin',
      'stressedWeights',
      'normalCdf',
      'inverseNormalCdf',
    ],
    hasNot: ['requireSample', 'Engine', 'black76'],
  },
  './sim': {
    has: [
      'simulate',
      'buildInput',
      'findScenario',
      'SCENARIOS',
      'POLICIES',
      'selectPolicies',
      'generatePopulation',
      'pathFromBars',
      'syntheticPath',
      'Market',
      'renderReport',
      'SeededRandom',
    ],
    hasNot: ['SignedMarket', 'PerpDesk', 'units6', 'Engine'],
  },
  './solvency': {
    has: [
      'sigmaRangeProof',
      'commit',
      'Transcript',
      'buildProofTable',
      'buildSolvencyTree',
      'auditProblem',
      'bundleProblem',
    ],
    hasNot: ['forgeRangeProof', 'Engine'],
  },
};

/** The specifier a user writes for a subpath: `fulcrum`, `fulcrum/store`, ... */
const specifier = (subpath: string) =>
  subpath === '.' ? PACKAGE.name : `${PACKAGE.name}/${subpath.slice(2)}`;

/** The built file an import of `spec` loads, by the exports map. */
function distUrl(spec: string): string {
  const subpath = spec === PACKAGE.name ? '.' : `./${spec.slice(PACKAGE.name.length + 1)}`;
  const target = PACKAGE.exports[subpath];
  if (target === undefined) throw new Error(`${spec} is not in package.json's exports`);
  return pathToFileURL(join(ROOT, target.default)).href;
}

beforeAll(() => {
  for (const [subpath, target] of Object.entries(PACKAGE.exports)) {
    for (const file of [target.types, target.default]) {
      if (!existsSync(join(ROOT, file))) {
        throw new Error(`${subpath}: ${file} is missing: run \`npm run build\` first`);
      }
    }
  }
});

describe('package exports', () => {
  it('has the core and one entry point per layer a user needs, each with types', () => {
    expect(Object.keys(PACKAGE.exports).sort()).toEqual(Object.keys(ENTRY_POINTS).sort());
    for (const [subpath, target] of Object.entries(PACKAGE.exports)) {
      const folder = subpath === '.' ? '' : `${subpath.slice(2)}/`;
      expect(target).toEqual({
        types: `./dist/${folder}index.d.ts`,
        default: `./dist/${folder}index.js`,
      });
    }
  });

  for (const [subpath, { has, hasNot }] of Object.entries(ENTRY_POINTS)) {
    it(`'${specifier(subpath)}' exports what it promises and no internals`, async () => {
      // By the package's own name (self-reference through `exports`), so from dist/.
      const name: string = specifier(subpath);
      const loaded = (await import(name)) as Record<string, unknown>;
      expect(loaded).toBe(await import(distUrl(name)));
      const missing = has.filter((n) => !(n in loaded) || loaded[n] === undefined);
      expect(missing, `missing from ${name}`).toEqual([]);
      const leaked = hasNot.filter((n) => n in loaded);
      expect(leaked, `internal names exported from ${name}`).toEqual([]);
    });
  }
});

/** The central entry points whose doc comments carry a runnable example. */
const EXAMPLES = [
  { name: 'Engine', file: 'src/engine/engine.ts', declaration: 'export class Engine {' },
  {
    name: 'DurableEngine',
    file: 'src/store/durableEngine.ts',
    declaration: 'export class DurableEngine {',
  },
  {
    name: 'LiquidationMonitor',
    file: 'src/liquidation/monitor.ts',
    declaration: 'export class LiquidationMonitor {',
  },
  {
    name: 'planLiquidation',
    file: 'src/liquidation/plan.ts',
    declaration: 'export function planLiquidation(',
  },
  { name: 'recover', file: 'src/store/recovery.ts', declaration: 'export async function recover(' },
];

/** The `@example` of the doc comment right above `declaration` in `file`. */
function exampleOf(file: string, declaration: string): string {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const at = text.indexOf(declaration);
  if (at < 0) throw new Error(`${file}: no \`${declaration}\``);
  const end = text.lastIndexOf('*/', at);
  if (end < 0 || text.slice(end + 2, at).trim() !== '') {
    throw new Error(`${file}: no doc comment right above \`${declaration}\``);
  }
  const start = text.lastIndexOf('/**', end);
  const lines = text
    .slice(start + 3, end)
    .split('\n')
    .map((line) => line.replace(/^\s*\* ?/, ''));
  const from = lines.findIndex((line) => line.trim() === '@example');
  if (from < 0) throw new Error(`${file}: the doc comment of \`${declaration}\` has no @example`);
  const rest = lines.slice(from + 1);
  const to = rest.findIndex((line) => /^@\w/.test(line.trim()));
  return (to < 0 ? rest : rest.slice(0, to)).join('\n').trim() + '\n';
}

/** The example with its `fulcrum…` imports pointed at the built files. */
function againstDist(code: string): string {
  const rewritten = code.replace(/from '(fulcrum(?:\/[\w-]+)?)'/g, (_, spec: string) => {
    return `from '${distUrl(spec)}'`;
  });
  expect(rewritten, 'an import of the package the rewrite missed').not.toMatch(
    /(from|import\()\s*['"]fulcrum(\/|['"])/,
  );
  return rewritten;
}

/** What the example says it prints: each `// → ...` line is the next line of output. */
function statedOutput(code: string): string[] {
  return code
    .split('\n')
    .map((line) => /^\s*\/\/ → (.*)$/.exec(line)?.[1])
    .filter((line): line is string => line !== undefined);
}

describe('doc comment examples of the central entry points', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fulcrum-examples-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const { name, file, declaration } of EXAMPLES) {
    it(`${name} (${file}) runs and prints what it says`, async () => {
      const code = exampleOf(file, declaration);
      // Each imports from the package's public entry points only.
      const specifiers = [...code.matchAll(/from '([^']+)'/g)].map((m) => m[1] as string);
      expect(specifiers.filter((s) => s.startsWith(PACKAGE.name)).length).toBeGreaterThan(0);
      // Anything else is Node's own: `distUrl` throws for a specifier not in the exports map.
      for (const s of specifiers) if (!s.startsWith('node:')) distUrl(s);
      const expected = statedOutput(code);
      expect(expected.length, 'the example states what it prints').toBeGreaterThan(0);
      const script = join(dir, `${name}.mjs`);
      writeFileSync(script, againstDist(code));
      const { stdout, stderr } = await run(process.execPath, [script], {
        cwd: dir,
        timeout: 30_000,
      });
      expect(stderr).toBe('');
      expect(stdout.trimEnd().split('\n')).toEqual(expected);
    });
  }
});
