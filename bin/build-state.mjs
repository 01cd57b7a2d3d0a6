// Whether `hie` may run the compiled build (dist/, made by `npm run build`) or must run the
// TypeScript sources through tsx. Plain JavaScript: bin/hie.mjs decides before any TypeScript
// loader exists. A build is used only when its stamp is newer than every source it was made from,
// folders included (a deleted or renamed file changes its folder), so a stale dist never runs.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/** Written last by tools/scripts/build.mjs: an interrupted build has none and is never used. */
export const BUILD_STAMP = '.hie-build.json';

/** What the server build is made from, relative to the repository root (tests excluded). */
export const BUILD_SOURCES = ['bin', 'apps/engine/src', 'apps/manager/src', 'libs', 'plugins', 'tools/scripts/build.mjs'];

/** Unit tests, Vitest's config and READMEs are not built: editing them leaves the build fresh. */
const notBuilt = (name) => name.endsWith('.test.ts') || name.endsWith('.md') || name === 'node_modules';

/**
 * The most recently modified file under `paths` (files or folders, walked; missing ones skipped).
 * @param {readonly string[]} paths
 * @param {{ folders?: boolean, skip?: (name: string) => boolean }} [opts] `folders`: a folder's own
 *   time counts too (it changes when an entry is added, removed or renamed)
 * @returns {{ file: string, mtimeMs: number } | undefined}
 */
export function newestFile(paths, opts = {}) {
  let newest;
  const visit = (p) => {
    let st;
    try {
      st = statSync(p);
    } catch {
      return; // a source that does not exist cannot be newer than the build
    }
    const counts = !st.isDirectory() || opts.folders;
    if (counts && (!newest || st.mtimeMs > newest.mtimeMs)) newest = { file: p, mtimeMs: st.mtimeMs };
    if (st.isDirectory()) for (const name of readdirSync(p)) if (!opts.skip?.(name)) visit(path.join(p, name));
  };
  for (const p of paths) visit(p);
  return newest;
}

/**
 * Run the build in `dist` or the sources of the checkout at `root`?
 * `HIE_BUILD=off` forces the sources (the test suite sets it: tests cover the sources);
 * `HIE_BUILD=on` the build, unchecked (an image that ships the build and no sources), or fails.
 * @param {string} root
 * @param {string} dist
 * @param {Record<string, string | undefined>} [env]
 * @returns {{ use: true, dist: string } | { use: false, reason: 'off' | 'missing' } | { use: false, reason: 'stale', changed: string }}
 */
export function buildDecision(root, dist, env = process.env) {
  if (env.HIE_BUILD === 'off') return { use: false, reason: 'off' };
  let stamp;
  try {
    stamp = statSync(path.join(dist, BUILD_STAMP));
  } catch {
    return { use: false, reason: 'missing' };
  }
  if (env.HIE_BUILD === 'on') return { use: true, dist };
  const newest = newestFile(
    BUILD_SOURCES.map((p) => path.join(root, p)),
    { folders: true, skip: notBuilt },
  );
  if (newest && newest.mtimeMs > stamp.mtimeMs) return { use: false, reason: 'stale', changed: path.relative(root, newest.file) };
  return { use: true, dist };
}
