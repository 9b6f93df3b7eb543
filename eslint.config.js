// @ts-check
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'build/', 'coverage/', 'reports/', 'node_modules/'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      eqeqeq: 'error',
      'no-console': 'error',
    },
  },
  {
    // The pure policy core must not reach for the web stack, logging or I/O.
    files: ['src/policy/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['fastify', 'fastify-*', '@fastify/*', 'zod', 'zod/*', 'pino', 'pino-*'], message: 'src/policy is pure' },
            // node:crypto only for its hashes: a digest is a pure function of its input (ledger ids).
            { group: ['node:*', '!node:crypto', 'fs', 'path', 'http', 'net', 'child_process'], message: 'src/policy does no I/O' },
            { group: ['../*'], message: 'src/policy depends on nothing outside itself' },
          ],
        },
      ],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
);
