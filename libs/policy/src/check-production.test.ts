import { mkdtemp, realpath, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkProductionHostPolicy } from './check-production';
import { createHostPolicy, type HostPolicy } from './host-policy';

let root: string;
let policy: HostPolicy;

beforeEach(async () => {
  root = await realpath(await mkdtemp(path.join(os.tmpdir(), 'hie-check-')));
  policy = createHostPolicy({ roots: [root] });
});
afterEach(() => rm(root, { recursive: true, force: true }));

const fileOut = (filename: string) => ({ items: [{ name: 'Out', type: 'file.out', settings: { directory: 'out', filename } }] });

describe('checkProductionHostPolicy', () => {
  it('refuses a file.out name template whose own text leaves the directory, at save rather than on every message', async () => {
    for (const filename of ['../{id}.hl7', 'sub/{id}.hl7', '/etc/{id}', '..', '.']) {
      expect((await checkProductionHostPolicy(fileOut(filename), policy)).map((p) => `${p.pathText}: ${p.code}`), filename).toEqual([
        'items[0].settings.filename: path_outside_roots',
      ]);
    }
    for (const filename of ['{controlId}.hl7', '{timestamp}_{id}.hl7', '..{id}.hl7']) {
      expect(await checkProductionHostPolicy(fileOut(filename), policy), filename).toEqual([]);
    }
  });
});
