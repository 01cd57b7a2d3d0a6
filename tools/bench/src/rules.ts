/**
 * Router rules benchmark (not a test): the routing decision of the one rule engine both routers
 * share (@hie/config `compileRouter`), beside the same rules written by hand in plain TypeScript,
 * measured in interleaved rounds of the same run.
 *
 *   1. hl7.router (HL7_FIELDS): four rules with AND/OR groups, `in`, a component of a repetition,
 *      `startsWith` and a user pattern (RE2), first match, over the shared HL7 corpus (parsed once:
 *      the router gets a parsed message in the engine too).
 *   2. fhir.router (FHIR_FIELDS, FHIRPath): three rules over the vendored R4 examples, beside the
 *      same tests on the parsed JSON by hand.
 *
 *   npx tsx tools/bench/src/rules.ts        (RULES_BENCH_ROUNDS=11, RULES_BENCH_MS=250)
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HL7_FIELDS, compileRouter, fhirRouterSettings, hl7RouterSettings, type FieldReader } from '@hie/config';
import { FHIR_FIELDS, type FhirRuleInput } from '@hie/fhir';
import { parseMessage } from '@hie/hl7';
import { interleave, median } from './interleave';

const here = dirname(fileURLToPath(import.meta.url));
const hl7Dir = process.env.HL7_CORPUS ?? join(here, '../../../testdata/hl7');
const fhirDir = process.env.FHIR_EXAMPLES ?? join(here, '../../../libs/fhir/testdata/r4-examples');
const rounds = Number(process.env.RULES_BENCH_ROUNDS ?? 11);
const runMs = Number(process.env.RULES_BENCH_MS ?? 250);

let sink = 0;

// ── hl7.router ───────────────────────────────────────────────────────────────────────────────
const hl7Rules = hl7RouterSettings.parse({
  mode: 'first_match',
  rules: [
    {
      name: 'results',
      when: { and: [{ path: 'MSH-9.1', op: '=', value: 'ORU' }, { path: 'MSH-9.2', op: 'in', values: ['R01', 'R03', 'R30'] }] },
      then: { action: 'send', to: ['Lab'] },
    },
    {
      name: 'admissions of this hospital',
      when: {
        and: [
          { path: 'MSH-9.1', op: '=', value: 'ADT' },
          { or: [{ path: 'PID-8', op: '=', value: 'F' }, { path: 'PID-3[1].4', op: 'startsWith', value: 'HOSP' }] },
        ],
      },
      then: { action: 'send', to: ['PAS'] },
    },
    { name: 'from the lab', when: { path: 'MSH-3', op: 'matches', value: '^(LAB|LIS)[A-Z0-9]*$' }, then: { action: 'send', to: ['Lab'] } },
    { name: 'orders', when: { path: 'MSH-9.1', op: 'in', values: ['ORM', 'OML'] }, then: { action: 'send', to: ['Orders'] } },
  ],
  otherwise: 'discard',
});
const hl7Router = compileRouter(hl7Rules, HL7_FIELDS);
const LIS = /^(LAB|LIS)[A-Z0-9]*$/;

/** The same rules by hand: what a developer would write in a code-first engine. */
function hl7ByHand(m: FieldReader): string {
  const t = m.get('MSH-9.1') ?? '';
  if (t === 'ORU' && ['R01', 'R03', 'R30'].includes(m.get('MSH-9.2') ?? '')) return 'results';
  if (t === 'ADT' && (m.get('PID-8') === 'F' || (m.get('PID-3[1].4') ?? '').startsWith('HOSP'))) return 'admissions of this hospital';
  if (LIS.test(m.get('MSH-3') ?? '')) return 'from the lab';
  if (t === 'ORM' || t === 'OML') return 'orders';
  return '';
}

// ── fhir.router ──────────────────────────────────────────────────────────────────────────────
const fhirRules = fhirRouterSettings.parse({
  mode: 'first_match',
  rules: [
    {
      name: 'final lab results',
      when: { and: [{ path: 'resourceType', op: '=', value: 'Observation' }, { path: 'status', op: 'in', values: ['final', 'amended'] }] },
      then: { action: 'send', to: ['Lab'] },
    },
    { name: 'patients', when: { and: [{ path: "resourceType = 'Patient'", op: 'true' }, { path: 'gender', op: 'exists' }] }, then: { action: 'send', to: ['MPI'] } },
    { name: 'transactions', when: { path: 'type', op: '=', value: 'transaction' }, then: { action: 'send', to: ['Repo'] } },
  ],
  otherwise: 'discard',
});
const fhirRouter = compileRouter(fhirRules, FHIR_FIELDS);

function fhirByHand(r: Record<string, unknown>): string {
  if (r['resourceType'] === 'Observation' && (r['status'] === 'final' || r['status'] === 'amended')) return 'final lab results';
  if (r['resourceType'] === 'Patient' && r['gender'] !== undefined) return 'patients';
  if (r['type'] === 'transaction') return 'transactions';
  return '';
}

// ── run ──────────────────────────────────────────────────────────────────────────────────────
const hl7 = readdirSync(hl7Dir)
  .filter((f) => f.endsWith('.hl7'))
  .sort()
  .map((f) => parseMessage(readFileSync(join(hl7Dir, f), 'utf8').replace(/^\uFEFF/, '')));
const fhir = readdirSync(fhirDir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => JSON.parse(readFileSync(join(fhirDir, f), 'utf8')) as Record<string, unknown>);

// Both sides must decide alike, or the figures compare different work.
for (const m of hl7) if ((hl7Router(m).matched[0]?.name ?? '') !== hl7ByHand(m)) throw new Error(`hl7: the rules and the hand-written code disagree on ${m.get('MSH-10')}`);
for (const r of fhir) if ((fhirRouter({ resource: r }).matched[0]?.name ?? '') !== fhirByHand(r)) throw new Error(`fhir: disagree on ${String(r['resourceType'])}/${String(r['id'])}`);

const cases = [
  {
    name: `hl7.router, 4 rules, ${hl7.length} corpus messages`,
    run: interleave<FieldReader>(
      (m) => void (sink += hl7Router(m).matched.length),
      (m) => void (sink += hl7ByHand(m).length),
      hl7,
      rounds,
      runMs,
    ),
  },
  {
    name: `fhir.router, 3 rules (FHIRPath), ${fhir.length} R4 examples`,
    run: interleave<Record<string, unknown>>(
      (r) => void (sink += fhirRouter({ resource: r } satisfies FhirRuleInput).matched.length),
      (r) => void (sink += fhirByHand(r).length),
      fhir,
      rounds,
      runMs,
    ),
  },
];
const k = (n: number) => `${Math.round(n).toLocaleString('en')}/s`;
console.log(`\nRouting decisions (${rounds} interleaved rounds × ${runMs} ms; min / median / max)`);
console.log(`${'case'.padEnd(46)} ${'rules engine'.padStart(34)} ${'by hand (baseline)'.padStart(34)} ${'ratio'.padStart(7)}`);
for (const c of cases) {
  const span = (xs: number[]) => `${k(Math.min(...xs))} / ${k(median(xs))} / ${k(Math.max(...xs))}`;
  console.log(`${c.name.padEnd(46)} ${span(c.run.hie).padStart(34)} ${span(c.run.base).padStart(34)} ${(c.run.ratio.toPrecision(2) + '×').padStart(7)}`);
}
if (sink === -1) console.log(sink);
