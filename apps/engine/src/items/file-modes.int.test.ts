import { readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { MessageEnvelope } from '@hie/envelope';
import { createEngine } from '../engine-node';
import type { ProductionEngine } from '../runtime/production-engine';
import { tempDir, testPolicy } from '../testing/helpers';
import { manualServices, sink, sinks, testItemTypes } from '../testing/test-items';

// Patient data at rest: what the file items create is readable by the owner and the group only.

const running: ProductionEngine[] = [];
afterEach(async () => {
  for (const e of running.splice(0)) await e.stop();
  sinks.clear();
  manualServices.clear();
});

/** Applies a production of these items, wired one after the other. */
async function chain(...items: { name: string; type: string; settings?: object }[]) {
  const { engine } = createEngine({ log: pino({ level: 'silent' }), plugins: testItemTypes, policy: testPolicy() });
  running.push(engine);
  await engine.apply({ name: 'modes', items, connections: items.slice(1).map((to, k) => ({ from: items[k].name, to: to.name })) });
  return engine;
}

/** Permission bits as on disk (the umask may only have narrowed them). */
const modeOf = async (p: string) => (await stat(p)).mode & 0o777;
/** No bit beyond `allowed`, and the owner can still read (and write, for files). */
function expectAtMost(mode: number, allowed: number) {
  expect((mode & ~allowed).toString(8)).toBe('0');
  expect(mode & 0o600).toBe(0o600);
}

const hl7 = (id: string) => `MSH|^~\\&|A|B|C|D|20240101||ADT^A01|${id}|P|2.5\rPID|1||${id}\r`;

describe('file permissions', () => {
  it('file.out creates its folder 0750 and its files 0640, with nothing for others', async () => {
    const out = path.join(await tempDir(), 'out', 'adt');
    const e = await chain({ name: 'In', type: 'test.manual_in' }, { name: 'Files Out', type: 'file.out', settings: { directory: out, filename: '{controlId}.hl7' } });
    await manualServices.get('In')!.submit(MessageEnvelope.createHl7(hl7('M1'), { source: 'In' }));
    await e.idle();
    expect(await readdir(out)).toEqual(['M1.hl7']);
    expectAtMost(await modeOf(out), 0o750);
    expectAtMost(await modeOf(path.dirname(out)), 0o750);
    expectAtMost(await modeOf(path.join(out, 'M1.hl7')), 0o640);
  });

  it('file.in archives a file as 0640 in a 0750 folder, whatever mode the sender gave it', async () => {
    const inDir = path.join(await tempDir(), 'in');
    const e = await chain({ name: 'Files In', type: 'file.in', settings: { directory: inDir, glob: '*.hl7', pollIntervalMs: 30, minAgeMs: 0 } }, { name: 'Out', type: 'test.collect' });
    expectAtMost(await modeOf(inDir), 0o750);
    await writeFile(path.join(inDir, 'a.hl7'), hl7('A1'), { mode: 0o644 });
    const archive = path.join(inDir, '.archive');
    for (let i = 0; i < 500 && (sink('Out').length < 1 || (await readdir(archive).catch(() => [])).length < 1); i++) await new Promise((r) => setTimeout(r, 20));
    await e.idle();
    const [archived] = await readdir(archive);
    expect(archived).toMatch(/_a\.hl7$/);
    expectAtMost(await modeOf(archive), 0o750);
    expectAtMost(await modeOf(path.join(archive, archived)), 0o640);
  });
});
