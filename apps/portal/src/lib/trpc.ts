'use client';
import { createTRPCContext } from '@trpc/tanstack-react-query';
import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink } from '@trpc/client';
import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
// The manager's router type. Until apps/manager/src/index.ts exports `AppRouter`, the portal
// builds against the fallback contract written from apps/manager/API.md. To switch, replace the
// next line with:
//   // eslint-disable-next-line @nx/enforce-module-boundaries -- type-only import of the API contract
//   import type { AppRouter } from '@hie/manager';
import type { AppRouter } from './api-contract';

export type { AppRouter };
export type RouterOutputs = inferRouterOutputs<AppRouter>;
export type RouterInputs = inferRouterInputs<AppRouter>;

/** Same origin as the portal: the manager serves both. */
export const API_URL = '/api/trpc';

export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter>();

export function makeTrpcClient() {
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: httpSubscriptionLink({ url: API_URL, eventSourceOptions: { withCredentials: true } }),
        false: httpBatchLink({
          url: API_URL,
          maxURLLength: 4000,
          fetch: (url, init) => fetch(url, { ...init, credentials: 'same-origin' }),
        }),
      }),
    ],
  });
}
