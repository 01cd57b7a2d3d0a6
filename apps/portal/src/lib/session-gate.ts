'use client';
import { useSyncExternalStore } from 'react';

/**
 * The "your session has ended" state. Any query or mutation answered UNAUTHORIZED opens it;
 * the sign-in dialog (components/sign-in-dialog.tsx) closes it. The page underneath stays
 * mounted, so unsaved work (the designer's canvas, a half-filled form) survives an expiry.
 */
export interface SessionGate {
  /** The sign-in dialog is showing. */
  open: boolean;
  /** A write was refused while signed out: the user must repeat it (it is never replayed blindly). */
  failedWrite: boolean;
  /** Bumped at each successful re-sign-in: what broke with the session (live streams) restarts on it. */
  epoch: number;
}

let gate: SessionGate = { open: false, failedWrite: false, epoch: 0 };
const listeners = new Set<() => void>();

function set(next: SessionGate) {
  gate = next;
  for (const l of listeners) l();
}

/** Opens the sign-in dialog (no-op on the login page, which signs in itself). */
export function requireSignIn(opts: { failedWrite?: boolean } = {}): void {
  if (typeof window !== 'undefined' && window.location.pathname.startsWith('/login')) return;
  set({ ...gate, open: true, failedWrite: gate.failedWrite || !!opts.failedWrite });
}

/** Closes the dialog after a successful sign-in; answers whether a write had been refused. */
export function signedInAgain(): { failedWrite: boolean } {
  const { failedWrite } = gate;
  set({ open: false, failedWrite: false, epoch: gate.epoch + 1 });
  return { failedWrite };
}

const SERVER_GATE: SessionGate = { open: false, failedWrite: false, epoch: 0 };

export function useSessionGate(): SessionGate {
  return useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => gate,
    () => SERVER_GATE,
  );
}
