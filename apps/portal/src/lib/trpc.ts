'use client';
import { createTRPCContext } from '@trpc/tanstack-react-query';
import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink } from '@trpc/client';
import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
// The manager's router type: a type-only import, erased from the bundle (the portal reaches the
// manager only over HTTP, never imports its code). STYLE.md allows exactly this one type import.
// eslint-disable-next-line @nx/enforce-module-boundaries -- type-only import of the API contract
import type { AppRouter } from '@hie/manager';

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
