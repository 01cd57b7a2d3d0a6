import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import type { JobQueue, JobView } from '@hie/jobs';
import { audit } from '../audit.js';
import { requireProject } from '../authz.js';
import { authedProcedure, router, type AuthedCtx } from '../trpc.js';

const input = z.object({ projectId: z.string().min(1) });
const jobInput = input.extend({ id: z.string().min(1).max(200) });

function jobView(j: JobView) {
  return {
    ...j,
    runAt: j.runAt !== undefined ? new Date(j.runAt).toISOString() : undefined,
    createdAt: j.createdAt !== undefined ? new Date(j.createdAt).toISOString() : undefined,
  };
}

/** The cluster's job queue; a single node has none, so none of its jobs exist. */
function queueOf(ctx: AuthedCtx): JobQueue {
  if (!ctx.jobs) throw new TRPCError({ code: 'NOT_FOUND', message: 'job not found (jobs run in cluster mode only: REDIS_URL)' });
  return ctx.jobs;
}

/** `jobs.*` errors to tRPC codes: another project's job is NOT_FOUND, as a missing one. */
async function act<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code === 'jobs.not_found') throw new TRPCError({ code: 'NOT_FOUND', message: (e as Error).message });
    if (code === 'jobs.bad_state') throw new TRPCError({ code: 'CONFLICT', message: (e as Error).message });
    if (code === 'jobs.unavailable') throw new TRPCError({ code: 'SERVICE_UNAVAILABLE', message: (e as Error).message });
    throw e;
  }
}

/**
 * Cluster jobs of a project (issue 11 point 4): delayed retries of operations, scheduled
 * (repeatable) jobs such as the retention purge, and failed jobs, with retry and remove.
 * Scoped by project id through the caller's role in its workspace; no message body is shown.
 */
export const jobsRouter = router({
  list: authedProcedure.input(input).query(async ({ ctx, input }) => {
    await requireProject(ctx, input.projectId, 'viewer');
    if (!ctx.jobs) return { enabled: false, jobs: [] };
    return { enabled: true, jobs: (await act(ctx.jobs.list(input.projectId))).map(jobView) };
  }),
  retry: authedProcedure.input(jobInput).mutation(async ({ ctx, input }) => {
    const { project } = await requireProject(ctx, input.projectId, 'analyst');
    await act(queueOf(ctx).retry(project.id, input.id));
    await audit(ctx, { action: 'job.retry', entityType: 'job', entityId: input.id, workspaceId: project.workspaceId, after: { projectId: project.id } });
    return { ok: true as const };
  }),
  remove: authedProcedure.input(jobInput).mutation(async ({ ctx, input }) => {
    const { project } = await requireProject(ctx, input.projectId, 'analyst');
    await act(queueOf(ctx).remove(project.id, input.id));
    await audit(ctx, { action: 'job.remove', entityType: 'job', entityId: input.id, workspaceId: project.workspaceId, after: { projectId: project.id } });
    return { ok: true as const };
  }),
});
