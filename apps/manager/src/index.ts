/**
 * @hie/manager — the control plane: tRPC API over the store, auth, audit, deploy (desired state
 * into the Coordinator), health/readiness and Prometheus metrics.
 */
export { createManagerServer, TRPC_PREFIX } from './server.js';
export type { ManagerServer, ManagerServerOptions } from './server.js';
export { appRouter, createCaller } from './router.js';
export type { AppRouter } from './router.js';
export { callerContext, createServices } from './trpc.js';
export type { Ctx, ManagerServices, ServicesOptions, SessionUser } from './trpc.js';
export { seedDemo } from './seed.js';
export type { SeedDemoResult } from './seed.js';
export { restoreDesiredState } from './deploy.js';
export { ensureFirstAdmin } from './auth/first-admin.js';
export type { FirstAdminResult } from './auth/first-admin.js';
export { LoginRateLimiter } from './auth/rate-limit.js';
export { registry } from './metrics.js';
export { readEnv, sessionSettings } from './env.js';
export type { ManagerEnv } from './env.js';
export { loadSecretKey, SecretBox } from './secrets.js';
export type { Sandbox } from './sandbox.js';
export type { LoadedSecretKey } from './secrets.js';
