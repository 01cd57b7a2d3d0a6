import { z } from 'zod';
import { requireProject } from '../authz.js';
import { diffSpecs } from '../diff.js';
import { maskForDiff, secretLookup } from '../secrets.js';
import { asSpec, commitSpec, getVersion } from '../spec.js';
import { authedProcedure, router } from '../trpc.js';
import { iso } from '../views.js';

const projectId = z.string().min(1);
const version = z.int().min(1);

export const versionsRouter = router({
  /** Newest first. */
  list: authedProcedure.input(z.object({ projectId })).query(async ({ ctx, input }) => {
    await requireProject(ctx, input.projectId, 'viewer');
    const rows = await ctx.store.configVersions.list(input.projectId);
    const authorIds = [...new Set(rows.map((r) => r.authorId).filter((a): a is string => a !== null))];
    const names = await Promise.all(authorIds.map((a) => ctx.caches.usernames.getOrLoad(a, async () => (await ctx.store.users.get(a))?.username)));
    const authors = new Map(authorIds.flatMap((a, i) => (names[i] ? [[a, names[i]] as const] : [])));
    return rows.map((r) => ({
      version: r.version,
      comment: r.comment,
      author: r.authorId ? (authors.get(r.authorId) ?? null) : null,
      createdAt: iso(r.createdAt),
    }));
  }),

  /** What changed from version `from` to version `to`; a changed secret shows as `••• changed`, never its value. */
  diff: authedProcedure.input(z.object({ projectId, from: version, to: version })).query(async ({ ctx, input }) => {
    const { project } = await requireProject(ctx, input.projectId, 'viewer');
    const [a, b, secretsOf] = await Promise.all([getVersion(ctx, project, input.from), getVersion(ctx, project, input.to), secretLookup(ctx)]);
    return diffSpecs(...maskForDiff(ctx.secrets, project.id, a.spec, b.spec, secretsOf));
  }),

  /** A new version whose spec equals `version`'s (versions are never changed). */
  rollback: authedProcedure.input(z.object({ projectId, version })).mutation(async ({ ctx, input }) => {
    const { project } = await requireProject(ctx, input.projectId, 'analyst');
    const target = await getVersion(ctx, project, input.version);
    return commitSpec(ctx, project, {
      comment: `rollback to v${input.version}`,
      action: 'config.rollback',
      detail: { rolledBackTo: input.version },
      change: () => asSpec(target.spec),
    });
  }),
});
