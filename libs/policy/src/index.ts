/** @hie/policy: what items may touch on the host — folders under HIE_FILE_ROOTS, hosts the egress policy allows. */
export {
  createHostPolicy,
  parseEgressEntry,
  splitEgressAllow,
  splitRoots,
  type EgressEntry,
  type HostPolicy,
  type HostPolicyInput,
  type OwnAddress,
} from './host-policy';
export { ensureFolderInsideRoots, resolveInsideRoots, resolveInsideRootsSync } from './paths';
export { assertEgressAllowed, checkEgress, urlTarget, type CheckEgressOptions, type EgressAddress, type EgressDecision } from './egress';
export { checkProductionHostPolicy, validateProductionWithPolicy, type ValidateWithPolicyOptions } from './check-production';
export { hostPolicyEnvShape, hostPolicyFromEnv, type HostPolicyEnv } from './env';
