'use client';
import { Fragment, useMemo, useState, type FormEvent } from 'react';
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { AppShell, ErrorBanner, Loading, useSession } from '../../components/app-shell';
import { JsonDiffView } from '../../components/json-diff';
import { useTRPC, type RouterInputs } from '../../lib/trpc';
import { formatDateTime, localInputToIso } from '../../lib/format';

type AuditInput = RouterInputs['audit']['list'];

const ENTITY_TYPES = ['project', 'deployment', 'item', 'message', 'workspace', 'membership', 'user', 'procedure'];
const ACTIONS = [
  'access.denied',
  'auth.login',
  'auth.login_failed',
  'auth.logout',
  'config.save',
  'config.rollback',
  'config.item.upsert',
  'config.item.delete',
  'config.connection.add',
  'config.connection.remove',
  'deployment.deploy',
  'deployment.start',
  'deployment.stop',
  'deployment.reload',
  'item.start',
  'item.stop',
  'item.restart',
  'message.search',
  'message.view',
  'message.view_metadata',
  'message.resend',
  'project.create',
  'project.update',
  'project.clone',
  'project.import',
  'project.delete',
  'project.export',
  'user.create',
  'user.update',
  'workspace.create',
  'workspace.update',
  'workspace.delete',
  'workspace.member.set',
  'workspace.member.remove',
];

interface Filters {
  workspaceId: string;
  actor: string;
  entityType: string;
  action: string;
  from: string;
  to: string;
}

