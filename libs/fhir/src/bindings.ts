import { tryGetDataType, type InternalSchemaElement, type InternalTypeSchema } from '@medplum/core';
import { expandValueSet } from './definitions';
import type { FhirIssue } from './issues';

/**
 * Required-binding checks. @medplum/core's `validateResource` checks structure, cardinality,
 * types and invariants but not value-set membership, so this walks the resource along the same
 * indexed schema and checks every element whose binding strength is `required` against the
 * value set, when the definitions let it be expanded offline.
 *
 * @see https://hl7.org/fhir/R4/terminologies.html#required
 */

const CODED = new Set(['code', 'string', 'uri', 'Coding', 'CodeableConcept']);
/** Never descended into: no required bindings a sender can get wrong there. */
const SKIP_TYPES = new Set(['Extension', 'Element', 'xhtml']);
const MAX_DEPTH = 64;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** The schema element for a JSON property, and the type it carries (choice types resolved). */
function elementFor(schema: InternalTypeSchema, key: string): { element: InternalSchemaElement; type: string } | undefined {
  const direct = schema.elements[key];
  if (direct) return direct.type.length === 1 ? { element: direct, type: direct.type[0]!.code } : undefined;
  for (const [name, element] of Object.entries(schema.elements)) {
    if (!name.endsWith('[x]')) continue;
    const base = name.slice(0, -3);
    if (!key.startsWith(base)) continue;
    const suffix = key.slice(base.length);
    const t = element.type.find((ty) => capitalize(ty.code) === suffix);
    if (t) return { element, type: t.code };
  }
  return undefined;
}

function checkCoded(value: unknown, type: string, valueSet: string, path: string, issues: FhirIssue[]): void {
  const vs = expandValueSet(valueSet);
  if (!vs) return;
  const url = vs.url;
  if (type === 'code' || type === 'string' || type === 'uri') {
    if (typeof value === 'string' && !vs.codes.has(value)) {
      issues.push({ severity: 'error', code: 'code-invalid', path, message: `"${value}" is not in the required value set ${url}` });
    }
    return;
  }
  const codings: unknown[] = type === 'Coding' ? [value] : isObject(value) && Array.isArray(value.coding) ? value.coding : [];
  const checkable = codings.filter((c): c is Record<string, unknown> => isObject(c) && typeof c.code === 'string');
  if (checkable.length === 0) return;
  const inSet = (c: Record<string, unknown>): boolean =>
    typeof c.system === 'string' ? vs.codings.has(`${c.system}|${String(c.code)}`) : vs.codes.has(String(c.code));
  if (!checkable.some(inSet)) {
    const shown = checkable.map((c) => (typeof c.system === 'string' ? `${c.system}|${String(c.code)}` : String(c.code))).join(', ');
    issues.push({ severity: 'error', code: 'code-invalid', path, message: `${shown} is not in the required value set ${url}` });
  }
}

function walk(value: Record<string, unknown>, typeName: string, path: string, issues: FhirIssue[], depth: number): void {
  if (depth > MAX_DEPTH) return;
  const schema = tryGetDataType(typeName);
  if (!schema) return;
  for (const [key, raw] of Object.entries(value)) {
    if (key === 'resourceType' || key.startsWith('_')) continue;
    const found = elementFor(schema, key);
    if (!found) continue;
    const { element, type } = found;
    const items = Array.isArray(raw) ? raw : [raw];
    items.forEach((item, i) => {
      const at = Array.isArray(raw) ? `${path}.${key}[${i}]` : `${path}.${key}`;
      const binding = element.binding;
      if (binding?.strength === 'required' && binding.valueSet && CODED.has(type)) checkCoded(item, type, binding.valueSet, at, issues);
      if (!isObject(item) || SKIP_TYPES.has(type)) return;
      if (type === 'Resource' && typeof item.resourceType === 'string') walk(item, item.resourceType, at, issues, depth + 1);
      else if (type !== 'Resource') walk(item, type, at, issues, depth + 1);
    });
  }
}

/** Required-binding issues of a resource whose definitions are already indexed. */
export function checkRequiredBindings(resource: Record<string, unknown> & { resourceType: string }): FhirIssue[] {
  const issues: FhirIssue[] = [];
  walk(resource, resource.resourceType, resource.resourceType, issues, 0);
  return issues;
}
