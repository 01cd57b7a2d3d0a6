import nx from '@nx/eslint-plugin';

const nodeBuiltins = ['node:*', 'fs', 'path', 'net', 'tls', 'http', 'https', 'crypto', 'os', 'child_process', 'worker_threads', 'stream', 'events', 'url', 'zlib'];
const nodeOnlyPackages = ['pg', 'ioredis', 'bullmq', 'piscina', 'etcd3', 'pino', 'prom-client', '@electric-sql/pglite', 'drizzle-orm/node-postgres', 'drizzle-orm/pglite'];

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  {
    ignores: ['**/node_modules', '**/dist', '**/.next', '**/.nx', '**/.hie', 'out/**', 'e2e/artifacts/**', '**/next-env.d.ts'],
  },
  {
    files: ['**/*.ts', '**/*.tsx', '**/*.js', '**/*.mjs'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          // `hie run` loads the store only when it uses one (apps/engine/src/cli.ts); tests and the
          // composition root import it statically.
          checkDynamicDependenciesExceptions: ['@hie/store'],
          allow: [],
          depConstraints: [
            // Scope: who may use whom.
            { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
            { sourceTag: 'scope:engine', onlyDependOnLibsWithTags: ['scope:shared', 'scope:engine'] },
            { sourceTag: 'scope:manager', onlyDependOnLibsWithTags: ['scope:shared', 'scope:manager'] },
            { sourceTag: 'scope:portal', onlyDependOnLibsWithTags: ['scope:shared', 'scope:portal'] },
            { sourceTag: 'scope:tools', onlyDependOnLibsWithTags: ['scope:shared', 'scope:engine', 'scope:manager', 'scope:tools'] },
            // The base libs (config, envelope, hl7, queues, resilience) depend on nothing of ours.
            { sourceTag: 'layer:base', onlyDependOnLibsWithTags: [] },
            // Runtime: isomorphic code runs in the browser too.
            {
              sourceTag: 'runtime:isomorphic',
              onlyDependOnLibsWithTags: ['runtime:isomorphic'],
              bannedExternalImports: [...nodeBuiltins, ...nodeOnlyPackages, 'react', 'react-dom', 'next', 'next/*'],
            },
            { sourceTag: 'runtime:node', onlyDependOnLibsWithTags: ['runtime:isomorphic', 'runtime:node'], bannedExternalImports: ['react', 'react-dom', 'next', 'next/*', '@xyflow/*'] },
            { sourceTag: 'runtime:browser', onlyDependOnLibsWithTags: ['runtime:isomorphic', 'runtime:browser'], bannedExternalImports: nodeOnlyPackages },
          ],
        },
      ],
      'no-eval': 'error',
      'no-new-func': 'error',
    },
  },
  {
    files: ['**/*.ts', '**/*.tsx'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      // `!` after a lookup we just checked is clearer than a dead branch.
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' }],
    },
  },
];
