import { z } from 'zod';
import { createHostPolicy, parseEgressEntry, splitEgressAllow, splitRoots, type HostPolicy, type OwnAddress } from './host-policy';

/**
 * The host policy's environment variables, for each app's `env.ts` to extend its schema with
 * (`envSchema.extend(hostPolicyEnvShape)`), so the manager and the engine read them alike.
 */
export const hostPolicyEnvShape = {
  /** Folders items may use, separated by `path.delimiter`; relative settings resolve against the first. Unset: the working folder. */
  HIE_FILE_ROOTS: z.string().optional().transform(splitRoots),
  /** Comma-separated hosts, host:port and CIDRs that `http.out` and `hl7.mllp.out` may reach. Unset: any host but the always-refused ones. */
  HIE_EGRESS_ALLOW: z
    .string()
    .optional()
    .transform(splitEgressAllow)
    .superRefine((entries, ctx) => {
      for (const entry of entries) if (!parseEgressEntry(entry)) ctx.addIssue({ code: 'custom', message: `"${entry}" is not a host, host:port or CIDR` });
    }),
};

/** The parsed variables of {@link hostPolicyEnvShape}. */
export interface HostPolicyEnv {
  HIE_FILE_ROOTS: string[];
  HIE_EGRESS_ALLOW: string[];
}

/** The host policy an app runs with, from its parsed environment (and the manager's own address, when known). */
export function hostPolicyFromEnv(env: HostPolicyEnv, ownAddresses: OwnAddress[] = []): HostPolicy {
  return createHostPolicy({ roots: env.HIE_FILE_ROOTS, egressAllow: env.HIE_EGRESS_ALLOW, ownAddresses });
}
