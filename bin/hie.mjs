#!/usr/bin/env node
// `hie` CLI entry. Runs the compiled build (dist/, `npm run build`) when there is one at least as
// new as every source, else the TypeScript sources through tsx's ESM loader, as without a build.
// HIE_BUILD=off forces the sources, HIE_BUILD=on the build (images: no sources to compare with);
// HIE_DIST names another build folder. HIE_LOG_LEVEL=debug (or trace) prints which one runs, and why.
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildDecision } from './build-state.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const decision = buildDecision(root, path.resolve(process.env.HIE_DIST ?? path.join(root, 'dist')));
if (process.env.HIE_LOG_LEVEL === 'debug' || process.env.HIE_LOG_LEVEL === 'trace') {
  const why = decision.use ? `the build in ${decision.dist}` : `the sources through tsx (build ${decision.reason === 'stale' ? `stale: ${decision.changed} changed after it` : decision.reason === 'off' ? 'off: HIE_BUILD=off' : 'missing: npm run build makes it'})`;
  process.stderr.write(`hie: running ${why}\n`);
}
if (!decision.use && process.env.HIE_BUILD === 'on') {
  process.stderr.write(`hie: HIE_BUILD=on but there is no build in ${process.env.HIE_DIST ?? 'dist/'} (npm run build makes it)\n`);
  process.exit(1);
}
let main;
if (decision.use) {
  ({ main } = await import(pathToFileURL(path.join(decision.dist, 'bin/main.js')).href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('./main.ts'));
}
const code = await main(process.argv.slice(2));
// Everything was drained and closed; do not wait for stray timers (breaker reset timers etc.).
process.exit(typeof code === 'number' ? code : 0);
