/**
 * When `hie start` (re)builds the portal: on the first start, and whenever a source it is built
 * from changed after the last build — so nobody (the e2e suite included) runs a stale `.next`.
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/** A file and when it was last modified. */
export interface FileTime {
  file: string;
  mtimeMs: number;
}

/** What to do about the portal build, and why (for the start-up line). */
export type PortalBuildDecision =
  | { build: false }
  | { build: true; reason: 'missing' }
  | { build: true; reason: 'stale'; changed: FileTime };

/**
 * The decision itself, pure: build when there is no build (`buildId` undefined), or when the
 * newest source is newer than the build's `BUILD_ID` (written at the end of `next build`).
 */
export function decidePortalBuild(buildId: FileTime | undefined, newestSource: FileTime | undefined): PortalBuildDecision {
  if (!buildId) return { build: true, reason: 'missing' };
  if (newestSource && newestSource.mtimeMs > buildId.mtimeMs) return { build: true, reason: 'stale', changed: newestSource };
  return { build: false };
}

/**
 * The files the portal bundle is made from, relative to the repository root: its sources, its
 * config and dependencies, and @hie/config (transpiled into the bundle: the designer's
 * validation lives there).
 */
export const PORTAL_SOURCES = ['apps/portal/src', 'apps/portal/next.config.mjs', 'apps/portal/package.json', 'libs/config/src'] as const;

/** The most recently modified file under `paths` (files or folders, walked; missing ones skipped). */
export function newestFile(paths: readonly string[]): FileTime | undefined {
  let newest: FileTime | undefined;
  const visit = (p: string) => {
    let st;
    try {
      st = statSync(p);
    } catch (_e) {
      return; // a source that does not exist cannot be newer than the build
    }
    if (st.isDirectory()) {
      for (const name of readdirSync(p)) visit(path.join(p, name));
    } else if (!newest || st.mtimeMs > newest.mtimeMs) {
      newest = { file: p, mtimeMs: st.mtimeMs };
    }
  };
  for (const p of paths) visit(p);
  return newest;
}

/** {@link decidePortalBuild} on the files of a checkout at `root`. */
export function portalBuildDecision(root: string): PortalBuildDecision {
  const buildIdPath = path.join(root, 'apps/portal/.next/BUILD_ID');
  const buildId = newestFile([buildIdPath]);
  if (!buildId) return decidePortalBuild(undefined, undefined);
  return decidePortalBuild(buildId, newestFile(PORTAL_SOURCES.map((p) => path.join(root, p))));
}
