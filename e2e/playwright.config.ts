/**
 * Playwright config for the portal end-to-end specs: a real `hie start` (manager + engine +
 * embedded store + portal on one port) on a fresh temporary data dir, driven in the system
 * Chromium. Run from the repo root:  npx playwright test -c e2e
 *
 * Set HIE_E2E_URL (+ HIE_E2E_ADMIN_PASSWORD) to run against a stack that is already up instead.
 */
import { defineConfig } from '@playwright/test';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '..');

// Decided once, in the main process; the workers inherit the environment.
function once(name: string, make: () => string): string {
  if (!process.env[name]) process.env[name] = make();
  return process.env[name]!;
}
const port = Number(once('HIE_E2E_PORT', () => String(20000 + Math.floor(Math.random() * 20000))));
once('HIE_E2E_MLLP_PORT', () => String(port + 1));
const dir = once('HIE_E2E_DIR', () => mkdtempSync(path.join(tmpdir(), 'hie-e2e-')));
// Passwords need 12+ characters: a UUID's worth of randomness, never a short one.
const adminPassword = once('HIE_E2E_ADMIN_PASSWORD', () => `e2e-${randomUUID()}`);
const external = process.env.HIE_E2E_URL;
const baseURL = external ?? `http://127.0.0.1:${port}`;

export default defineConfig({
  testDir: here,
  testMatch: /.*\.spec\.ts$/,
  outputDir: path.join(here, 'artifacts/test-results'),
  timeout: 180_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL,
    viewport: { width: 1280, height: 800 },
    actionTimeout: 15_000,
    navigationTimeout: 30_000,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    },
  },
  webServer: external
    ? undefined
    : {
        command: 'node bin/hie.mjs start',
        cwd: repoRoot,
        url: `${baseURL}/api/trpc/health`,
        // The first start builds the portal when apps/portal/.next is missing (about a minute).
        timeout: 240_000,
        reuseExistingServer: false,
        stdout: 'pipe',
        stderr: 'pipe',
        gracefulShutdown: { signal: 'SIGTERM', timeout: 20_000 },
        env: {
          HIE_PORT: String(port),
          HIE_HOST: '127.0.0.1',
          HIE_DATA_DIR: path.join(dir, 'data'),
          // Items may touch the repo (the demo's ./out) and this run's scratch folder, nothing else.
          HIE_FILE_ROOTS: [repoRoot, dir].join(path.delimiter),
          HIE_ADMIN_PASSWORD: adminPassword,
          HIE_LOG_LEVEL: 'warn',
          // Alerts evaluated every 2 s, so a journey sees them fire without waiting the default 30 s.
          HIE_ALERT_INTERVAL_MS: '2000',
          NEXT_TELEMETRY_DISABLED: '1',
        },
      },
});
