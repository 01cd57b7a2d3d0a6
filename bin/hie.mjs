#!/usr/bin/env node
// `hie` CLI entry. Sources are TypeScript, run without a build step through tsx's ESM loader.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../apps/engine/src/cli.ts');
const code = await main(process.argv.slice(2));
// Everything was drained and closed by main(); do not wait for stray timers (breaker reset timers etc.).
process.exit(typeof code === 'number' ? code : 0);
