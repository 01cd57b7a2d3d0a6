/**
 * The model behind the message viewer's FHIR tree (components/fhir-view.tsx): FHIRPaths of the
 * JSON nodes, written as the R4 validator writes them (`Bundle.entry[2].resource.birthDate`),
 * and where each validation issue goes.
 */

/** One R4 validation issue as `messages.get` returns it (FhirIssue of @hie/fhir). */
export interface FhirViewIssue {
  severity: 'error' | 'warning' | 'information';
  code: string;
  /** FHIRPath, e.g. `Bundle.entry[2].resource.birthDate`; empty for the whole body. */
  path: string;
  message: string;
}

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export function isJsonObject(v: Json): v is { [key: string]: Json } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A node's children with their FHIRPaths (`resourceType` is shown on the node, not as a child). */
export function childrenOf(value: Json, path: string): [name: string, value: Json, path: string][] {
  if (Array.isArray(value)) return value.map((v, i) => [`[${i}]`, v, `${path}[${i}]`]);
  if (isJsonObject(value)) {
    return Object.entries(value)
      .filter(([k]) => k !== 'resourceType')
      .map(([k, v]) => [k, v, `${path}.${k}`]);
  }
  return [];
}

/** The root's FHIRPath: its `resourceType` (`''` when it has none). */
export function rootPath(value: Json): string {
  return isJsonObject(value) && typeof value.resourceType === 'string' ? value.resourceType : '';
}

/** Where the issues go in a tree. */
export interface IssuePlacement {
  /** Issues by the FHIRPath of the node they are shown beside (a missing element's: its nearest ancestor's). */
  at: Map<string, FhirViewIssue[]>;
  /** Paths with an issue at or below them: those branches open by themselves and are flagged. */
  below: Set<string>;
  /** Issues on the whole resource (a Bundle-wide rule, a body that is not FHIR): listed above the tree. */
  loose: FhirViewIssue[];
}

/** Places the issues on the nodes of `value` (parsed JSON). */
export function placeIssues(value: Json, issues: readonly FhirViewIssue[]): IssuePlacement {
  const root = rootPath(value);
  const paths = new Set<string>();
  const walk = (v: Json, p: string): void => {
    paths.add(p);
    for (const [, child, cp] of childrenOf(v, p)) walk(child, cp);
  };
  walk(value, root);
  const at = new Map<string, FhirViewIssue[]>();
  const below = new Set<string>();
  const loose: FhirViewIssue[] = [];
  for (const issue of issues) {
    // A missing element has no node: its issue goes beside the nearest element that exists.
    let node = issue.path;
    while (node !== '' && !paths.has(node)) node = node.slice(0, Math.max(node.lastIndexOf('.'), node.lastIndexOf('['), 0));
    if (node === '' || node === root) {
      loose.push(issue);
      continue;
    }
    at.set(node, [...(at.get(node) ?? []), issue]);
    // Every ancestor of `A.b[2].c`: `A`, `A.b`, `A.b[2]`, then the node itself.
    for (let k = 0; k < node.length; k++) if (node[k] === '.' || node[k] === '[') below.add(node.slice(0, k));
    below.add(node);
  }
  return { at, below, loose };
}
