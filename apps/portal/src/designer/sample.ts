'use client';
/**
 * The sample message the rule and transform editors test against: one per browser tab, shared
 * by every editor on the page (so the router's test and the transform's preview agree), kept in
 * sessionStorage so a reload keeps it. It never leaves the browser.
 */
import { useSyncExternalStore } from 'react';
import { DEFAULT_SAMPLE } from './editor-model';

const KEY = 'hie.designer.sample';
const listeners = new Set<() => void>();
let current: string | undefined;

function read(): string {
  if (current !== undefined) return current;
  try {
    current = (typeof sessionStorage !== 'undefined' && sessionStorage.getItem(KEY)) || DEFAULT_SAMPLE;
  } catch {
    current = DEFAULT_SAMPLE;
  }
  return current;
}

export function setSample(text: string): void {
  current = text;
  try {
    sessionStorage.setItem(KEY, text);
  } catch {
    // storage full or blocked: the sample still lives for this page
  }
  for (const l of listeners) l();
}

/** The current sample and its setter. */
export function useSample(): [string, (text: string) => void] {
  const value = useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    read,
    () => DEFAULT_SAMPLE,
  );
  return [value, setSample];
}
