/**
 * Testing a production before it is deployed: `production.test` runs a message through a saved
 * version in the engine's sandbox, and saved test cases (golden messages) run on every save.
 * The manager never imports the engine: it declares {@link Sandbox}, and bin/start.ts passes the
 * engine's implementation in (the test harness does the same).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TRPCError } from '@trpc/server';
import type { SandboxInput, SandboxResult } from '@hie/config';
import type { Project, TestCase, TestCaseExpected } from '@hie/store';
import { revealSecrets } from './secrets.js';
import { getVersion } from './spec.js';
import type { Ctx } from './trpc.js';

/** Runs a message through a production spec (secrets in plaintext) without delivering anything. */
export interface Sandbox {
  run(spec: unknown, input: SandboxInput): Promise<SandboxResult>;
}

/** The sandbox, or PRECONDITION_FAILED when this manager runs without one. */
export function sandboxOf(ctx: Ctx): Sandbox {
  if (!ctx.sandbox) throw new TRPCError({ code: 'PRECONDITION_FAILED', message: 'testing needs an engine sandbox, which this manager was started without' });
  return ctx.sandbox;
}

/** Runs `input` through a saved version of the project (the latest saved one by default). */
export async function runSaved(ctx: Ctx, project: Project, version: number | undefined, input: SandboxInput): Promise<SandboxResult & { version: number }> {
  const sandbox = sandboxOf(ctx);
  const row = await getVersion(ctx, project, version);
  const result = await sandbox.run(revealSecrets(row.spec, ctx.secrets, project.id), input);
  return { ...result, version: row.version };
}

// ── corpus samples ───────────────────────────────────────────────────────────────────────────

/** A corpus message offered as a sample (public test data, no patient's). */
export interface Sample {
  id: string;
  label: string;
  raw: string;
}

/** The curated samples: file in testdata/hl7 → label. */
const SAMPLE_FILES: readonly [string, string][] = [
  ['hapi__ADT_A01__2.4__01.hl7', 'ADT^A01 admit (v2.4, HAPI)'],
  ['msfhirconv__ADT_A04__2.8__01.hl7', 'ADT^A04 register (v2.8)'],
  ['hapi__ADT_A03__2.5__01.hl7', 'ADT^A03 discharge (v2.5, HAPI)'],
  ['mirth__ORU_R01__2.3__01.hl7', 'ORU^R01 lab result (v2.3, Mirth)'],
  ['hapi__ORM_O01__2.2__01.hl7', 'ORM^O01 order (v2.2, HAPI)'],
  ['mirth__SIU_S12__2.3__01.hl7', 'SIU^S12 appointment (v2.3, Mirth)'],
  ['msfhirconv__VXU_V04__2.5.1__01.hl7', 'VXU^V04 vaccination (v2.5.1)'],
];

/** testdata/hl7 of the checkout this module runs from (sources or dist/), if there is one. */
function findSamplesDir(): string | undefined {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, 'testdata/hl7');
    if (existsSync(candidate)) return candidate;
    dir = path.dirname(dir);
  }
  return undefined;
}

let samples: Sample[] | undefined;

/** The corpus samples (read once); empty where the checkout's testdata is not shipped. */
export function corpusSamples(): Sample[] {
  if (samples) return samples;
  const dir = findSamplesDir();
  samples = dir
    ? SAMPLE_FILES.flatMap(([file, label]) => {
        try {
          return [{ id: file.replace(/\.hl7$/, ''), label, raw: readFileSync(path.join(dir, file), 'latin1').replace(/\r\n|\n/g, '\r') }];
        } catch {
          return [];
        }
      })
    : [];
  return samples;
}

// ── saved test cases ─────────────────────────────────────────────────────────────────────────

/** What a run produced, in the shape a test case expects: what each operation would send, and the path. */
export function expectationOf(result: SandboxResult): TestCaseExpected {
  const outputs: Record<string, string[]> = {};
  for (const s of result.steps) if (s.wouldSend) (outputs[s.item] ??= []).push(s.wouldSend.bytes);
  return { outputs, path: result.steps.map((s) => s.item) };
}

