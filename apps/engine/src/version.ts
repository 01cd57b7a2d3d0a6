/**
 * HIE's version: the root package.json's `version`, the one place it is written (a release bumps
 * it there and adds the CHANGELOG.md section). Found by walking up from this module to the first
 * package.json named `hie`: the root one from the sources, the build's own (dist/package.json,
 * which the build writes from the root one) from dist/apps/engine/src/version.js.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let found: { root: string; version: string } | undefined;

function locate(): { root: string; version: string } {
  if (found) return found;
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'hie' && pkg.version) return (found = { root: dir, version: pkg.version });
    }
    if (path.dirname(dir) === dir) throw new Error(`no HIE package.json above ${fileURLToPath(import.meta.url)}`);
  }
}

/** The version of HIE in the root package.json (`hie --version`). */
export function hieVersion(): string {
  return locate().version;
}

/** The HIE checkout (or installed package) folder: where the root package.json is. */
export function hieRoot(): string {
  return locate().root;
}
