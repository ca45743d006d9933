// Lint: type-aware TypeScript rules, plus the architecture's boundaries. The core (protocol, tasks,
// emulator, CLI, shared protocols) never imports `vscode`; webview pages never import host modules.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const noVscode = {
  name: 'vscode',
  message: 'The core runs in plain Node (CLI, emulator, unit tests): only src/extension/ may import vscode.',
};

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', '.cache/**', 'node_modules/**', '.vscode-test/**', 'test/host/**', 'test/support/summary-reporter.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // zod and undici hand back `any`-free types; these fire mostly on JSON.parse in tests.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
    },
  },
  {
    // Every room's core (new ones included), so a new folder is covered without editing this list.
    files: ['src/**'],
    ignores: ['src/extension/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { paths: [noVscode] }],
    },
  },
  {
    files: ['webview/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [noVscode],
          patterns: [
            {
              regex: '^\\.\\./(\\.\\./)*src/(?!protocol/)',
              message: 'A webview page imports only the shared protocol types (src/protocol/), never host code.',
            },
            { regex: '^node:', message: 'A webview page runs in a browser: no Node modules.' },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      // Scripts run in plain Node and are not type-checked: keep disableTypeChecked's parser options.
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly' },
    },
  },
);
