'use client';
import { useState } from 'react';

type Flat = Map<string, unknown>;

function flatten(v: unknown, prefix = '', out: Flat = new Map()): Flat {
  if (Array.isArray(v)) {
    if (v.length === 0) out.set(prefix || '(root)', []);
    v.forEach((x, i) => flatten(x, `${prefix}[${i}]`, out));
  } else if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>);
    if (entries.length === 0) out.set(prefix || '(root)', {});
    for (const [k, x] of entries) flatten(x, prefix ? `${prefix}.${k}` : k, out);
  } else if (v !== undefined) {
    out.set(prefix || '(root)', v);
  }
  return out;
}

function show(v: unknown): string {
  if (v === undefined) return '';
  return typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v);
}

export interface DiffRow {
  path: string;
  kind: 'added' | 'removed' | 'changed' | 'same';
  before?: unknown;
  after?: unknown;
}

/** Leaf-by-leaf differences between two JSON values. */
export function jsonDiff(before: unknown, after: unknown): DiffRow[] {
  const a = flatten(before);
  const b = flatten(after);
  const keys = Array.from(new Set([...a.keys(), ...b.keys()]));
  return keys.map((path) => {
    const inA = a.has(path);
    const inB = b.has(path);
    const x = a.get(path);
    const y = b.get(path);
    const kind = !inA ? 'added' : !inB ? 'removed' : JSON.stringify(x) === JSON.stringify(y) ? 'same' : 'changed';
    return { path, kind, before: x, after: y };
  });
}

/** Before/after of an audit entry: the changed leaves first, the full JSON on request. */
export function JsonDiffView({ before, after }: { before: unknown; after: unknown }) {
  const [full, setFull] = useState(false);
  const rows = jsonDiff(before, after);
  const changed = rows.filter((r) => r.kind !== 'same');
  return (
    <div className="stack" data-testid="json-diff">
      {before == null && after == null ? <p className="muted">No data recorded for this entry.</p> : null}
      {changed.length > 0 ? (
        <div className="table-wrap">
          <table className="data diff-table">
            <thead>
              <tr>
                <th>Field</th>
                <th>Before</th>
                <th>After</th>
              </tr>
            </thead>
            <tbody>
              {changed.map((r) => (
                <tr key={r.path}>
                  <td className="mono">
                    {r.path} {r.kind !== 'changed' ? <span className={r.kind === 'added' ? 'diff-added small' : 'diff-removed small'}>({r.kind})</span> : null}
                  </td>
                  <td className="before">{r.kind === 'added' ? <span className="muted">—</span> : show(r.before)}</td>
                  <td className="after">{r.kind === 'removed' ? <span className="muted">—</span> : show(r.after)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : before != null || after != null ? (
        <p className="muted small">No field changed.</p>
      ) : null}
      <div>
        <button type="button" className="small" onClick={() => setFull((f) => !f)} aria-expanded={full}>
          {full ? 'Hide' : 'Show'} full before / after JSON
        </button>
      </div>
      {full ? (
        <div className="split">
          <div>
            <div className="small muted">Before</div>
            <pre className="json-view">{before == null ? '—' : JSON.stringify(before, null, 2)}</pre>
          </div>
          <div>
            <div className="small muted">After</div>
            <pre className="json-view">{after == null ? '—' : JSON.stringify(after, null, 2)}</pre>
          </div>
        </div>
      ) : null}
    </div>
  );
}
