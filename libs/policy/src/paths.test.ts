import { mkdir, mkdtemp, realpath, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHostPolicy, type HostPolicy } from './host-policy';
import { resolveInsideRoots, resolveInsideRootsSync } from './paths';

let base: string;
let root: string;
let policy: HostPolicy;

beforeEach(async () => {
  base = await realpath(await mkdtemp(path.join(os.tmpdir(), 'hie-policy-')));
  root = path.join(base, 'root');
  await mkdir(path.join(root, 'in'), { recursive: true });
  await mkdir(path.join(base, 'secret', 'deep'), { recursive: true });
  policy = createHostPolicy({ roots: [root] });
});
afterEach(() => rm(base, { recursive: true, force: true }));

describe('resolveInsideRoots', () => {
  it('accepts folders under a root, existing or not, and resolves relative ones against the first root', async () => {
    expect(await resolveInsideRoots(path.join(root, 'in'), policy)).toBe(path.join(root, 'in'));
    expect(await resolveInsideRoots(path.join(root, 'new', 'deeper'), policy)).toBe(path.join(root, 'new', 'deeper'));
    expect(await resolveInsideRoots('./out/adt', policy)).toBe(path.join(root, 'out', 'adt'));
    expect(resolveInsideRootsSync('in/../in', policy)).toBe(path.join(root, 'in'));
  });

  it('refuses absolute folders elsewhere and a ".." escape', async () => {
    await expect(resolveInsideRoots('/etc', policy)).rejects.toMatchObject({ code: 'policy.path_outside_roots', kind: 'user' });
    await expect(resolveInsideRoots('../secret', policy)).rejects.toMatchObject({ code: 'policy.path_outside_roots' });
    await expect(resolveInsideRoots(path.join(root, 'in', '..', '..', 'secret'), policy)).rejects.toMatchObject({ code: 'policy.path_outside_roots' });
    expect(() => resolveInsideRootsSync('../secret', policy)).toThrow(/outside the folders/);
  });

  it('refuses a symlink that leads out, also when followed by ".." or by a folder not created yet', async () => {
    await symlink(path.join(base, 'secret', 'deep'), path.join(root, 'link'));
    await expect(resolveInsideRoots(path.join(root, 'link'), policy)).rejects.toMatchObject({ code: 'policy.path_outside_roots' });
    await expect(resolveInsideRoots('link/not-yet', policy)).rejects.toMatchObject({ code: 'policy.path_outside_roots' });
    // Lexically "root/link/.." is root; physically it is secret/ — the kernel follows the link first.
    await expect(resolveInsideRoots('link/..', policy)).rejects.toMatchObject({ code: 'policy.path_outside_roots' });
    expect(() => resolveInsideRootsSync('link/x.pem', policy)).toThrow(/outside the folders/);
  });

  it('follows a symlink that stays inside, and a root that is itself a symlink', async () => {
    await symlink(path.join(root, 'in'), path.join(root, 'alias'));
    expect(await resolveInsideRoots('alias', policy)).toBe(path.join(root, 'in'));
    await symlink(root, path.join(base, 'root-link'));
    const viaLink = createHostPolicy({ roots: [path.join(base, 'root-link')] });
    expect(await resolveInsideRoots(path.join(root, 'in'), viaLink)).toBe(path.join(root, 'in'));
  });
});
