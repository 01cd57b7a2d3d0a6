'use client';
import { MutationCache, QueryCache, QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';
import { makeTrpcClient, TRPCProvider } from '../lib/trpc';
import { apiError } from '../lib/errors';
import { requireSignIn } from '../lib/session-gate';
import { toast } from '../lib/toast';
import { SignInDialog } from '../components/sign-in-dialog';
import { Toaster } from '../components/toaster';

declare module '@tanstack/react-query' {
  interface Register {
    queryMeta: { silentError?: boolean };
    /** `authFlow`: a sign-in whose UNAUTHORIZED means a wrong password, not an ended session. */
    mutationMeta: { silentError?: boolean; errorPrefix?: string; authFlow?: boolean };
  }
}

const NO_RETRY = new Set(['UNAUTHORIZED', 'FORBIDDEN', 'NOT_FOUND', 'BAD_REQUEST', 'CONFLICT', 'TOO_MANY_REQUESTS', 'METHOD_NOT_SUPPORTED']);

function makeQueryClient() {
  return new QueryClient({
    queryCache: new QueryCache({
      onError(err, query) {
        const info = apiError(err);
        // The session ended: sign in over the page instead of leaving it (unsaved work stays).
        if (info.code === 'UNAUTHORIZED') return requireSignIn();
        if (query.meta?.silentError) return;
        toast.error(err);
      },
    }),
    mutationCache: new MutationCache({
      onError(err, _vars, _ctx, mutation) {
        const info = apiError(err);
        if (info.code === 'UNAUTHORIZED' && !mutation.meta?.authFlow) return requireSignIn({ failedWrite: true });
        if (mutation.meta?.silentError) return;
        toast.error(err, mutation.meta?.errorPrefix);
      },
    }),
    defaultOptions: {
      queries: {
        staleTime: 5_000,
        refetchOnWindowFocus: false,
        retry: (count, err) => !NO_RETRY.has(apiError(err).code ?? '') && count < 2,
      },
      mutations: { retry: false },
    },
  });
}

export function Providers({ children }: { children: ReactNode }) {
  const [queryClient] = useState(makeQueryClient);
  const [trpcClient] = useState(makeTrpcClient);
  return (
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>
        {children}
        <SignInDialog />
        <Toaster />
      </TRPCProvider>
    </QueryClientProvider>
  );
}
