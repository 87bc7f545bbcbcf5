// Lint rules for Fulcrum: ESLint's and typescript-eslint's recommended sets, plus the habits of
// docs/STYLE.md that a linter can check.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The core does no I/O: no Node.js module in any folder but the adapters (`src/cli`, `src/store`).
const NO_IO = { group: ['node:*', 'fs', 'path', 'os', 'crypto'], message: 'the core does no I/O' };

// The layers of docs/ARCHITECTURE.md, lowest first. A file may import its own folder and the
// folders its layer lists, nothing else of `src/` (`src/index.ts`, the public entry, included).
// `liquidation/` holds two layers: `plan.ts` is a rule below the engine, `monitor.ts` watches it.
const GROUND = ['base', 'math', 'domain'];
const RULES = ['pools', 'margin', 'oracle', 'liquidation/plan.js'];
const LAYERS = [
  { files: ['src/base/**'], may: [], why: 'base/ is the ground: it imports nothing of Fulcrum' },
  { files: ['src/math/**'], may: ['base'], why: 'math/ imports only base/' },
  { files: ['src/domain/**'], may: ['base', 'math'], why: 'domain/ imports only base/ and math/' },
  {
    files: ['src/pools/**', 'src/margin/**', 'src/oracle/**', 'src/liquidation/plan.ts'],
    may: [...GROUND, ...RULES],
    also: [{ regex: '^\\./monitor(\\.js)?$', message: 'liquidation/plan.ts is below the monitor' }],
    why: 'the rules (pools/, margin/, oracle/, liquidation/plan.ts) import only each other and base/, math/, domain/, never the engine',
  },
  {
    files: ['src/derivatives/**'],
    may: GROUND,
    why: 'derivatives/ holds rules below the engine: it imports only base/, math/ and domain/',
  },
  {
    files: ['src/risk/**'],
    may: GROUND,
    why: 'risk/ is analytics on numbers: it imports only base/, math/ and domain/ (no feeds, no engine)',
  },
  {
    files: ['src/engine/**'],
    may: [...GROUND, ...RULES, 'derivatives'],
    why: 'engine/ imports only the rules, derivatives/ and the ground: never the monitor, feeds, risk, sim, store or cli',
  },
  {
    files: ['src/liquidation/monitor.ts'],
    may: [...GROUND, ...RULES, 'derivatives', 'engine'],
    why: 'the monitor imports the engine and what is below it',
  },
  {
    files: ['src/solvency/**'],
    may: [...GROUND, 'margin', 'engine'],
    why: 'solvency/ proves margin and liabilities: it imports base/, math/, domain/, margin/ and the engine (read-only queries)',
  },
  {
    files: ['src/feeds/**'],
    may: [...GROUND, ...RULES, 'derivatives', 'engine', 'liquidation', 'risk'],
    why: 'feeds/ imports the engine and what is below it, never sim/, store/ or cli/',
  },
  {
    files: ['src/sim/**'],
    may: [...GROUND, ...RULES, 'derivatives', 'engine', 'liquidation', 'risk', 'feeds'],
    why: 'sim/ is core: it never imports store/ or cli/',
  },
  {
    files: ['src/store/**'],
    may: [...GROUND, ...RULES, 'derivatives', 'engine', 'liquidation', 'risk', 'feeds', 'sim'],
    io: true,
    why: 'store/ never imports cli/',
  },
  {
    files: ['src/server/**'],
    may: [
      ...GROUND,
      ...RULES,
      'derivatives',
      'engine',
      'liquidation',
      'risk',
      'feeds',
      'sim',
      'store',
      'replication',
    ],
    io: true,
    why: 'server/ is an adapter: it imports everything but cli/',
  },
  {
    files: ['src/chains/**'],
    may: [...GROUND, ...RULES, 'derivatives', 'engine', 'store'],
    io: true,
    why: 'chains/ is an adapter between EVM chains and the engine: never server/ or cli/',
  },
  {
    files: ['src/replication/**'],
    may: [...GROUND, ...RULES, 'derivatives', 'engine', 'store'],
    io: true,
    why: 'replication/ puts the engine on a replicated log (NATS JetStream): never server/ or cli/',
  },
];

/** The import sources a layer refuses: any path out of its folder to a folder it may not use. */
function leavingFolder(may) {
  const allowed = may.map((m) => (m.endsWith('.js') ? `${m.replace(/\./g, '\\.')}$` : `${m}/`));
  return allowed.length === 0 ? '^\\.\\./' : `^\\.\\./(?!${allowed.join('|')})`;
}

const layerRules = LAYERS.map(({ files, may, also = [], io = false, why }) => ({
  files,
  ignores: ['src/**/*.test.ts'],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          ...(io ? [] : [NO_IO]),
          { regex: leavingFolder(may), caseSensitive: true, message: why },
          ...also.map((pattern) => ({ ...pattern, caseSensitive: true })),
        ],
      },
    ],
  },
}));

export default tseslint.config(
  { ignores: ['dist/**', 'dist-bench/**', 'node_modules/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { console: 'readonly', process: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      // Leaving fields out of a copy with `{ dropped, ...kept }` is how a field is removed.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
      'no-console': ['error', { allow: ['log', 'error'] }],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: [
      'src/cli/**',
      'src/store/**',
      'src/server/**',
      'src/chains/**',
      'src/replication/**',
      'src/**/*.test.ts',
    ],
    rules: {
      // The core reads no clock and draws no random number: time arrives with each command.
      // (`src/cli`, `src/store`, `src/server`, `src/chains` and `src/replication` are the
      // adapters at the edge, where I/O belongs.)
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'the core reads no clock' },
        { object: 'Math', property: 'random', message: 'the core draws no random number' },
        { object: 'performance', property: 'now', message: 'the core reads no clock' },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: "NewExpression[callee.name='Date']", message: 'the core reads no clock' },
      ],
      'no-restricted-imports': ['error', { patterns: [NO_IO] }],
      'no-console': 'error',
    },
  },
  {
    // Functions short enough to read on one screen (docs/STYLE.md): at most 80 lines of code,
    // blank lines and comments not counted. Tests are tables and stories: they are left out.
    // The browser console (web/src) keeps the same habit.
    files: ['src/**/*.ts', 'web/src/**/*.ts'],
    ignores: ['src/**/*.test.ts'],
    rules: {
      'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    // The console runs in a browser: it talks to the service over HTTP, never imports Node.js
    // or the engine (its numbers are the service's decimal strings).
    files: ['web/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*'], message: 'web/ runs in a browser' },
            // Few files of src/ are the console's too: the chart style it shares with the
            // simulator's report (constants only), and the solvency verifier, so that a trader's
            // browser checks a bundle exactly as `fulcrum verify-proof` does (pure, no engine).
            {
              regex:
                '^\\.\\./\\.\\./src/(?!sim/chartStyle\\.js$|solvency/(serialize|tree|verifier)\\.js$)',
              message:
                'web/ reads the service, not the engine (only src/sim/chartStyle.js and the solvency verifier are shared)',
            },
          ],
        },
      ],
    },
  },
  // Each layer imports only the layers below it (docs/ARCHITECTURE.md, "Layers"); tests may
  // reach anything.
  ...layerRules,
  {
    files: ['src/index.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            NO_IO,
            {
              regex: '^\\./(store|cli)/',
              caseSensitive: true,
              message: 'src/index.ts is the core: the adapters have their own entry',
            },
          ],
        },
      ],
    },
  },
);
