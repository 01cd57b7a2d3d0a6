import { defineConfig } from 'vitest/config';

/**
 * One Vitest run for the whole repo. Two projects:
 * - `unit`: `*.test.ts` next to the source, fast, no services.
 * - `int`: `*.int.test.ts`, real sockets, files, PostgreSQL, Redis, etcd.
 */
export default defineConfig({
  test: {
    // Tests cover the sources: a `hie` they spawn runs bin/hie.mjs from TypeScript (tsx), never a
    // dist/ left by `npm run build` (bin/build.int.test.ts builds into its own folder).
    env: { HIE_BUILD: 'off' },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['libs/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts', 'tools/*/src/**/*.test.ts', 'plugins/*/src/**/*.test.ts', 'docker/*.test.ts', 'bin/*.test.ts'],
          exclude: ['**/*.int.test.ts', '**/node_modules/**'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'int',
          include: ['libs/*/src/**/*.int.test.ts', 'apps/*/src/**/*.int.test.ts', 'plugins/*/src/**/*.int.test.ts', 'bin/**/*.int.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
