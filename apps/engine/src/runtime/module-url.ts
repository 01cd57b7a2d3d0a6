/**
 * Where a module of ours is, whether the engine runs from its TypeScript sources (tsx, Vitest) or
 * compiled (dist/, `npm run build`, one `.js` beside where each `.ts` was).
 */

import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

/** True when this code runs compiled: its own file is `.js`. */
export const compiled = !import.meta.url.endsWith('.ts');

/** The URL of the module whose source is `sourcePath` (relative to `base`, with its `.ts`), as it exists where this code runs. */
export function moduleUrl(sourcePath: string, base: string): URL {
  return new URL(compiled ? sourcePath.replace(/\.ts$/, '.js') : sourcePath, base);
}

/**
 * `execArgv` for worker threads: from the sources each thread loads tsx itself (the main thread's
 * loader is not inherited); compiled, plain Node. tsx by its resolved URL: a bare `tsx` would be
 * looked up from the working folder, which is a user's project (not HIE's checkout) with `hie run`.
 */
export const workerExecArgv: string[] = compiled ? [] : ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href];
