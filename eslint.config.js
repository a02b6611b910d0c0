import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Layers that only point down (ARCHITECTURE.md): each folder may import only the layers below it. An
 * import is matched by its path as written (relative, any depth), so a file reaching `../index/…`,
 * `../../datasets/…` or the public API `../index.js` from the wrong layer fails the lint. Type-only
 * imports count too: a layer must not even name an upper layer's types.
 */
const layer = (name, message) => ({ regex: `^(\\.\\.?/)+${name}/`, message });
const UPPER = {
  workers: layer('workers', 'a lower layer does not import the worker pool'),
  readers: layer('readers', 'a lower layer does not import the readers layer'),
  index: layer('index', 'readers and sources do not import the index layer: register a step or let src/index compose'),
  datasets: layer('datasets', 'only src/cli and the composition roots import the datasets layer'),
  cli: layer('cli', 'nothing imports the CLI'),
  api: { regex: '^(\\.\\./)+index\\.js$', message: 'only the CLI, the worker entry, tests and examples import the public API (src/index.ts)' },
};
const restrict = (...names) => ['error', { patterns: names.map((n) => UPPER[n]) }];

export default tseslint.config(
  // wasm/: AssemblyScript (its own types and decorators), built by scripts/build-wasm.mjs.
  { ignores: ['dist/', 'node_modules/', 'scratch/', 'bench/data/', 'coverage/', 'wasm/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/ban-ts-comment': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  // The layers, bottom up. The composition roots (src/index.ts, src/workers/worker.ts) and the CLI on top
  // import anything.
  {
    files: ['src/*.ts'],
    ignores: ['src/index.ts'],
    // Base modules (errors, options, util; option-keys names every options interface, as types only).
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: Object.values(UPPER).map((p) => ({ ...p, allowTypeImports: true })) }] },
  },
  { files: ['src/sources/**/*.ts'], rules: { '@typescript-eslint/no-restricted-imports': restrict('workers', 'readers', 'index', 'datasets', 'cli', 'api') } },
  {
    files: ['src/workers/**/*.ts'],
    ignores: ['src/workers/worker.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': restrict('readers', 'index', 'datasets', 'cli', 'api') },
  },
  { files: ['src/readers/**/*.ts'], rules: { '@typescript-eslint/no-restricted-imports': restrict('index', 'datasets', 'cli', 'api') } },
  { files: ['src/index/**/*.ts'], rules: { '@typescript-eslint/no-restricted-imports': restrict('datasets', 'cli', 'api') } },
  { files: ['src/datasets/**/*.ts'], rules: { '@typescript-eslint/no-restricted-imports': restrict('cli', 'api') } },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', process: 'readonly', console: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
