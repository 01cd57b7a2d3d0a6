import { describe, expect, it } from 'vitest';
import { decidePortalBuild } from './portal-build';

const build = { file: 'apps/portal/.next/BUILD_ID', mtimeMs: 1_000 };

describe('decidePortalBuild', () => {
  it('builds when there is no build yet', () => {
    expect(decidePortalBuild(undefined, { file: 'apps/portal/src/app/page.tsx', mtimeMs: 5 })).toEqual({ build: true, reason: 'missing' });
    expect(decidePortalBuild(undefined, undefined)).toEqual({ build: true, reason: 'missing' });
  });

  it('rebuilds when a source is newer than the build, naming it', () => {
    const changed = { file: 'apps/portal/src/designer/spec.ts', mtimeMs: 1_001 };
    expect(decidePortalBuild(build, changed)).toEqual({ build: true, reason: 'stale', changed });
  });

  it('keeps a build at least as new as every source', () => {
    expect(decidePortalBuild(build, { file: 'apps/portal/src/designer/spec.ts', mtimeMs: 1_000 })).toEqual({ build: false });
    expect(decidePortalBuild(build, { file: 'apps/portal/package.json', mtimeMs: 10 })).toEqual({ build: false });
    expect(decidePortalBuild(build, undefined)).toEqual({ build: false });
  });
});
