/**
 * The pure part of the hl7v2.to.fhir map editor: a map's rules as the ordered steps of the
 * generic mapping editor, the FHIR targets offered for a drop, the rule a dropped field makes,
 * and the preview — the map validated by `v2FhirMap` and run by the engine's own interpreter
 * (@hie/config) on the sample, here in the browser.
 */
import { compileV2FhirMap, ensureError, runV2FhirMap, v2FhirMap } from '@hie/config';
import { formatPath, parsePath } from '@hie/hl7';
import type { DragSource, MapTarget } from './editor-model';
import { parseSample } from './editor-model';

type Rec = Record<string, unknown>;

export const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);

/** One step of the editor: a rule of one resource of the map (kept as edited: it may be incomplete). */
export interface FhirMapStep {
  /** Id of the resource the rule belongs to (`patient`). */
  resource: string;
  rule: Rec;
}

/** The resources of a map being edited (anything not an object reads as an empty one). */
export function mapResources(map: unknown): Rec[] {
  const list = isRec(map) && Array.isArray(map.resources) ? (map.resources as unknown[]) : [];
  return list.map((r) => (isRec(r) ? r : {}));
}

const rulesOf = (res: Rec): Rec[] => (Array.isArray(res.rules) ? (res.rules as unknown[]).map((r) => (isRec(r) ? r : {})) : []);
const idOf = (res: Rec): string => (typeof res.id === 'string' ? res.id : '');

/** Every rule of the map, resource by resource, as steps. */
export function stepsOfMap(map: unknown): FhirMapStep[] {
  return mapResources(map).flatMap((res) => rulesOf(res).map((rule) => ({ resource: idOf(res), rule })));
}

/**
 * The map with its rules replaced by `steps`: each resource takes the steps that name it, in
 * their order (rules only ever run within their resource, so that order is all there is). A step
 * naming no resource of the map goes to the first one.
 */
export function mapWithSteps(map: unknown, steps: readonly FhirMapStep[]): Rec {
  const resources = mapResources(map);
  const ids = new Set(resources.map(idOf));
  const home = (s: FhirMapStep) => (ids.has(s.resource) ? s.resource : idOf(resources[0] ?? {}));
  return {
    ...(isRec(map) ? map : {}),
    resources: resources.map((res) => ({ ...res, rules: steps.filter((s) => home(s) === idOf(res)).map((s) => s.rule) })),
  };
}

/** Elements worth offering for common resource types, beside those the map already sets. */
const SUGGESTED: Record<string, string[]> = {
  Patient: ['identifier[*].value', 'name[0].family', 'name[0].given[0]', 'birthDate', 'gender', 'telecom[0].value', 'address[0].line[0]', 'address[0].city', 'address[0].postalCode'],
  Encounter: ['identifier[0].value', 'class.code', 'period.start', 'period.end', 'location[0].location.display'],
  Observation: ['code.coding[0].code', 'code.text', 'valueQuantity.value', 'valueQuantity.unit', 'valueString', 'effectiveDateTime', 'status'],
  DiagnosticReport: ['identifier[0].value', 'code.coding[0].code', 'code.text', 'effectiveDateTime', 'issued', 'status'],
  RelatedPerson: ['name[0].family', 'name[0].given[0]', 'relationship[0].coding[0].code', 'telecom[0].value'],
  Coverage: ['identifier[0].value', 'subscriberId', 'period.start', 'period.end'],
};

const TARGET_PREFIX = 'fhir:';

/** The target id of an element of a resource: `fhir:<resource id>:<element path>` (an empty path: a new element, typed after). */
export function fhirTargetId(resource: string, element: string): string {
  return `${TARGET_PREFIX}${resource}:${element}`;
}

function parseTargetId(id: string): { resource: string; element: string } | undefined {
  if (!id.startsWith(TARGET_PREFIX)) return undefined;
  const rest = id.slice(TARGET_PREFIX.length);
  const colon = rest.indexOf(':');
  return colon < 0 ? undefined : { resource: rest.slice(0, colon), element: rest.slice(colon + 1) };
}

/**
 * The drop targets of a map: per resource (grouped by it), the suggested elements of its type,
 * then the other elements its rules already set, then "another element".
 */
export function fhirTargets(map: unknown): MapTarget[] {
  return mapResources(map).flatMap((res) => {
    const id = idOf(res);
    const type = typeof res.resourceType === 'string' ? res.resourceType : '';
    const group = `${type || 'Resource'} (${id})`;
    const elements = [...new Set([...(SUGGESTED[type] ?? []), ...rulesOf(res).map((r) => (typeof r.target === 'string' ? r.target : '')).filter(Boolean)])];
    return [...elements.map((e) => ({ id: fhirTargetId(id, e), label: e, group })), { id: fhirTargetId(id, ''), label: 'another element…', group }];
  });
}

