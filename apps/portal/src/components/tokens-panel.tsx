'use client';
import { useId, useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTRPC } from '../lib/trpc';
import { toast } from '../lib/toast';
import { formatDateTime } from '../lib/format';
import { ErrorBanner, Loading, useSession, type Role } from './app-shell';

const ROLES: Role[] = ['viewer', 'analyst', 'admin'];

/** The caller's API tokens (for CI: `HIE_TOKEN=… hie apply`): create (shown once), list, revoke. */
export function TokensPanel() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const { roleIn } = useSession();
  const uid = useId();
  const tokens = useQuery(trpc.tokens.list.queryOptions());
  const workspaces = useQuery(trpc.workspaces.list.queryOptions());
  const [name, setName] = useState('');
  const [workspaceId, setWorkspaceId] = useState('');
  const [role, setRole] = useState<Role>('analyst');
  const [days, setDays] = useState(30);
  const [shown, setShown] = useState<string | null>(null);
  const invalidate = () => qc.invalidateQueries({ queryKey: trpc.tokens.list.queryKey() });
  const create = useMutation(
    trpc.tokens.create.mutationOptions({
      onSuccess: async (t) => {
        setShown(t.token);
        setName('');
        await invalidate();
      },
    }),
  );
  const revoke = useMutation(
    trpc.tokens.revoke.mutationOptions({
      onSuccess: async (t) => {
        toast.success(`Token "${t.name}" revoked`);
        await invalidate();
      },
    }),
  );
  const ws = workspaceId || workspaces.data?.[0]?.id || '';
  const mine = roleIn(ws);
  // A token's role is at most the user's in its workspace.
  const allowed = ROLES.filter((r) => mine && ROLES.indexOf(r) <= ROLES.indexOf(mine));
  const onCreate = (e: FormEvent) => {
    e.preventDefault();
    if (name.trim() && ws) create.mutate({ name: name.trim(), workspaceId: ws, role: allowed.includes(role) ? role : 'viewer', expiresInDays: days });
  };
  const wsName = (id: string) => workspaces.data?.find((w) => w.id === id)?.name ?? id;
  return (
    <div className="stack" data-testid="tokens-panel">
      {shown ? (
        <div className="banner info" role="status" data-testid="new-token">
          <strong>Copy this token now: it is not shown again.</strong>
          <div>
            <code style={{ userSelect: 'all', wordBreak: 'break-all' }}>{shown}</code>
          </div>
          <button type="button" className="small" onClick={() => setShown(null)}>
            Done
          </button>
        </div>
      ) : null}
      {tokens.isPending ? <Loading /> : null}
      {tokens.isError ? <ErrorBanner error={tokens.error} /> : null}
      {tokens.data && tokens.data.length > 0 ? (
        <div className="table-wrap">
          <table className="data">
            <thead>
              <tr>
                <th>Name</th>
                <th>Workspace</th>
                <th>Role</th>
                <th>Expires</th>
                <th>Last used</th>
                <th>State</th>
                <th className="num">Actions</th>
              </tr>
            </thead>
            <tbody>
              {tokens.data.map((t) => (
                <tr key={t.id} data-testid={`token-${t.name}`}>
                  <td>{t.name}</td>
                  <td>{wsName(t.workspaceId)}</td>
                  <td>
                    <span className={`badge ${t.role}`}>{t.role}</span>
                    {t.projectId ? <span className="muted small"> one project</span> : null}
                  </td>
                  <td className="small">{formatDateTime(t.expiresAt)}</td>
                  <td className="small muted">{t.lastUsedAt ? formatDateTime(t.lastUsedAt) : 'never'}</td>
                  <td>
                    <span className={`badge ${t.state === 'active' ? 'ok' : 'failed'}`}>{t.state}</span>
                  </td>
                  <td className="num">
                    {t.state === 'active' ? (
                      <button type="button" className="small danger" onClick={() => revoke.mutate({ id: t.id })} aria-label={`Revoke ${t.name}`}>
                        Revoke
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : tokens.data ? (
        <p className="muted">No API tokens yet.</p>
      ) : null}
      <form className="row card" onSubmit={onCreate} aria-label="New API token">
        <div className="field">
          <label htmlFor={`${uid}-n`}>Name</label>
          <input id={`${uid}-n`} value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. ci-pipeline" />
        </div>
        <div className="field">
          <label htmlFor={`${uid}-w`}>Workspace</label>
          <select id={`${uid}-w`} value={ws} onChange={(e) => setWorkspaceId(e.target.value)}>
            {(workspaces.data ?? []).map((w) => (
              <option key={w.id} value={w.id}>
                {w.name}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${uid}-r`}>Role</label>
          <select id={`${uid}-r`} value={allowed.includes(role) ? role : (allowed[0] ?? 'viewer')} onChange={(e) => setRole(e.target.value as Role)}>
            {allowed.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${uid}-d`}>Expires in (days)</label>
          <input id={`${uid}-d`} type="number" min={1} max={366} value={days} onChange={(e) => setDays(Math.max(1, Math.min(366, Number(e.target.value) || 30)))} />
        </div>
        <button type="submit" className="primary" style={{ alignSelf: 'flex-end' }} disabled={create.isPending || !name.trim() || !ws}>
          Create token
        </button>
      </form>
    </div>
  );
}
