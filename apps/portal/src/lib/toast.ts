'use client';
import { useSyncExternalStore } from 'react';
import { apiError, type Problem } from './errors';

export type ToastKind = 'error' | 'success' | 'info';

export interface Toast {
  id: number;
  kind: ToastKind;
  title: string;
  problems: Problem[];
  code?: string;
}

let toasts: Toast[] = [];
let nextId = 1;
const listeners = new Set<() => void>();

function emit() {
  for (const l of listeners) l();
}

function push(t: Omit<Toast, 'id'>, ttlMs: number) {
  const id = nextId++;
  // The same error twice in a row (e.g. a failing poll) is shown once.
  if (toasts.some((x) => x.title === t.title && x.kind === t.kind)) return;
  toasts = [...toasts.slice(-2), { ...t, id }];
  emit();
  if (ttlMs > 0) setTimeout(() => dismissToast(id), ttlMs);
}

export function dismissToast(id: number) {
  toasts = toasts.filter((t) => t.id !== id);
  emit();
}

/** Removes every toast the predicate picks (e.g. a "Not saved" error once a save succeeds). */
export function dismissToasts(pick: (t: Toast) => boolean) {
  const next = toasts.filter((t) => !pick(t));
  if (next.length === toasts.length) return;
  toasts = next;
  emit();
}

export const toast = {
  success(title: string) {
    push({ kind: 'success', title, problems: [] }, 3000);
  },
  info(title: string) {
    push({ kind: 'info', title, problems: [] }, 4000);
  },
  /** Shows an API error: the tRPC message, its code and every problem. Errors stay until dismissed. */
  error(err: unknown, prefix?: string, problems?: Problem[]) {
    const info = apiError(err);
    const title = prefix ? `${prefix}: ${info.message}` : info.message;
    const list = problems ?? info.problems;
    push({ kind: 'error', title, problems: list, code: info.code }, list.length > 0 ? 0 : 10000);
  },
};

function subscribe(l: () => void) {
  listeners.add(l);
  return () => listeners.delete(l);
}

const empty: Toast[] = [];

export function useToasts(): Toast[] {
  return useSyncExternalStore(
    subscribe,
    () => toasts,
    () => empty,
  );
}
