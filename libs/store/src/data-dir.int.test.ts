import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from './store.js';

// The embedded database holds patient data: its folder is the owner's alone.

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const modeOf = (p: string) => (statSync(p).mode & 0o777).toString(8);

describe('openStore data directory', () => {
  it('creates the PGlite data folder, and the .hie folder above it, as 0700', async () => {
    const root = mkdtempSync(join(tmpdir(), 'hie-datadir-'));
    dirs.push(root);
    const dataDir = join(root, '.hie', 'data');
    const store = await openStore({ dataDir, migrate: false });
    await store.close();
    expect(modeOf(dataDir)).toBe('700');
    expect(modeOf(join(root, '.hie'))).toBe('700');
  });

  it('narrows an existing data folder to 0700', async () => {
    const root = mkdtempSync(join(tmpdir(), 'hie-datadir-'));
    dirs.push(root);
    const dataDir = join(root, 'data');
    mkdirSync(dataDir, { mode: 0o755 });
    const store = await openStore({ dataDir, migrate: false });
    await store.close();
    expect(modeOf(dataDir)).toBe('700');
  });
});
