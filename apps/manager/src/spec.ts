/**
 * Production specs as the manager keeps them: validated with the item types' schemas before
 * every save, stored exactly as written (defaults are filled by the engine when it parses), one
 * immutable config version per save.
 */
import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import {
  dropReferenceProblems,
  findCycles,
  findReferences,
  HieError,
  PRODUCTION_NAME_PATTERN,
  productionSchema,
  referenceProblems,
  withoutReferences,
  type ConfigProblem,
  type Production,
  type ProductionInput,
} from '@hie/config';
import { validateProductionWithPolicy } from '@hie/policy';
import type { ConfigVersion, Project } from '@hie/store';
import { audit, changeSummary } from './audit.js';
import { diffSpecs } from './diff.js';
import { itemTypeLookup } from './item-types.js';
import { testOnSave, type SaveTests } from './sandbox.js';
import { maskForDiff, resolveSecrets, sealSecrets, secretLookup } from './secrets.js';
import type { AuthedCtx, Ctx } from './trpc.js';

/** A production spec as written (the JSON `hie run` takes). */
export type Spec = ProductionInput;

/**
 * The tRPC input for a whole spec: any JSON object, typed as a production for the client. The
 * full check runs in the procedure ({@link checkSpec}) so every problem is reported at once with
 * its path from the spec's root (`items[0].queue.overflow`).
 */
export const specInput = z.custom<Spec>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), {
  message: 'a production spec must be a JSON object',
});

/** A spec read back from the store: it was validated when saved. */
export function asSpec(stored: unknown): Spec {
  return stored as Spec;
}

/** A valid production name derived from a project name (invalid characters become `-`). */
export function productionNameFor(projectName: string): string {
  const name = projectName
    .replace(/[^A-Za-z0-9 ._-]/g, '-')
    .trim()
    .slice(0, 100)
    .trim();
  return PRODUCTION_NAME_PATTERN.test(name) ? name : 'production';
}

export function emptySpec(name: string): Spec {
  return { name: productionNameFor(name), items: [], connections: [] };
}

export interface CheckedSpec {
  /** The spec as written. */
  spec: Spec;
  /** The parsed production (defaults filled). */
  production: Production;
  cycles: string[][];
}

/** `invalid production (N problems): <first>` with every problem in `details.problems` (→ BAD_REQUEST). */
export function invalidSpec(problems: ConfigProblem[]): HieError {
  const first = problems[0];
  const where = first && first.pathText !== '' ? `${first.pathText}: ` : '';
  return new HieError('config.invalid', `invalid production (${problems.length} problem${problems.length === 1 ? '' : 's'}): ${where}${first?.message ?? ''}`, {
    kind: 'user',
    details: { problems },
  });
}

/**
 * Validates a whole spec with the item types' schemas and the host policy (folders and TLS files
 * under HIE_FILE_ROOTS after realpath, targets the egress policy allows, after DNS). A setting
 * holding a `${…}` reference is checked at deploy, once resolved in the target environment
 * (see variables.ts in @hie/config); `${secret:…}` outside a secret setting is refused here.
 * @throws HieError `config.invalid` (→ BAD_REQUEST with `data.problems`).
 */
export async function checkSpec(ctx: Ctx, spec: unknown, mapProblems?: (p: ConfigProblem[]) => ConfigProblem[]): Promise<CheckedSpec> {
  const hasRefs = findReferences(spec).length > 0;
  const probe = hasRefs ? withoutReferences(spec) : spec;
  const result = await validateProductionWithPolicy(probe, { itemTypes: await itemTypeLookup(ctx), policy: ctx.policy });
  let problems = result.ok ? [] : dropReferenceProblems(spec, result.problems);
  if (hasRefs) problems = [...problems, ...referenceProblems(spec, await secretLookup(ctx))];
  if (problems.length > 0) throw invalidSpec(mapProblems ? mapProblems(problems) : problems);
  // With references left out, the production may not parse: its graph is enough for the cycles.
  const production = result.ok ? result.value : productionSchema.parse(probe);
  return { spec: asSpec(spec), production, cycles: findCycles(production) };
}

export interface SaveResult {
  version: number;
  warnings: { cycles: string[][] };
  /** The project's saved test cases, run on this version (absent when it has none). */
  tests?: SaveTests;
}

export interface CommitOptions {
  /** The version the change was made on; CONFLICT when it is no longer the current one. */
  baseVersion?: number;
  comment?: string;
  /** Audit action. @defaultValue 'config.save' */
  action?: string;
  /** Extra audit data (what the change was). */
  detail?: Record<string, unknown>;
  /** The new spec, from the current one. Runs under the project's save lock. */
  change: (current: { version: number; spec: Spec }) => unknown;
  mapProblems?: (p: ConfigProblem[]) => ConfigProblem[];
}

/**
 * Read-modify-write of a project's spec as one new immutable version, serialised per project so
 * a stale `baseVersion` always answers CONFLICT. Audited.
 */
export async function commitSpec(ctx: AuthedCtx, project: Project, opts: CommitOptions): Promise<SaveResult> {
  return ctx.locks.run(`project:${project.id}`, async () => {
    const fresh = await ctx.store.projects.get(project.id);
    if (!fresh) throw new TRPCError({ code: 'NOT_FOUND', message: 'project not found' });
    if (opts.baseVersion !== undefined && opts.baseVersion !== fresh.currentVersion) {
      throw new TRPCError({
        code: 'CONFLICT',
        message: `version ${opts.baseVersion} is no longer the current version (${fresh.currentVersion}); reload and apply your change again`,
      });
    }
    const current = fresh.currentVersion > 0 ? await getVersion(ctx, fresh) : undefined;
    const base = current ? asSpec(current.spec) : emptySpec(project.name);
    const next = opts.change({ version: fresh.currentVersion, spec: base });
    // Secrets: `••• set` keeps the stored value; the settings are validated in plaintext and
    // stored encrypted.
    const secretsOf = await secretLookup(ctx);
    const { resolved, plain } = resolveSecrets(ctx.secrets, next, { projectId: project.id, current: current?.spec, secretsOf, mapProblems: opts.mapProblems });
    const checked = await checkSpec(ctx, plain, opts.mapProblems);
    const stored = sealSecrets(ctx.secrets, asSpec(resolved), project.id, secretsOf);
    const row = await ctx.store.configVersions.create(project.id, stored, ctx.user.id, opts.comment ?? '');
    await audit(ctx, {
      action: opts.action ?? 'config.save',
      entityType: 'project',
      entityId: project.id,
      entityName: fresh.name,
      workspaceId: project.workspaceId,
      before: { version: fresh.currentVersion },
      // What changed, by item names and setting paths only: values may be secrets.
      after: { version: row.version, comment: row.comment, ...opts.detail, changes: changeSummary(diffSpecs(...maskForDiff(ctx.secrets, project.id, base, stored, secretsOf))) },
    });
    const tests = await testOnSave(ctx, project.id, row.version, plain);
    return { version: row.version, warnings: { cycles: checked.cycles }, ...(tests ? { tests } : {}) };
  });
}

/** A version of a project, NOT_FOUND when it does not exist. */
export async function getVersion(ctx: Ctx, project: Project, version?: number): Promise<ConfigVersion> {
  const v = version ?? project.currentVersion;
  // Versions never change: served from memory once read.
  const row = await ctx.caches.versions.getOrLoad(`${project.id}:${v}`, () => ctx.store.configVersions.get(project.id, v));
  if (!row) throw new TRPCError({ code: 'NOT_FOUND', message: `project has no version ${v}` });
  return row;
}
