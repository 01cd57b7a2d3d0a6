/**
 * FHIR benchmark: `@hie/fhir` against `@medplum/core` parsing, side by side in one run.
 *
 * Over the vendored official R4 examples (libs/fhir/testdata/r4-examples, as UTF-8 bytes) it
 * measures resources per second for each case in {@link CASES} and for its baseline:
 *  - parse: `parseFhirJson` vs `JSON.parse` of the decoded text (what the shallow codec did);
 *  - validate: parse + `validateFhir` (R4 structure, cardinality, types, invariants, required
 *    bindings, typed Bundles) vs the same baseline, and vs medplum's `validateResource` alone.
 * Runs are warmed up and interleaved (HIE, baseline, baseline, HIE, …); the medians are printed
 * with the ratio HIE / baseline (the median of the per-round ratios). Nothing here asserts.
 *
 * Then the v2 → FHIR map (the built-in `adt` and `oru-r01` maps, as `hl7v2.to.fhir` runs them)
 * over the corpus's ADT and ORU messages, alone and with validation, against `@medplum/core`'s
 * `Hl7Message.parse` of the same messages.
 *
 * Run: `npm run bench -- fhir` (env `FHIR_BENCH_ROUNDS`, `FHIR_BENCH_MS` to tune).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hl7Message as MedplumHl7, validateResource } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { BUILTIN_V2_FHIR_MAPS } from '@hie/config';
import { compileV2FhirMap, runV2FhirMap } from '@hie/engine';
import { loadFhirR4, parseFhirJson, validateFhir } from '@hie/fhir';
import { parseMessage } from '@hie/hl7';
import { interleave, median } from './interleave';

const here = dirname(fileURLToPath(import.meta.url));
const examplesDir = process.env.FHIR_EXAMPLES ?? join(here, '../../../libs/fhir/testdata/r4-examples');
const hl7Dir = process.env.HL7_CORPUS ?? join(here, '../../../testdata/hl7');
const rounds = Number(process.env.FHIR_BENCH_ROUNDS ?? 7);
const runMs = Number(process.env.FHIR_BENCH_MS ?? 300);

/** One input of a case: the body as it arrives (bytes), plus whatever a case needs ready-made. */
export interface BenchInput {
  name: string;
  bytes: Uint8Array;
}

/** One measured line: HIE's work and the baseline it is compared with, each over one input. */
export interface BenchCase {
  name: string;
  /** Inputs this case runs over. @defaultValue the vendored R4 examples */
  inputs?: BenchInput[];
  hie: (input: BenchInput) => void;
  baselineName: string;
  baseline: (input: BenchInput) => void;
}

const decoder = new TextDecoder();
let sink = 0;

function jsonParse(input: BenchInput): void {
  sink += (JSON.parse(decoder.decode(input.bytes)) as { resourceType: string }).resourceType.length;
}

function medplumValidate(input: BenchInput): void {
  const resource = JSON.parse(decoder.decode(input.bytes)) as Resource;
  try {
    sink += validateResource(resource).length;
  } catch {
    sink += 1;
  }
}

const v2Maps = { adt: compileV2FhirMap(BUILTIN_V2_FHIR_MAPS.adt), oru: compileV2FhirMap(BUILTIN_V2_FHIR_MAPS['oru-r01']) };
const mapOf = (i: BenchInput) => (i.name.includes('ORU') ? v2Maps.oru : v2Maps.adt);

/** The corpus's ADT A01/A04/A08/A03 and ORU R01 messages: what the built-in v2 → FHIR maps take. */
function loadV2(): BenchInput[] {
  return readdirSync(hl7Dir)
    .filter((f) => /__(ADT_A0[1348]|ORU_R01)__/.test(f))
    .sort()
    .map((f) => ({ name: f, bytes: new Uint8Array(readFileSync(join(hl7Dir, f))) }));
}

function medplumHl7Parse(input: BenchInput): void {
  sink += MedplumHl7.parse(decoder.decode(input.bytes).replace(/^\uFEFF/, '')).segments.length;
}

/** The cases, in order; the v2 → FHIR map cases (hl7v2.to.fhir's work) run over the v2 corpus. */
const CASES: BenchCase[] = [
  { name: 'parse', hie: (i) => void (sink += parseFhirJson(i.bytes).resourceType.length), baselineName: 'JSON.parse', baseline: jsonParse },
  { name: 'parse + validate (R4)', hie: (i) => void (sink += validateFhir(parseFhirJson(i.bytes)).length), baselineName: 'JSON.parse', baseline: jsonParse },
  {
    name: 'parse + validate (R4)',
    hie: (i) => void (sink += validateFhir(parseFhirJson(i.bytes)).length),
    baselineName: 'medplum validateResource',
    baseline: medplumValidate,
  },
  {
    name: 'map v2 → FHIR Bundle',
    inputs: loadV2(),
    hie: (i) => void (sink += (runV2FhirMap(mapOf(i), parseMessage(i.bytes)).bundle['entry'] as unknown[]).length),
    baselineName: 'medplum Hl7Message.parse',
    baseline: medplumHl7Parse,
  },
  {
    name: 'map v2 → FHIR + validate',
    inputs: loadV2(),
    hie: (i) => void (sink += validateFhir(runV2FhirMap(mapOf(i), parseMessage(i.bytes)).bundle).length),
    baselineName: 'medplum Hl7Message.parse',
    baseline: medplumHl7Parse,
  },
];

function loadExamples(): BenchInput[] {
  return readdirSync(examplesDir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ name: f, bytes: new Uint8Array(readFileSync(join(examplesDir, f))) }));
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US').padStart(10);
}

function main(): void {
  const examples = loadExamples();
  const t0 = performance.now();
  loadFhirR4();
  validateFhir({ resourceType: 'Patient', gender: 'male' }); // loads the value sets too
  const loadMs = performance.now() - t0;
  console.log(`FHIR benchmark: ${examples.length} official R4 examples, ${rounds} interleaved rounds of ${runMs} ms`);
  console.log(`node ${process.version}; R4 definitions + value sets indexed once in ${Math.round(loadMs)} ms (not in the figures)\n`);
  for (const c of CASES) {
    const inputs = c.inputs ?? examples;
    const { hie, base, ratio } = interleave(c.hie, c.baseline, inputs, rounds, runMs);
    const spread = `min ${fmt(Math.min(...hie)).trim()} / max ${fmt(Math.max(...hie)).trim()}`;
    console.log(
      `${c.name.padEnd(24)} @hie/fhir ${fmt(median(hie))} res/s (${spread})   ${c.baselineName.padEnd(26)} ${fmt(median(base))} res/s   ratio ${ratio.toFixed(2)}x`,
    );
  }
  if (sink === 42) console.log('');
}

main();