/** The function a rule gets for a target element when nothing better is known. */
export function fnForElement(element: string): 'copy' | 'date' | 'dateTime' | 'number' {
  const last = element.replace(/\[[^\]]*\]/g, '').split('.');
  const name = last.at(-1) ?? '';
  if (name === 'birthDate' || name === 'date') return 'date';
  if (/DateTime$/.test(name) || name === 'issued' || name === 'recorded' || name === 'authoredOn' || ((name === 'start' || name === 'end') && last.at(-2) === 'period')) return 'dateTime';
  if (name === 'value' && /^(valueQuantity|low|high)$/.test(last.at(-2) ?? '')) return 'number';
  return 'copy';
}

/**
 * The source path a rule reads for a dragged tree node. In a `forEach` resource a field of its
 * own segment is read from the current occurrence (`OBX[2]-5` → `OBX-5`); a `[*]` target makes
 * one element per repetition, so the repetition is dropped (`PID-3[2].1` → `PID-3.1`).
 */
export function sourceForRule(path: string, resource: Rec, element: string): string {
  let p;
  try {
    p = parsePath(path);
  } catch {
    return path;
  }
  const own = resource.forEach === true && resource.segment === p.segment;
  return formatPath({ ...p, segmentIndex: own ? undefined : p.segmentIndex, repetition: element.includes('[*]') ? undefined : p.repetition });
}

/**
 * The step a field dropped on a FHIR target makes: a rule of that resource setting the element
 * from the field. Onto an element a rule already sets, the new rule is like that one (same
 * function, table, default) from the new source; else the function follows the element
 * (`birthDate` → date, `period.start` → dateTime, `valueQuantity.value` → number, else copy).
 */
export function fhirStepFromDrop(map: unknown, source: DragSource, target: MapTarget): FhirMapStep | undefined {
  const t = parseTargetId(target.id);
  if (!t) return undefined;
  const res = mapResources(map).find((r) => idOf(r) === t.resource);
  if (!res) return undefined;
  const from = sourceForRule(source.path, res, t.element);
  const like = t.element === '' ? undefined : rulesOf(res).find((r) => r.target === t.element && typeof r.source === 'string');
  if (like) {
    const { when: _w, whenIn: _i, ...rest } = like;
    return { resource: t.resource, rule: { ...rest, source: from } };
  }
  return { resource: t.resource, rule: { target: t.element, source: from, fn: fnForElement(t.element) } };
}

/** What the preview shows: the Bundle the map makes of the sample and its problems, or why it cannot run. */
export type FhirMapPreview = { ok: true; bundle: Rec; json: string; warnings: string[] } | { ok: false; problems: string[] };

/** `resources.0.rules.2.target` → `patient rule 3 target` (what a person sees in the editor). */
function issuePlace(map: unknown, path: readonly PropertyKey[]): string {
  const [top, ri, sub, rj, ...rest] = path;
  if (top !== 'resources' || typeof ri !== 'number') return path.map(String).join('.');
  const name = idOf(mapResources(map)[ri] ?? {}) || `resource ${ri + 1}`;
  if (sub === 'rules' && typeof rj === 'number') return [`${name} rule ${rj + 1}`, ...rest.map(String)].join(' ');
  return [name, ...[sub, rj, ...rest].filter((x) => x !== undefined).map(String)].join(' ');
}

/** Entry ids of a preview: fixed, so the JSON shown changes only when the map or sample does. */
function previewIds(): () => string {
  let n = 0;
  return () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;
}

/** Runs a map on the sample exactly as the engine does (validation, paths, interpreter); never throws. */
export function previewFhirMap(sample: string, map: unknown): FhirMapPreview {
  const parsed = parseSample(sample);
  if ('error' in parsed) return { ok: false, problems: [`The sample is not an HL7 message: ${parsed.error}`] };
  const checked = v2FhirMap.safeParse(map);
  if (!checked.success) return { ok: false, problems: checked.error.issues.map((i) => `${issuePlace(map, i.path)}: ${i.message}`) };
  try {
    const { bundle, warnings } = runV2FhirMap(compileV2FhirMap(checked.data, { parsePath, newId: previewIds() }), parsed.msg);
    return { ok: true, bundle, json: JSON.stringify(bundle, null, 2), warnings };
  } catch (e) {
    return { ok: false, problems: [ensureError(e).message] };
  }
}
