'use client';
import { useEffect, useRef, useState } from 'react';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useTRPC, type RouterOutputs } from '../lib/trpc';
import { formatDateTime } from '../lib/format';
import { ConfirmDialog } from '../components/dialog';
import { ErrorBanner, Loading } from '../components/app-shell';
import { toast } from '../lib/toast';
import { diffRows, isEmptyDiff } from './version-diff';

type Diff = RouterOutputs['versions']['diff'];

function show(v: unknown): string {
  if (v === undefined) return '(unset)';
  if (typeof v === 'string') return JSON.stringify(v);
  return JSON.stringify(v, null, 1);
}

function conn(c: unknown): string {
  if (typeof c === 'string') return c;
  if (c && typeof c === 'object' && 'from' in c && 'to' in c) return `${String(c.from)} → ${String(c.to)}`;
  return JSON.stringify(c);
}

/** A readable diff between two versions: items added/removed, connections, changed fields of items, the production and the canvas. */
export function DiffView({ diff }: { diff: Diff }) {
  if (isEmptyDiff(diff)) return <p className="muted">No differences.</p>;
  const rows = diffRows(diff);
  return (
    <div className="stack" data-testid="version-diff">
      {diff.added.length > 0 ? (
        <div>
          <strong className="diff-added">Items added:</strong> {diff.added.join(', ')}
        </div>
      ) : null}
      {diff.removed.length > 0 ? (
        <div>
          <strong className="diff-removed">Items removed:</strong> {diff.removed.join(', ')}
        </div>
      ) : null}
      {diff.connectionsAdded.length > 0 ? (
        <div>
          <strong className="diff-added">Connections added:</strong> {diff.connectionsAdded.map(conn).join(', ')}
        </div>
      ) : null}
      {diff.connectionsRemoved.length > 0 ? (
        <div>
          <strong className="diff-removed">Connections removed:</strong> {diff.connectionsRemoved.map(conn).join(', ')}
        </div>
      ) : null}
      {rows.length > 0 ? (
        <div className="table-wrap">
          <table className="data diff-table">
            <thead>
              <tr>
                <th>Where</th>
                <th>Setting</th>
                <th>Before</th>
                <th>After</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r, i) => (
                <tr key={`${r.owner}-${r.path}-${i}`}>
                  <td>{i === 0 || rows[i - 1]!.owner !== r.owner ? <strong>{r.owner}</strong> : null}</td>
                  <td className="mono">{r.path}</td>
                  <td className="before">{show(r.before)}</td>
                  <td className="after">{show(r.after)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </div>
  );
}

interface Props {
  projectId: string;
  currentVersion: number;
  dirty: boolean;
  readOnly: boolean;
  onClose: () => void;
  onRolledBack: () => void;
}

export function VersionsDrawer({ projectId, currentVersion, dirty, readOnly, onClose, onRolledBack }: Props) {
  const trpc = useTRPC();
  const list = useQuery(trpc.versions.list.queryOptions({ projectId }));
  const [pair, setPair] = useState<{ from: number; to: number } | null>(null);
  const [rollbackTo, setRollbackTo] = useState<number | null>(null);
  const diff = useQuery(trpc.versions.diff.queryOptions(pair ? { projectId, ...pair } : { projectId, from: 0, to: 0 }, { enabled: !!pair }));
  const rollback = useMutation(
    trpc.versions.rollback.mutationOptions({
      onSuccess: (r) => {
        toast.success(`Rolled back: version ${r.version} is a copy of version ${rollbackTo}`);
        setRollbackTo(null);
        // The new version (a copy of the old one) shows at the top of the list at once.
        void list.refetch();
        onRolledBack();
      },
    }),
  );
  const headRef = useRef<HTMLHeadingElement>(null);
  useEffect(() => headRef.current?.focus(), []);
  const versions = [...(list.data ?? [])].sort((a, b) => b.version - a.version);
  return (
    <div className="drawer" role="dialog" aria-modal="false" aria-labelledby="versions-title" data-testid="versions-drawer">
      <div className="drawer-head">
        <h2 id="versions-title" ref={headRef} tabIndex={-1} style={{ margin: 0, flex: 1 }}>
          Version history
        </h2>
        <button type="button" className="ghost" onClick={onClose} aria-label="Close version history">
          ✕
        </button>
      </div>
      <div className="drawer-body stack">
        {list.isPending ? <Loading /> : null}
        {list.isError ? <ErrorBanner error={list.error} /> : null}
        {pair ? (
          <section className="card" aria-label="Differences">
            <div className="row" style={{ marginBottom: 8 }}>
              <strong className="grow">
                Changes from v{pair.from} to v{pair.to}
              </strong>
              <button type="button" className="small" onClick={() => setPair(null)}>
                Close diff
              </button>
            </div>
            {diff.isPending ? <Loading /> : null}
            {diff.isError ? <ErrorBanner error={diff.error} /> : null}
            {diff.data ? <DiffView diff={diff.data} /> : null}
          </section>
        ) : null}
        <div className="table-wrap">
          <table className="data" data-testid="versions-table">
            <thead>
              <tr>
                <th>Version</th>
                <th>Comment</th>
                <th>Author</th>
                <th>Saved</th>
                <th className="num">Actions</th>
              </tr>
            </thead>
            <tbody>
              {versions.map((v) => (
                <tr key={v.version} data-testid={`version-${v.version}`}>
                  <td>
                    <strong>v{v.version}</strong>
                    {v.version === currentVersion ? <span className="badge ok" style={{ marginLeft: 6 }}>current</span> : null}
                  </td>
                  <td>{v.comment || <span className="muted">—</span>}</td>
                  <td>{v.author ?? '—'}</td>
                  <td className="muted small">{formatDateTime(v.createdAt)}</td>
                  <td className="num">
                    <div className="row" style={{ justifyContent: 'flex-end' }}>
                      {v.version > 1 ? (
                        <button type="button" className="small" onClick={() => setPair({ from: v.version - 1, to: v.version })}>
                          Changes
                        </button>
                      ) : null}
                      {v.version !== currentVersion ? (
                        <button type="button" className="small" onClick={() => setPair({ from: v.version, to: currentVersion })}>
                          Diff vs current
                        </button>
                      ) : null}
                      {!readOnly && v.version !== currentVersion ? (
                        <button type="button" className="small danger" onClick={() => setRollbackTo(v.version)}>
                          Roll back
                        </button>
                      ) : null}
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </div>
      <ConfirmDialog
        open={rollbackTo !== null}
        title={`Roll back to version ${rollbackTo}?`}
        confirmLabel="Roll back"
        danger
        busy={rollback.isPending}
        message={
          <>
            <p>
              A new version is created whose configuration equals version {rollbackTo}. Nothing is deleted: you can roll forward the
              same way. Deploy or reload afterwards to run it.
            </p>
            {dirty ? <p className="error-text">Your unsaved changes in the designer will be discarded.</p> : null}
          </>
        }
        onClose={() => setRollbackTo(null)}
        onConfirm={() => rollbackTo !== null && rollback.mutate({ projectId, version: rollbackTo })}
      />
    </div>
  );
}
