/**
 * HL7 parser benchmark: `@hie/hl7` against `@medplum/core`'s `Hl7Message`, side by side.
 *
 * Over every message of the shared corpus it measures messages per second for
 *  (a) lazy reads: parse, then read MSH-9, MSH-10 and PID-3;
 *  (b) full reads: parse, then touch every component of every repetition of every field of
 *      every segment.
 * Runs are warmed up and interleaved (HIE, baseline, baseline, HIE, …); the median of each is
 * printed with the ratio HIE / baseline (the median of the per-round ratios).
 *
 * Run: `npx tsx tools/bench/src/hl7.ts` (env `HL7_BENCH_ROUNDS`, `HL7_BENCH_MS` to tune).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hl7Message as MedplumMessage } from '@medplum/core';
import { parseMessage } from '@hie/hl7';
import { interleave, median } from './interleave';

const here = dirname(fileURLToPath(import.meta.url));
const corpusDir = process.env.HL7_CORPUS ?? join(here, '../../../testdata/hl7');
const rounds = Number(process.env.HL7_BENCH_ROUNDS ?? 11);
const runMs = Number(process.env.HL7_BENCH_MS ?? 250);

/** The corpus as strings, BOM removed (medplum rejects a leading BOM). */
function loadCorpus(): string[] {
  return readdirSync(corpusDir)
    .filter((f) => f.endsWith('.hl7'))
    .sort()
    .map((f) => readFileSync(join(corpusDir, f), 'utf8').replace(/^\uFEFF/, ''));
}

let sink = 0;

function hieLazy(text: string): void {
  const m = parseMessage(text);
  sink += (m.get('MSH-9')?.length ?? 0) + (m.get('MSH-10')?.length ?? 0) + (m.get('PID-3')?.length ?? 0);
}

function medplumLazy(text: string): void {
  const m = MedplumMessage.parse(text);
  const msh = m.getSegment('MSH');
  const pid = m.getSegment('PID');
  sink += (msh?.getField(9)?.toString().length ?? 0) + (msh?.getField(10)?.toString().length ?? 0) + (pid?.getField(3)?.toString().length ?? 0);
}

function hieFull(text: string): void {
  const m = parseMessage(text);
  for (const seg of m.segments()) {
    const n = seg.fieldCount;
    for (let f = 1; f <= n; f++) {
      const reps = seg.repetitionCount(f);
      for (let r = 1; r <= reps; r++) {
        const comps = seg.components(f, r);
        for (let c = 0; c < comps.length; c++) sink += comps[c].length;
      }
    }
  }
}

function medplumFull(text: string): void {
  const m = MedplumMessage.parse(text);
  for (const seg of m.segments) {
    // medplum numbers MSH fields as the spec does: MSH-1 is synthetic, so MSH has one more.
    const n = seg.fields.length - 1 + (seg.name === 'MSH' ? 1 : 0);
    for (let f = 1; f <= n; f++) {
      const field = seg.getField(f);
      if (field === undefined) continue;
      for (const rep of field.components) for (let c = 0; c < rep.length; c++) sink += rep[c].length;
    }
  }
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US').padStart(12);
}

interface Case {
  name: string;
  hie: (text: string) => void;
  baseline: (text: string) => void;
  target: number;
}

function main(): void {
  const corpus = loadCorpus();
  const cases: Case[] = [
    { name: 'lazy (MSH-9, MSH-10, PID-3)', hie: hieLazy, baseline: medplumLazy, target: 4 },
    { name: 'full (every component)', hie: hieFull, baseline: medplumFull, target: 1.5 },
  ];
  console.log(`HL7 parse benchmark: ${corpus.length} corpus messages, ${rounds} interleaved rounds of ${runMs} ms`);
  console.log(`node ${process.version}; baseline @medplum/core Hl7Message.parse\n`);
  let failed = false;
  for (const c of cases) {
    const { hie, base, ratio } = interleave(c.hie, c.baseline, corpus, rounds, runMs);
    const h = median(hie);
    const b = median(base);
    const ok = ratio >= c.target;
    if (!ok) failed = true;
    console.log(`${c.name.padEnd(30)} @hie/hl7 ${fmt(h)} msg/s   medplum ${fmt(b)} msg/s   ratio ${ratio.toFixed(2)}x  (target ≥ ${c.target}x) ${ok ? 'ok' : 'BELOW TARGET'}`);
  }
  if (sink === 42) console.log('');
  if (failed) process.exitCode = 1;
}

main();
