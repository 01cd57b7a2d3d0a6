export * from './coordinator';
export { InProcessCoordinator } from './in-process-coordinator';
export { EtcdCoordinator, type EtcdCoordinatorOptions, type EtcdNodeOptions, type ClusterLogger } from './etcd-coordinator';
export { computeAssignments, type AssignmentInput } from './assignments';
export { startEtcd, type TestEtcd } from './testing/etcd';
export { clusterEnvShape, clusterFromEnv, type ClusterEnv, type ClusterSettings } from './env';
export { etcdCipher, isSealedValue, type ValueCipher } from './sealed';
