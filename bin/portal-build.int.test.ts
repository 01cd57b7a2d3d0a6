import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { portalBuildDecision } from './portal-build';

/** A checkout in a temp folder: the portal's sources, and its build once `built()` ran. */
describe('portalBuildDecision on real files', () => {
  let root: string;
  const at = (file: string) => path.join(root, file);
  /** Sets a file's mtime to `seconds` (since the epoch): no sleeping for the clock to move. */
  const touch = async (file: string, seconds: number) => {
    await mkdir(path.dirname(at(file)), { recursive: true });
    await writeFile(at(file), file);
    await utimes(at(file), seconds, seconds);
  };

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'hie-portal-build-'));
    await touch('apps/portal/src/app/page.tsx', 1_000);
    await touch('apps/portal/src/designer/spec.ts', 1_000);
    await touch('apps/portal/next.config.mjs', 1_000);
    await touch('apps/portal/package.json', 1_000);
    await touch('libs/config/src/validate.ts', 1_000);
  });
  afterAll(async () => rm(root, { recursive: true, force: true }));

  it('builds first, then only when a source (nested, config or @hie/config) is newer than BUILD_ID', async () => {
    expect(portalBuildDecision(root)).toEqual({ build: true, reason: 'missing' });
    await touch('apps/portal/.next/BUILD_ID', 2_000);
    expect(portalBuildDecision(root)).toEqual({ build: false });
    for (const file of ['apps/portal/src/designer/spec.ts', 'apps/portal/next.config.mjs', 'apps/portal/package.json', 'libs/config/src/validate.ts']) {
      await touch(file, 3_000);
      expect(portalBuildDecision(root)).toEqual({ build: true, reason: 'stale', changed: { file: at(file), mtimeMs: 3_000_000 } });
      await touch(file, 1_000);
    }
    // A file outside the portal's sources (the engine) does not force a rebuild.
    await touch('apps/engine/src/cli.ts', 3_000);
    expect(portalBuildDecision(root)).toEqual({ build: false });
  });
});
