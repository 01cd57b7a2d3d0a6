import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BUILD_STAMP, buildDecision } from './build-state.mjs';

/** A checkout with a few sources (one a unit test) and a dist holding a build stamp, all of now. */
async function checkout(root: string) {
  for (const dir of ['bin', 'apps/engine/src', 'apps/manager/src', 'libs/hl7/src']) await mkdir(path.join(root, dir), { recursive: true });
  await writeFile(path.join(root, 'apps/engine/src/cli.ts'), 'export {};\n');
  await writeFile(path.join(root, 'libs/hl7/src/index.ts'), 'export {};\n');
  await writeFile(path.join(root, 'libs/hl7/src/index.test.ts'), 'export {};\n');
  await mkdir(path.join(root, 'dist'), { recursive: true });
  await writeFile(path.join(root, 'dist', BUILD_STAMP), '{}\n');
}

/** Sets a file's (or folder's) modification time `secondsAgo` in the past. */
const age = (file: string, secondsAgo: number) => utimes(file, new Date(), new Date(Date.now() - secondsAgo * 1000));

describe('buildDecision: the build runs only when it is at least as new as every source', () => {
  let root: string;
  let dist: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'hie-build-state-'));
    dist = path.join(root, 'dist');
    await checkout(root);
    // Everything 60 s old, the stamp 30 s old: a fresh build.
    for (const p of ['bin', 'apps', 'apps/engine', 'apps/engine/src', 'apps/engine/src/cli.ts', 'apps/manager', 'apps/manager/src', 'libs', 'libs/hl7', 'libs/hl7/src', 'libs/hl7/src/index.ts', 'libs/hl7/src/index.test.ts']) {
      await age(path.join(root, p), 60);
    }
    await age(path.join(dist, BUILD_STAMP), 30);
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('uses a build newer than its sources', () => {
    expect(buildDecision(root, dist, {})).toEqual({ use: true, dist });
  });

  it('falls back to the sources when a source changed after the build', async () => {
    await age(path.join(root, 'libs/hl7/src/index.ts'), 1);
    expect(buildDecision(root, dist, {})).toEqual({ use: false, reason: 'stale', changed: 'libs/hl7/src/index.ts' });
  });

  it('falls back when a source was deleted after the build (its folder changed)', async () => {
    await rm(path.join(root, 'apps/engine/src/cli.ts'));
    expect(buildDecision(root, dist, {})).toEqual({ use: false, reason: 'stale', changed: 'apps/engine/src' });
  });

  it('ignores a changed unit test (tests are not built)', async () => {
    await age(path.join(root, 'libs/hl7/src/index.test.ts'), 1);
    expect(buildDecision(root, dist, {}).use).toBe(true);
  });

  it('falls back without a stamp (no build, or one that was interrupted)', async () => {
    await rm(path.join(dist, BUILD_STAMP));
    expect(buildDecision(root, dist, {})).toEqual({ use: false, reason: 'missing' });
  });

  it('HIE_BUILD=off forces the sources', () => {
    expect(buildDecision(root, dist, { HIE_BUILD: 'off' })).toEqual({ use: false, reason: 'off' });
  });
});

describe('buildDecision with HIE_BUILD=on (an image: the build, no sources to compare)', () => {
  it('uses the build even when a source looks newer, and reports a missing one', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'hie-build-state-'));
    try {
      const dist = path.join(root, 'dist');
      await checkout(root);
      await age(path.join(dist, BUILD_STAMP), 30);
      expect(buildDecision(root, dist, {}).use).toBe(false); // the sources are newer
      expect(buildDecision(root, dist, { HIE_BUILD: 'on' })).toEqual({ use: true, dist });
      await rm(path.join(dist, BUILD_STAMP));
      expect(buildDecision(root, dist, { HIE_BUILD: 'on' })).toEqual({ use: false, reason: 'missing' });
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
