// Types of build-state.mjs (plain JavaScript: bin/hie.mjs runs it before any TypeScript loader).
export declare const BUILD_STAMP: string;
export declare const BUILD_SOURCES: readonly string[];
export declare function newestFile(
  paths: readonly string[],
  opts?: { folders?: boolean; skip?: (name: string) => boolean },
): { file: string; mtimeMs: number } | undefined;
export type BuildDecision = { use: true; dist: string } | { use: false; reason: 'off' | 'missing' } | { use: false; reason: 'stale'; changed: string };
export declare function buildDecision(root: string, dist: string, env?: Record<string, string | undefined>): BuildDecision;
