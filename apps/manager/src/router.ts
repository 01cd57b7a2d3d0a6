import { alertsRouter } from './routers/alerts.js';
import { auditRouter } from './routers/audit.js';
import { authRouter } from './routers/auth.js';
import { connectionsRouter } from './routers/connections.js';
import { environmentsRouter } from './routers/environments.js';
import { itemTypesRouter } from './routers/item-types.js';
import { itemsRouter } from './routers/items.js';
import { jobsRouter } from './routers/jobs.js';
import { messagesRouter } from './routers/messages.js';
import { productionRouter } from './routers/production.js';
import { tokensRouter } from './routers/tokens.js';
import { projectsRouter } from './routers/projects.js';
import { testCasesRouter } from './routers/test-cases.js';
import { usersRouter } from './routers/users.js';
import { versionsRouter } from './routers/versions.js';
import { workspacesRouter } from './routers/workspaces.js';
import { createCallerFactory, publicProcedure, router } from './trpc.js';

/** The manager API (see API.md). */
export const appRouter = router({
  health: publicProcedure.query(() => ({ ok: true as const })),
  auth: authRouter,
  users: usersRouter,
  workspaces: workspacesRouter,
  projects: projectsRouter,
  items: itemsRouter,
  connections: connectionsRouter,
  versions: versionsRouter,
  production: productionRouter,
  itemTypes: itemTypesRouter,
  messages: messagesRouter,
  audit: auditRouter,
  jobs: jobsRouter,
  environments: environmentsRouter,
  tokens: tokensRouter,
  testCases: testCasesRouter,
  alerts: alertsRouter,
});

/** The API's type: the portal imports this (type only) for its tRPC client. */
export type AppRouter = typeof appRouter;

/** Calls procedures in-process with a given context (tests, scripts): `createCaller(callerContext(services, user))`. */
export const createCaller = createCallerFactory(appRouter);
