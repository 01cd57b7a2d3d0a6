import { realpathSync } from 'node:fs';
import { mkdir, realpath } from 'node:fs/promises';
import path from 'node:path';
import { HieError } from '@hie/config';
import type { HostPolicy } from './host-policy';

/**
 * Walks `abs` one segment at a time the way the kernel would: every existing prefix is replaced
 * by its realpath (so a symlink is followed before a later `..` is applied, unlike
 * `path.resolve`, which would drop `link/..` lexically), and the part that does not exist yet is
 * appended as written. Yields each candidate; the driver answers its realpath or null (missing).
 */
function* physicalWalk(abs: string): Generator<string, string, string | null> {
  const root = path.parse(abs).root;
  let current = root;
  for (const segment of abs.slice(root.length).split(path.sep)) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      current = path.dirname(current);
      continue;
    }
    const next = path.join(current, segment);
    current = (yield next) ?? next;
  }
  return current;
}

const MISSING = new Set(['ENOENT', 'ENOTDIR']);

function absolute(setting: string, policy: HostPolicy): string {
  // Relative settings (`./out/adt` in the demo) resolve against the first root, not the cwd.
  return path.isAbsolute(setting) ? setting : `${policy.roots[0]}${path.sep}${setting}`;
}

function isInside(real: string, root: string): boolean {
  return real === root || real.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
}

function outside(setting: string, real: string, policy: HostPolicy): HieError {
  return new HieError(
    'policy.path_outside_roots',
    `"${setting}" is outside the folders items may use (${real} is not under ${policy.roots.join(', ')}; see HIE_FILE_ROOTS)`,
    { kind: 'user', details: { path: setting } },
  );
}

function unresolvable(setting: string, e: unknown): HieError {
  const code = (e as { code?: string }).code ?? 'unknown';
  return new HieError('policy.path_unresolvable', `cannot resolve "${setting}" (${code})`, { kind: 'user', details: { path: setting } });
}

/** A realpath failure: null when the path does not exist (yet), else a refusal. */
function missingOrThrow(setting: string, e: unknown): null {
  if (MISSING.has((e as { code?: string }).code ?? '')) return null;
  throw unresolvable(setting, e);
}

function checked(setting: string, real: string, policy: HostPolicy): string {
  if (!policy.roots.some((root) => isInside(real, root))) throw outside(setting, real, policy);
  return real;
}

/**
 * The real path of a folder or file setting, checked to lie inside one of the policy's roots
 * after every symlink and `..` is resolved. Paths that do not exist yet are allowed when their
 * real parent is inside (a folder `file.out` will create).
 * @throws HieError `policy.path_outside_roots` (user) or `policy.path_unresolvable` (user).
 */
export async function resolveInsideRoots(setting: string, policy: HostPolicy): Promise<string> {
  const walk = physicalWalk(absolute(setting, policy));
  let step = walk.next();
  while (!step.done) step = walk.next(await realpath(step.value).catch((e: unknown) => missingOrThrow(setting, e)));
  return checked(setting, step.value, policy);
}

/** {@link resolveInsideRoots} for start-up code that is synchronous (TLS files). */
export function resolveInsideRootsSync(setting: string, policy: HostPolicy): string {
  const walk = physicalWalk(absolute(setting, policy));
  let step = walk.next();
  while (!step.done) {
    let real: string | null;
    try {
      real = realpathSync(step.value);
    } catch (e) {
      real = missingOrThrow(setting, e);
    }
    step = walk.next(real);
  }
  return checked(setting, step.value, policy);
}

/**
 * Creates the folder a setting names, when it is inside the roots, and returns its real path,
 * checked again once it exists (nothing on the way may have become a symlink out meanwhile).
 * `mode`: permissions of the folders created (narrowed by the umask).
 * @throws HieError `policy.path_outside_roots` (user), or the `mkdir` error.
 */
export async function ensureFolderInsideRoots(setting: string, policy: HostPolicy, mode?: number): Promise<string> {
  await mkdir(await resolveInsideRoots(setting, policy), { recursive: true, mode });
  return resolveInsideRoots(setting, policy);
}