/** The first line where two texts differ (1-based), with its segment name for HL7: no message content. */
function firstDifference(a: string, b: string): string {
  const la = a.split(/\r\n|\r|\n/);
  const lb = b.split(/\r\n|\r|\n/);
  for (let i = 0; i < Math.max(la.length, lb.length); i++) {
    if (la[i] !== lb[i]) return `line ${i + 1}${(la[i] ?? lb[i] ?? '').slice(0, 3).match(/^[A-Z0-9]{3}$/) ? ` (${(la[i] ?? lb[i]).slice(0, 3)})` : ''}`;
  }
  return 'line endings';
}

/** How a run differs from a case's expectation: one line per difference (item names and segment names only). */
export function compareRun(expected: TestCaseExpected, result: SandboxResult): string[] {
  const actual = expectationOf(result);
  const failures: string[] = [];
  if (result.truncated) failures.push(`the run was cut short: ${result.truncated}`);
  if (expected.path && expected.path.join('\u0000') !== actual.path!.join('\u0000')) {
    failures.push(`path: expected ${expected.path.join(' → ') || '(none)'}, got ${actual.path!.join(' → ') || '(none)'}`);
  }
  const names = [...new Set([...Object.keys(expected.outputs), ...Object.keys(actual.outputs)])].sort();
  for (const name of names) {
    const want = expected.outputs[name] ?? [];
    const got = actual.outputs[name] ?? [];
    if (want.length !== got.length) {
      failures.push(`${name}: expected ${want.length} message${want.length === 1 ? '' : 's'} sent, got ${got.length}`);
      continue;
    }
    want.forEach((w, i) => {
      if (w !== got[i]) failures.push(`${name}: message ${i + 1} differs at ${firstDifference(w, got[i])}`);
    });
  }
  return failures;
}

/** A case's outcome on a version. */
export interface CaseOutcome {
  caseId: string;
  name: string;
  passed: boolean;
  failures: string[];
}

/** Runs one case against a spec (plaintext) and records its outcome for `version`. */
export async function runCase(ctx: Ctx, sandbox: Sandbox, projectId: string, version: number, spec: unknown, c: TestCase): Promise<CaseOutcome & { result?: SandboxResult }> {
  let failures: string[];
  let result: SandboxResult | undefined;
  try {
    result = await sandbox.run(spec, { raw: c.raw, contentType: c.contentType, ...(c.startItem ? { item: c.startItem } : {}) });
    failures = compareRun(c.expected, result);
  } catch (e) {
    failures = [`the test could not run: ${e instanceof Error ? e.message : String(e)}`];
  }
  const passed = failures.length === 0;
  await ctx.store.testCases.recordRun({ caseId: c.id, projectId, version, passed, failures });
  return { caseId: c.id, name: c.name, passed, failures, ...(result ? { result } : {}) };
}

/** Most test cases a save runs (by name order); `testCases.run` runs every one. */
export const MAX_CASES_ON_SAVE = 50;

/** A save's test summary. */
export interface SaveTests {
  passed: number;
  failed: number;
}

/**
 * Runs every saved case of the project on a version that was just saved and records the outcomes
 * (the designer shows them before deploy). Never fails the save: a run that cannot happen is logged.
 */
export async function testOnSave(ctx: Ctx, projectId: string, version: number, plainSpec: unknown): Promise<SaveTests | undefined> {
  if (!ctx.sandbox) return undefined;
  try {
    // Bounded: the save waits for them (under the project's save lock); `testCases.run` runs them all.
    const cases = (await ctx.store.testCases.list(projectId)).slice(0, MAX_CASES_ON_SAVE);
    if (cases.length === 0) return undefined;
    let passed = 0;
    for (const c of cases) if ((await runCase(ctx, ctx.sandbox, projectId, version, plainSpec, c)).passed) passed++;
    return { passed, failed: cases.length - passed };
  } catch (e) {
    ctx.log.warn({ err: e, projectId, version }, 'could not run the test cases of a saved version');
    return undefined;
  }
}
