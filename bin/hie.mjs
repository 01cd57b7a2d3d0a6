#!/usr/bin/env node
// `hie` CLI entry. Sources are TypeScript, run without a build step through tsx's ESM loader.
import { register } from 'tsx/esm/api';

register();
const args = process.argv.slice(2);
let code;
if (args[0] === 'start' && !args.includes('--help') && !args.includes('-h')) {
  const { start } = await import('./start.ts');
  code = await start();
} else {
  const { main } = await import('../apps/engine/src/cli.ts');
  code = await main(args);
}
// Everything was drained and closed; do not wait for stray timers (breaker reset timers etc.).
process.exit(typeof code === 'number' ? code : 0);
