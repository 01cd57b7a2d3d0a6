import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { MAX_SANDBOX_INPUT_CHARS } from '@hie/config';
import { testFhirRules } from '@hie/fhir';
import type { Project } from '@hie/store';
import { audit } from '../audit.js';
import { requireProject, type Role } from '../authz.js';
import { corpusSamples, runSaved } from '../sandbox.js';
import { authedProcedure, type AuthedCtx } from '../trpc.js';
import { bodyText, requireBodies } from './messages.js';

const projectId = z.string().min(1);

/**
 * A stored message's body as a sample: needs the right to read bodies, and is audited as a view
 * of the message (`message.view`, purpose `sandbox`).
 */
export async function storedSample(ctx: AuthedCtx, project: Project, role: Role, id: string): Promise<{ raw: string; contentType?: string }> {
  await requireBodies(ctx, project, role, 'testing with a stored message');
  const msg = await ctx.store.messages.get(project.id, id, { includeBody: true });
  if (!msg) throw new TRPCError({ code: 'NOT_FOUND', message: 'message not found' });
  if (!msg.raw) throw new TRPCError({ code: 'BAD_REQUEST', message: 'the message was stored without its body' });
  await audit(ctx, {
    action: 'message.view',
    entityType: 'message',
    entityId: msg.id,
    entityName: msg.controlId,
    workspaceId: project.workspaceId,
    after: { projectId: project.id, production: msg.production, item: msg.item, body: true, purpose: 'sandbox' },
  });
  return { raw: bodyText(msg.raw).text, contentType: msg.contentType };
}

/** `production.test` and `production.samples` (mounted on the production router). */
export const sandboxProcedures = {
  /**
   * Runs a message through a saved version (the latest saved by default, not the deployed one) in
   * the engine's sandbox: every item's real code, nothing delivered or stored. The sample is `raw`
   * (typed or a corpus sample) or a stored message (`messageId`). Needs the analyst role.
   */
  test: authedProcedure
    .input(
      z
        .object({
          projectId,
          version: z.int().min(1).optional(),
          item: z.string().min(1).max(100).optional(),
          raw: z.string().min(1).max(MAX_SANDBOX_INPUT_CHARS).optional(),
          contentType: z.string().min(1).max(200).optional(),
          messageId: z.string().min(1).max(100).optional(),
        })
        .refine((i) => (i.raw === undefined) !== (i.messageId === undefined), { message: 'give either raw or messageId', path: ['raw'] }),
    )
    .mutation(async ({ ctx, input }) => {
      const { project, role } = await requireProject(ctx, input.projectId, 'analyst');
      const sample = input.messageId ? await storedSample(ctx, project, role, input.messageId) : { raw: input.raw!, contentType: input.contentType };
      return runSaved(ctx, project, input.version, {
        raw: sample.raw,
        ...((input.contentType ?? sample.contentType) ? { contentType: input.contentType ?? sample.contentType } : {}),
        ...(input.item ? { item: input.item } : {}),
      });
    }),

  /**
   * "Test this rule" for `fhir.router` in the rule editor: the rules as the editor holds them
   * (unsaved, maybe half typed) on a typed FHIR JSON sample, by the engine's own code (FHIRPath
   * needs @hie/fhir, which does not run in the browser; `hl7.router` rules are tested there).
   * Nothing is stored or logged; the sample never leaves this request.
   */
  testFhirRules: authedProcedure
    .input(z.object({ projectId, sample: z.string().min(1).max(MAX_SANDBOX_INPUT_CHARS), settings: z.unknown() }))
    // A mutation though it changes nothing: the sample (patient data, up to 1 MiB) goes in a POST
    // body, never in a URL, where access logs keep it and HTTP servers refuse long ones.
    .mutation(async ({ ctx, input }) => {
      await requireProject(ctx, input.projectId, 'viewer');
      return testFhirRules(input.settings, input.sample);
    }),

  /** Sample messages from the public test corpus (no patient data), to test with. */
  samples: authedProcedure.input(z.object({ projectId })).query(async ({ ctx, input }) => {
    await requireProject(ctx, input.projectId, 'viewer');
    return corpusSamples();
  }),
};
