'use client';
/**
 * The sample messages the rule and transform editors test against: one per kind (an HL7 v2
 * message, a FHIR JSON resource) and browser tab, shared by every editor on the page (so the
 * router's test and the transform's preview agree), kept in sessionStorage so a reload keeps it.
 * An HL7 sample never leaves the browser; a FHIR sample is sent to the manager to be tested
 * (FHIRPath runs there), and is neither stored nor logged.
 */
import { useSyncExternalStore } from 'react';
import { DEFAULT_FHIR_SAMPLE, DEFAULT_SAMPLE } from './editor-model';

/** What a sample is: an HL7 v2 message, or FHIR R4 JSON. */
export type SampleKind = 'hl7' | 'fhir';

const KEYS: Record<SampleKind, string> = { hl7: 'hie.designer.sample', fhir: 'hie.designer.sample.fhir' };
/** The sample of each kind until someone pastes their own. */
export const DEFAULT_SAMPLES: Record<SampleKind, string> = { hl7: DEFAULT_SAMPLE, fhir: DEFAULT_FHIR_SAMPLE };
const listeners = new Set<() => void>();
const current: Partial<Record<SampleKind, string>> = {};

function read(kind: SampleKind): string {
  const known = current[kind];
  if (known !== undefined) return known;
  let text: string;
  try {
    text = (typeof sessionStorage !== 'undefined' && sessionStorage.getItem(KEYS[kind])) || DEFAULT_SAMPLES[kind];
  } catch {
    text = DEFAULT_SAMPLES[kind];
  }
  current[kind] = text;
  return text;
}

export function setSample(text: string, kind: SampleKind = 'hl7'): void {
  current[kind] = text;
  try {
    sessionStorage.setItem(KEYS[kind], text);
  } catch {
    // storage full or blocked: the sample still lives for this page
  }
  for (const l of listeners) l();
}

/** The current sample of a kind and its setter. */
export function useSample(kind: SampleKind = 'hl7'): [string, (text: string) => void] {
  const value = useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => read(kind),
    () => DEFAULT_SAMPLES[kind],
  );
  return [value, (text) => setSample(text, kind)];
}
