// Lint rules for Fulcrum: ESLint's and typescript-eslint's recommended sets, plus the habits of
// docs/STYLE.md that a linter can check.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

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
    ignores: ['src/cli/**', 'src/store/**', 'src/**/*.test.ts'],
    rules: {
      // The core reads no clock and draws no random number: time arrives with each command.
      // (`src/cli` and `src/store` are the adapters at the edge, where I/O belongs.)
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
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*', 'fs', 'path', 'os', 'crypto'], message: 'the core does no I/O' },
          ],
        },
      ],
      'no-console': 'error',
    },
  },
);
