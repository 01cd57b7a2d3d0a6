#!/usr/bin/env node
// `npm test`: type-check, lint (module boundaries included), every Vitest project, then the
// Playwright e2e specs. `HIE_SKIP_E2E=1` leaves the browser tests out (quick local runs).
// Prints one summary line per step; exits non-zero if any step fails.
import { spawnSync } from 'node:child_process';

const steps = [
  // The Nx project graph feeds @nx/enforce-module-boundaries; without it ESLint skips the rule.
  ['nx graph', 'npx', ['nx', 'show', 'projects']],
  ['typecheck', 'npx', ['tsc', '-p', 'tsconfig.json', '--noEmit']],
  // The root tsconfig leaves out the portal (JSX, DOM libs) and the Playwright specs: check them too.
  ['portal types', 'npx', ['tsc', '-p', 'apps/portal/tsconfig.json', '--noEmit']],
  ['e2e types', 'npx', ['tsc', '-p', 'e2e/tsconfig.json', '--noEmit']],
  ['lint', 'npx', ['eslint', '.', '--max-warnings=0']],
  ['vitest', 'npx', ['vitest', 'run', ...process.argv.slice(2)]],
  // The portal in Debian's Chromium against a real `hie start` (builds the portal on first run).
  ['chromium', 'bash', ['tools/scripts/ensure-chromium.sh']],
  ['e2e', 'npx', ['playwright', 'test', '-c', 'e2e']],
];
const results = [];
for (const [name, cmd, args] of steps) {
  if (process.env.HIE_SKIP_E2E && (name === 'e2e' || name === 'chromium')) continue;
  const t0 = Date.now();
  console.log(`\n▶ ${name}: ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' } });
  results.push({ name, ok: r.status === 0, seconds: ((Date.now() - t0) / 1000).toFixed(1) });
}
console.log('\n── summary ──');
for (const r of results) console.log(`${r.ok ? 'PASS' : 'FAIL'}  ${r.name.padEnd(12)} ${r.seconds}s`);
process.exit(results.every((r) => r.ok) ? 0 : 1);
