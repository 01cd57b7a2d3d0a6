/**
 * v2 → FHIR map benchmark (part of `npm run bench -- fhir`): the built-in `adt` and `oru-r01`
 * maps over the corpus's ADT A01/A04/A08/A03 and ORU R01 messages, against `@medplum/core`'s
 * `Hl7Message.parse` of the same messages as the baseline, side by side in one run.
 *
 * Cases, in messages per second:
 *  (a) map: `parseMessage` + `runV2FhirMap` (the Bundle as JSON objects);
 *  (b) map + validate: (a) then `validateFhir` on the Bundle, as `hl7v2.to.fhir` does.
 * Runs are warmed up and interleaved; the median of each and the median of the per-round ratios
 * (map / baseline) are printed. No target: a map does far more than a parse; the ratio says how much.
 *
 * Run: `npm run bench -- fhir` or `npx tsx tools/bench/src/fhir-map.ts` (env `FHIR_MAP_BENCH_ROUNDS`, `FHIR_MAP_BENCH_MS`).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hl7Message as MedplumMessage } from '@medplum/core';
import { BUILTIN_V2_FHIR_MAPS } from '@hie/config';
import { compileV2FhirMap, runV2FhirMap } from '@hie/engine';
import { validateFhir } from '@hie/fhir';
import { parseMessage } from '@hie/hl7';

const here = dirname(fileURLToPath(import.meta.url));
const corpusDir = process.env.HL7_CORPUS ?? join(here, '../../../testdata/hl7');
const rounds = Number(process.env.FHIR_MAP_BENCH_ROUNDS ?? 7);
const runMs = Number(process.env.FHIR_MAP_BENCH_MS ?? 250);

const maps = { adt: compileV2FhirMap(BUILTIN_V2_FHIR_MAPS.adt), oru: compileV2FhirMap(BUILTIN_V2_FHIR_MAPS['oru-r01']) };

/** The ADT and ORU messages of the corpus, with the map each takes. */
function loadCorpus(): { text: string; map: keyof typeof maps }[] {
  return readdirSync(corpusDir)
    .filter((f) => /__(ADT_A0[1348]|ORU_R01)__/.test(f))
    .sort()
    .map((f) => ({ text: readFileSync(join(corpusDir, f), 'utf8').replace(/^\uFEFF/, ''), map: f.includes('ORU') ? ('oru' as const) : ('adt' as const) }));
}

let sink = 0;

const baseline = (m: { text: string }) => {
  sink += MedplumMessage.parse(m.text).segments.length;
};
const mapOnly = (m: { text: string; map: keyof typeof maps }) => {
  sink += (runV2FhirMap(maps[m.map], parseMessage(m.text)).bundle['entry'] as unknown[]).length;
};
const mapAndValidate = (m: { text: string; map: keyof typeof maps }) => {
  sink += validateFhir(runV2FhirMap(maps[m.map], parseMessage(m.text)).bundle).length;
};

function measure<T>(fn: (x: T) => void, corpus: T[], ms: number): number {
  let count = 0;
  const start = performance.now();
  let now: number;
  do {
    for (let i = 0; i < corpus.length; i++) fn(corpus[i]);
    count += corpus.length;
    now = performance.now();
  } while (now - start < ms);
  return (count * 1000) / (now - start);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (n: number) => Math.round(n).toLocaleString('en-US').padStart(10);

function main(): void {
  const corpus = loadCorpus();
  validateFhir({ resourceType: 'Patient' }); // the R4 definitions load once, outside the figures
  console.log(`v2 → FHIR map benchmark: ${corpus.length} ADT/ORU corpus messages, ${rounds} interleaved rounds of ${runMs} ms`);
  console.log(`node ${process.version}; baseline @medplum/core Hl7Message.parse\n`);
  for (const [name, fn] of [
    ['map (parse + runV2FhirMap)', mapOnly],
    ['map + validateFhir', mapAndValidate],
  ] as const) {
    measure(fn, corpus, runMs);
    measure(baseline, corpus, runMs);
    const ours: number[] = [];
    const base: number[] = [];
    for (let r = 0; r < rounds; r++) {
      if (r % 2 === 0) {
        ours.push(measure(fn, corpus, runMs));
        base.push(measure(baseline, corpus, runMs));
      } else {
        base.push(measure(baseline, corpus, runMs));
        ours.push(measure(fn, corpus, runMs));
      }
    }
    const ratio = median(ours.map((x, i) => x / base[i]));
    console.log(`${name.padEnd(28)} ${fmt(median(ours))} msg/s (min ${fmt(Math.min(...ours))}, max ${fmt(Math.max(...ours))})   medplum parse ${fmt(median(base))} msg/s   ratio ${ratio.toFixed(3)}x`);
  }
  if (sink === 42) console.log('');
}

main();