function Audit() {
  const trpc = useTRPC();
  const { isAdmin, me } = useSession();
  const workspaces = useQuery(trpc.workspaces.list.queryOptions());
  // A global admin sees everything; a workspace admin sees their workspaces' entries.
  const adminOf = (workspaces.data ?? []).filter((w) => isAdmin || w.role === 'admin');
  const defaultWs = isAdmin ? '' : (me.memberships.find((m) => m.role === 'admin')?.workspaceId ?? '');
  const empty: Filters = { workspaceId: defaultWs, actor: '', entityType: '', action: '', from: '', to: '' };
  const [draft, setDraft] = useState<Filters>(empty);
  const [applied, setApplied] = useState<Filters>(empty);
  const [open, setOpen] = useState<number | null>(null);
  const allowed = isAdmin || !!applied.workspaceId;
  const input = useMemo(() => {
    const i: AuditInput = { limit: 50 };
    if (applied.workspaceId) i.workspaceId = applied.workspaceId;
    if (applied.actor.trim()) i.actor = applied.actor.trim();
    if (applied.entityType) i.entityType = applied.entityType;
    if (applied.action.trim()) i.action = applied.action.trim();
    const from = localInputToIso(applied.from);
    const to = localInputToIso(applied.to);
    if (from) i.from = from;
    if (to) i.to = to;
    return i;
  }, [applied]);
  const list = useInfiniteQuery(trpc.audit.list.infiniteQueryOptions(input, { enabled: allowed, getNextPageParam: (last) => last.nextCursor ?? undefined }));
  const rows = list.data?.pages.flatMap((p) => p.items) ?? [];
  const wsName = (id: string | null) => (id ? (workspaces.data?.find((w) => w.id === id)?.name ?? id.slice(0, 8)) : '—');
  const set = (k: keyof Filters, v: string) => setDraft((d) => ({ ...d, [k]: v }));
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    setApplied({ ...draft });
    setOpen(null);
  };

  if (!isAdmin && adminOf.length === 0 && workspaces.data) {
    return (
      <div className="page">
        <title>Audit · HIE</title>
        <h1>Audit trail</h1>
        <div className="empty">
          <strong>The audit trail is for administrators</strong>
          Workspace admins see their workspace’s entries; ask one for access.
        </div>
      </div>
    );
  }

  return (
    <div className="page wide">
      <title>Audit · HIE</title>
      <div className="page-header">
        <div className="titles">
          <h1>Audit trail</h1>
          <p>Every change, deployment, login and message view, with who did it and what changed.</p>
        </div>
      </div>
      <form className="card" onSubmit={onSubmit} aria-label="Audit filters" style={{ marginBottom: 14 }}>
        <div className="filters" style={{ marginBottom: 0 }}>
          <div className="field">
            <label htmlFor="a-ws">Workspace</label>
            <select id="a-ws" value={draft.workspaceId} onChange={(e) => set('workspaceId', e.target.value)}>
              {isAdmin ? <option value="">All (global)</option> : null}
              {adminOf.map((w) => (
                <option key={w.id} value={w.id}>
                  {w.name}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor="a-actor">User</label>
            <input id="a-actor" placeholder="username" value={draft.actor} onChange={(e) => set('actor', e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="a-entity">Entity</label>
            <select id="a-entity" value={draft.entityType} onChange={(e) => set('entityType', e.target.value)}>
              <option value="">Any entity</option>
              {ENTITY_TYPES.map((t) => (
                <option key={t}>{t}</option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor="a-action">Action</label>
            <input id="a-action" list="audit-actions" placeholder="e.g. deployment.deploy" value={draft.action} onChange={(e) => set('action', e.target.value)} />
            <datalist id="audit-actions">
              {ACTIONS.map((a) => (
                <option key={a} value={a} />
              ))}
            </datalist>
          </div>
          <div className="field">
            <label htmlFor="a-from">From</label>
            <input id="a-from" type="datetime-local" value={draft.from} onChange={(e) => set('from', e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="a-to">To</label>
            <input id="a-to" type="datetime-local" value={draft.to} onChange={(e) => set('to', e.target.value)} />
          </div>
          <div className="row filter-actions">
            <button type="submit" className="primary">
              Search
            </button>
            <button
              type="button"
              onClick={() => {
                setDraft(empty);
                setApplied(empty);
              }}
            >
              Clear
            </button>
          </div>
        </div>
      </form>
      {list.isPending && allowed ? <Loading /> : null}
      {list.isError ? <ErrorBanner error={list.error} onRetry={() => list.refetch()} /> : null}
      {list.data && rows.length === 0 ? (
        <div className="empty">
          <strong>No audit entries match</strong>
          Clear a filter or widen the time range.
        </div>
      ) : null}
      {rows.length > 0 ? (
        <div className="table-wrap">
          <table className="data" data-testid="audit-table">
            <thead>
              <tr>
                <th>When</th>
                <th>User</th>
                <th>Action</th>
                <th>Entity</th>
                <th>Workspace</th>
                <th>From</th>
                <th className="num">Details</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <Fragment key={r.id}>
                  <tr data-testid="audit-row" data-action={r.action} aria-selected={open === r.id}>
                    <td className="small" style={{ whiteSpace: 'nowrap' }}>
                      {formatDateTime(r.at)}
                    </td>
                    <td>{r.actorName ?? <span className="muted">system</span>}</td>
                    <td className="mono">{r.action}</td>
                    <td title={r.entityId ?? undefined}>
                      {/* The name as it was when the entry was written; older entries have only the id. */}
                      {r.entityType}{' '}
                      {r.entityName ? <strong>{r.entityName}</strong> : <span className="muted small mono">{r.entityId ? r.entityId.slice(0, 18) : ''}</span>}
                    </td>
                    <td>{wsName(r.workspaceId)}</td>
                    <td className="small muted">{r.sourceAddress ?? '—'}</td>
                    <td className="num">
                      <button type="button" className="small" aria-expanded={open === r.id} onClick={() => setOpen(open === r.id ? null : r.id)}>
                        {open === r.id ? 'Hide' : 'Changes'}
                      </button>
                    </td>
                  </tr>
                  {open === r.id ? (
                    <tr>
                      <td colSpan={7} style={{ background: 'var(--surface-2)' }}>
                        <JsonDiffView before={r.before} after={r.after} />
                      </td>
                    </tr>
                  ) : null}
                </Fragment>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {list.hasNextPage ? (
        <div style={{ marginTop: 10 }}>
          <button type="button" onClick={() => void list.fetchNextPage()} disabled={list.isFetchingNextPage}>
            Load more
          </button>
        </div>
      ) : null}
    </div>
  );
}

export default function AuditPage() {
  return (
    <AppShell>
      <Audit />
    </AppShell>
  );
}
