'use client';
import { createTRPCContext } from '@trpc/tanstack-react-query';
import { createTRPCClient, httpBatchLink, httpLink, httpSubscriptionLink, splitLink } from '@trpc/client';
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

/**
 * The manager refuses a batch of more than 50 calls (its `MAX_BATCH_SIZE`) and any batch that
 * holds a password check with other calls: those go alone.
 */
const MAX_BATCH_ITEMS = 50;
const UNBATCHED = new Set(['auth.login', 'auth.changePassword']);

export function makeTrpcClient() {
  const fetchSameOrigin: typeof fetch = (url, init) => fetch(url, { ...init, credentials: 'same-origin' });
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: httpSubscriptionLink({ url: API_URL, eventSourceOptions: { withCredentials: true } }),
        false: splitLink({
          condition: (op) => UNBATCHED.has(op.path),
          true: httpLink({ url: API_URL, fetch: fetchSameOrigin }),
          false: httpBatchLink({ url: API_URL, maxURLLength: 4000, maxItems: MAX_BATCH_ITEMS, fetch: fetchSameOrigin }),
        }),
      }),
    ],
  });
}
