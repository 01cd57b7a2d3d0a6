'use client';
import { useMemo, type ReactNode } from 'react';
import { childrenOf, isJsonObject, placeIssues, rootPath, type FhirViewIssue, type IssuePlacement, type Json } from '../lib/fhir-tree';

export type { FhirViewIssue };

function IssueList({ issues, at }: { issues: readonly FhirViewIssue[] | undefined; at?: string }) {
  if (!issues?.length) return null;
  return (
    <ul className="fhir-issues">
      {issues.map((i, n) => (
        <li key={n} className={`fhir-issue ${i.severity}`} data-testid="fhir-issue" data-path={i.path}>
          <strong>{i.severity}</strong> <span className="mono">{i.code}</span>
          {/* An issue about a missing child names it. */}
          {at !== undefined && i.path !== at ? <span className="mono"> {i.path.slice(at.length)}</span> : null}: {i.message}
        </li>
      ))}
    </ul>
  );
}

interface NodeProps {
  name: string;
  value: Json;
  path: string;
  placed: IssuePlacement;
  depth: number;
}

function Node({ name, value, path, placed, depth }: NodeProps): ReactNode {
  const issues = placed.at.get(path);
  const flagged = placed.below.has(path);
  if (Array.isArray(value) || isJsonObject(value)) {
    const children = childrenOf(value, path);
    const type = depth > 0 ? rootPath(value) : '';
    return (
      <details open={depth < 2 || flagged} className={flagged ? 'has-issues' : undefined} data-path={path}>
        <summary>
          <span className="k">{name}</span>
          {type ? <span className="t"> {type}</span> : null}
          <span className="muted small"> {Array.isArray(value) ? `[${value.length}]` : `{${children.length}}`}</span>
        </summary>
        <IssueList issues={issues} at={path} />
        <div className="c">
          {children.map(([k, v, p]) => (
            <Node key={k} name={k} value={v} path={p} placed={placed} depth={depth + 1} />
          ))}
        </div>
      </details>
    );
  }
  return (
    <div className={`leaf${flagged ? ' has-issues' : ''}`} data-path={path}>
      <span className="k">{name}</span>
      <span className="v">{JSON.stringify(value)}</span>
      <IssueList issues={issues} at={path} />
    </div>
  );
}

/**
 * A FHIR resource as a collapsible tree, each node addressed by its FHIRPath, with the
 * validation issues (from `messages.get`'s `problems`) beside their elements. Branches holding an
 * issue open by themselves; issues that sit on no element are listed above the tree.
 */
export function FhirTree({ raw, issues }: { raw: string; issues: readonly FhirViewIssue[] | null }) {
  const parsed = useMemo((): { ok: true; value: Json } | { ok: false; error: string } => {
    try {
      return { ok: true, value: JSON.parse(raw) as Json };
    } catch (e) {
      return { ok: false, error: e instanceof Error ? e.message : String(e) };
    }
  }, [raw]);
  const all = useMemo(() => issues ?? [], [issues]);
  const placed = useMemo(() => placeIssues(parsed.ok ? parsed.value : null, all), [parsed, all]);
  const errors = all.filter((i) => i.severity === 'error').length;
  const others = all.length - errors;
  const root = parsed.ok ? rootPath(parsed.value) : '';
  return (
    <div className="stack" style={{ gap: 6 }}>
      <div className={`banner ${errors > 0 ? 'error' : 'info'}`} role={errors > 0 ? 'alert' : 'status'} data-testid="fhir-summary">
        {errors > 0 ? `${errors} validation error${errors === 1 ? '' : 's'} against FHIR R4` : 'Valid FHIR R4'}
        {others > 0 ? ` · ${others} warning${others === 1 ? '' : 's'}` : ''}
      </div>
      {placed.loose.length > 0 ? (
        <div data-testid="fhir-root-issues">
          {placed.loose.map((i, n) => (
            <div key={n}>
              {i.path && i.path !== root ? <span className="mono small">{i.path} </span> : null}
              <IssueList issues={[i]} />
            </div>
          ))}
        </div>
      ) : null}
      {parsed.ok ? (
        <div className="hl7-tree fhir-tree" data-testid="fhir-tree">
          <Node name={root || '(body)'} value={parsed.value} path={root} placed={placed} depth={0} />
        </div>
      ) : (
        <p className="muted">Not JSON ({parsed.error}): see the raw view.</p>
      )}
    </div>
  );
}
