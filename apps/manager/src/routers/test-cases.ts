import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { MAX_SANDBOX_INPUT_CHARS } from '@hie/config';
import type { Project, TestCase, TestCaseExpected } from '@hie/store';
import { audit } from '../audit.js';
import { canReadBodies, requireProject } from '../authz.js';
import { expectationOf, runCase, runSaved, sandboxOf } from '../sandbox.js';
import { revealSecrets } from '../secrets.js';
import { getVersion } from '../spec.js';
import { authedProcedure, router, type AuthedCtx } from '../trpc.js';
import { iso } from '../views.js';

const projectId = z.string().min(1);
const name = z.string().trim().min(1).max(100);
const expected = z.object({
  outputs: z.record(z.string(), z.array(z.string().max(MAX_SANDBOX_INPUT_CHARS * 2))).describe('Operation name → what it would send, per arrival'),
  path: z.array(z.string()).max(1000).optional().describe('Item names visited, in order'),
});
const sample = {
  raw: z.string().min(1).max(MAX_SANDBOX_INPUT_CHARS),
  contentType: z.string().min(1).max(200).optional(),
  item: z.string().min(1).max(100).nullable().optional(),
};

async function caseOf(ctx: AuthedCtx, project: Project, id: string): Promise<TestCase> {
  const c = await ctx.store.testCases.get(project.id, id);
  if (!c) throw new TRPCError({ code: 'NOT_FOUND', message: 'test case not found' });
  return c;
}

/** "Save the current result as expected": what the latest saved version does with the sample now. */
async function golden(ctx: AuthedCtx, project: Project, s: { raw: string; contentType?: string; item?: string | null }): Promise<TestCaseExpected> {
  const result = await runSaved(ctx, project, undefined, { raw: s.raw, ...(s.contentType ? { contentType: s.contentType } : {}), ...(s.item ? { item: s.item } : {}) });
  return expectationOf(result);
}

async function auditCase(ctx: AuthedCtx, project: Project, action: string, c: TestCase, detail: Record<string, unknown> = {}) {
  await audit(ctx, {
    action,
    entityType: 'test_case',
    entityId: c.id,
    entityName: `${project.name}/${c.name}`,
    workspaceId: project.workspaceId,
    after: { projectId: project.id, name: c.name, ...detail },
  });
}

/**
 * Saved test cases (golden messages) per project: a sample in, the expected outputs per
 * operation and path. They run on every save (see `testOnSave`); `list` shows each one's outcome
 * on a version. The sample and outputs are message bodies: only callers who may read bodies see them.
 */
export const testCasesRouter = router({
  list: authedProcedure.input(z.object({ projectId, version: z.int().min(1).optional() })).query(async ({ ctx, input }) => {
    const { project, role } = await requireProject(ctx, input.projectId, 'viewer');
    const version = input.version ?? project.currentVersion;
    const [cases, runs, bodies] = await Promise.all([ctx.store.testCases.list(project.id), ctx.store.testCases.runs(project.id, version), canReadBodies(ctx, project.workspaceId, role)]);
    const byCase = new Map(runs.map((r) => [r.caseId, r]));
    return {
      version,
      cases: cases.map((c) => {
        const run = byCase.get(c.id);
        return {
          id: c.id,
          name: c.name,
          contentType: c.contentType,
          item: c.startItem,
          ...(bodies ? { raw: c.raw, expected: c.expected } : {}),
          createdAt: iso(c.createdAt),
          updatedAt: iso(c.updatedAt),
          result: run ? { passed: run.passed, failures: run.failures, ranAt: iso(run.ranAt) } : null,
        };
      }),
    };
  }),

  /** A new case; without `expected`, the latest saved version's result now is the expectation (a golden case). */
  create: authedProcedure.input(z.object({ projectId, name, ...sample, expected: expected.optional() })).mutation(async ({ ctx, input }) => {
    const { project } = await requireProject(ctx, input.projectId, 'analyst');
    const want = input.expected ?? (await golden(ctx, project, input));
    const c = await ctx.store.testCases.create({
      projectId: project.id,
      name: input.name,
      raw: input.raw,
      contentType: input.contentType,
      startItem: input.item ?? null,
      expected: want,
      createdBy: ctx.user.id,
    });
    await auditCase(ctx, project, 'test_case.create', c, { golden: !input.expected });
    // Its outcome on the current version, so the list shows it at once.
    if (project.currentVersion > 0) {
      const spec = revealSecrets((await getVersion(ctx, project)).spec, ctx.secrets, project.id);
      await runCase(ctx, sandboxOf(ctx), project.id, project.currentVersion, spec, c);
    }
    return { id: c.id };
  }),

  /** Changes a case; `rebaseline` saves the latest saved version's result now as its expectation. */
  update: authedProcedure
    .input(
      z.object({
        projectId,
        id: z.string().min(1),
        name: name.optional(),
        raw: sample.raw.optional(),
        contentType: sample.contentType,
        item: sample.item,
        expected: expected.optional(),
        rebaseline: z.boolean().optional(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const { project } = await requireProject(ctx, input.projectId, 'analyst');
      const before = await caseOf(ctx, project, input.id);
      const merged = { raw: input.raw ?? before.raw, contentType: input.contentType ?? before.contentType, item: input.item === undefined ? before.startItem : input.item };
      const want = input.rebaseline ? await golden(ctx, project, merged) : input.expected;
      const c = await ctx.store.testCases.update(project.id, input.id, {
        ...(input.name ? { name: input.name } : {}),
        ...(input.raw ? { raw: input.raw } : {}),
        ...(input.contentType ? { contentType: input.contentType } : {}),
        ...(input.item !== undefined ? { startItem: input.item } : {}),
        ...(want ? { expected: want } : {}),
      });
      await auditCase(ctx, project, 'test_case.update', c, { rebaseline: input.rebaseline === true });
      if (project.currentVersion > 0) {
        const spec = revealSecrets((await getVersion(ctx, project)).spec, ctx.secrets, project.id);
        await runCase(ctx, sandboxOf(ctx), project.id, project.currentVersion, spec, c);
      }
      return { id: c.id };
    }),

  delete: authedProcedure.input(z.object({ projectId, id: z.string().min(1) })).mutation(async ({ ctx, input }) => {
    const { project } = await requireProject(ctx, input.projectId, 'analyst');
    const c = await caseOf(ctx, project, input.id);
    await ctx.store.testCases.delete(project.id, c.id);
    await auditCase(ctx, project, 'test_case.delete', c);
    return { ok: true as const };
  }),

  /** Runs the project's cases (or one, `id`) on a version (the latest saved by default) and records the outcomes. */
  run: authedProcedure.input(z.object({ projectId, version: z.int().min(1).optional(), id: z.string().min(1).optional() })).mutation(async ({ ctx, input }) => {
    const { project } = await requireProject(ctx, input.projectId, 'analyst');
    const sandbox = sandboxOf(ctx);
    const row = await getVersion(ctx, project, input.version);
    const spec = revealSecrets(row.spec, ctx.secrets, project.id);
    const cases = input.id ? [await caseOf(ctx, project, input.id)] : await ctx.store.testCases.list(project.id);
    const outcomes = [];
    for (const c of cases) outcomes.push(await runCase(ctx, sandbox, project.id, row.version, spec, c));
    return { version: row.version, passed: outcomes.filter((o) => o.passed).length, failed: outcomes.filter((o) => !o.passed).length, outcomes };
  }),
});
