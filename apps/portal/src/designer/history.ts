import type { Spec } from './spec';

/** Undo/redo as a stack of whole specs (they are small and immutable). */
export interface History {
  past: Spec[];
  present: Spec;
  future: Spec[];
  /** Edits with the same key within COALESCE_MS replace each other (typing in a field). */
  lastKey?: string;
  lastAt: number;
}

export type HistoryAction =
  | { type: 'edit'; update: (spec: Spec) => Spec; key?: string; at: number }
  | { type: 'undo' }
  | { type: 'redo' }
  | { type: 'reset'; spec: Spec };

const LIMIT = 200;
const COALESCE_MS = 1200;

export function initHistory(spec: Spec): History {
  return { past: [], present: spec, future: [], lastAt: 0 };
}

export function historyReducer(h: History, a: HistoryAction): History {
  switch (a.type) {
    case 'reset':
      return initHistory(a.spec);
    case 'edit': {
      const spec = a.update(h.present);
      if (spec === h.present) return h;
      if (a.key && a.key === h.lastKey && a.at - h.lastAt < COALESCE_MS && h.future.length === 0) {
        return { ...h, present: spec, lastAt: a.at };
      }
      return { past: [...h.past, h.present].slice(-LIMIT), present: spec, future: [], lastKey: a.key, lastAt: a.at };
    }
    case 'undo': {
      if (h.past.length === 0) return h;
      const prev = h.past[h.past.length - 1]!;
      return { past: h.past.slice(0, -1), present: prev, future: [h.present, ...h.future], lastAt: 0 };
    }
    case 'redo': {
      if (h.future.length === 0) return h;
      const [next, ...rest] = h.future;
      return { past: [...h.past, h.present], present: next!, future: rest, lastAt: 0 };
    }
  }
}
