'use client';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { useSubscription } from '@trpc/tanstack-react-query';
import { useSessionGate } from './session-gate';
import { useTRPC, type RouterOutputs } from './trpc';

export type ItemStatus = NonNullable<RouterOutputs['production']['status']['running']>['items'][number];

export interface LiveSample {
  at: number;
  items: ItemStatus[];
  /** Messages the production's services received (each once, not per hop); absent from old servers. */
  messagesReceived?: number;
}

export type LiveMode = 'connecting' | 'live' | 'polling';

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A live event, whether or not the server wrapped it with `tracked()` (`{id, data}`). */
function toSample(raw: unknown): LiveSample | undefined {
  let v = raw;
  if (isRecord(v) && 'data' in v && 'id' in v && isRecord(v.data)) v = v.data;
  if (!isRecord(v) || !Array.isArray(v.items)) return undefined;
  const at = typeof v.at === 'number' ? v.at : typeof v.at === 'string' ? Date.parse(v.at) : Date.now();
  const received = typeof v.messagesReceived === 'number' ? { messagesReceived: v.messagesReceived } : {};
  return { at: Number.isNaN(at) ? Date.now() : at, items: v.items as ItemStatus[], ...received };
}

interface Options {
  /** Seconds of samples kept for charts (0 = only the latest). */
  historySeconds?: number;
  enabled?: boolean;
}

/**
 * Live item status of a production: the `production.live` SSE subscription, with
 * `production.status` polling as the fallback when the stream is unavailable. Also returns
 * the desired/running deployment from `production.status`.
 */
export function useLive(projectId: string, { historySeconds = 0, enabled = true }: Options = {}) {
  const trpc = useTRPC();
  const [latest, setLatest] = useState<LiveSample | undefined>();
  const [history, setHistory] = useState<LiveSample[]>([]);
  const keep = useRef(historySeconds);
  useEffect(() => {
    keep.current = historySeconds;
  }, [historySeconds]);

  const push = useCallback((s: LiveSample) => {
    setLatest(s);
    if (keep.current > 0) {
      setHistory((h) => {
        const cutoff = s.at - keep.current * 1000;
        const last = h[h.length - 1];
        if (last && last.at >= s.at) return h;
        const next = h.length > 0 && h[0]!.at < cutoff ? h.filter((x) => x.at >= cutoff) : h.slice();
        next.push(s);
        return next;
      });
    }
  }, []);

  const sub = useSubscription(
    trpc.production.live.subscriptionOptions(
      { projectId },
      {
        enabled,
        onData: (d: unknown) => {
          const s = toSample(d);
          if (s) push(s);
        },
      },
    ),
  );
  // A stream ended by the session (UNAUTHORIZED) reopens once the user has signed in again.
  const { epoch } = useSessionGate();
  const seenEpoch = useRef(epoch);
  const { reset: resetSub } = sub;
  useEffect(() => {
    if (epoch === seenEpoch.current) return;
    seenEpoch.current = epoch;
    resetSub();
  }, [epoch, resetSub]);

  const streamOk = sub.status === 'pending' && latest !== undefined;
  const mode: LiveMode = sub.status === 'error' ? 'polling' : streamOk ? 'live' : 'connecting';

  const status = useQuery(
    trpc.production.status.queryOptions(
      { projectId },
      { enabled, refetchInterval: mode === 'polling' ? 2000 : 5000, meta: { silentError: true } },
    ),
  );

  // Without a stream, the polled status feeds the same samples.
  const polled = status.data?.running?.items;
  const polledReceived = status.data?.running?.messagesReceived;
  const polledAt = status.dataUpdatedAt;
  useEffect(() => {
    if (mode !== 'polling' || !polled) return;
    push({ at: polledAt || Date.now(), items: polled, ...(polledReceived === undefined ? {} : { messagesReceived: polledReceived }) });
  }, [mode, polled, polledReceived, polledAt, push]);

  return { latest, history, mode, status, subscriptionError: sub.error };
}

/**
 * Suspended messages per item (failed for good, not resent since): the operator's queue, as IRIS
 * shows it. Polled every 5 s; an empty map until the first answer.
 */
export function useSuspendedCounts(projectId: string, { enabled = true }: { enabled?: boolean } = {}) {
  const trpc = useTRPC();
  const q = useQuery(trpc.messages.suspendedCounts.queryOptions({ projectId }, { enabled, refetchInterval: 5000, meta: { silentError: true } }));
  const data = q.data;
  const byItem = useMemo(() => new Map((data?.items ?? []).map((c) => [c.item, c.count])), [data]);
  return { byItem, total: data?.total ?? 0 };
}
