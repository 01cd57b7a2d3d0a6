'use client';
import { MutationCache, QueryCache, QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';
import { makeTrpcClient, TRPCProvider } from '../lib/trpc';
import { apiError } from '../lib/errors';
import { toast } from '../lib/toast';
import { Toaster } from '../components/toaster';

declare module '@tanstack/react-query' {
  interface Register {
    queryMeta: { silentError?: boolean };
    mutationMeta: { silentError?: boolean; errorPrefix?: string };
  }
}

const NO_RETRY = new Set(['UNAUTHORIZED', 'FORBIDDEN', 'NOT_FOUND', 'BAD_REQUEST', 'CONFLICT', 'TOO_MANY_REQUESTS', 'METHOD_NOT_SUPPORTED']);

function goToLogin() {
  if (typeof window === 'undefined') return;
  const { pathname, search } = window.location;
  if (pathname.startsWith('/login')) return;
  window.location.assign(`/login?next=${encodeURIComponent(pathname + search)}`);
}

function makeQueryClient() {
  return new QueryClient({
    queryCache: new QueryCache({
      onError(err, query) {
        const info = apiError(err);
        if (info.code === 'UNAUTHORIZED') return goToLogin();
        if (query.meta?.silentError) return;
        toast.error(err);
      },
    }),
    mutationCache: new MutationCache({
      onError(err, _vars, _ctx, mutation) {
        const info = apiError(err);
        if (info.code === 'UNAUTHORIZED') return goToLogin();
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
        <Toaster />
      </TRPCProvider>
    </QueryClientProvider>
  );
}
