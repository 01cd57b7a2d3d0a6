'use client';
import { useId, useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTRPC } from '../lib/trpc';
import { toast } from '../lib/toast';
import { ErrorBanner, Loading } from './app-shell';

const ROLES = ['admin', 'analyst', 'viewer'] as const;
type Role = (typeof ROLES)[number];

const ROLE_HELP: Record<Role, string> = {
  admin: 'everything, including members',
  analyst: 'edit, save and deploy',
  viewer: 'read only',
};

/** Members of one workspace: add by username, change role, remove. */
export function MembersPanel({ workspaceId, editable }: { workspaceId: string; editable: boolean }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const members = useQuery(trpc.workspaces.members.queryOptions({ workspaceId }));
  const [username, setUsername] = useState('');
  const [role, setRole] = useState<Role>('analyst');
  const uid = useId();
  const invalidate = () => qc.invalidateQueries({ queryKey: trpc.workspaces.members.queryKey({ workspaceId }) });
  const setMember = useMutation(
    trpc.workspaces.setMember.mutationOptions({
      onSuccess: async (_d, v) => {
        toast.success(`${v.username} is now ${v.role}`);
        setUsername('');
        await invalidate();
      },
    }),
  );
  const removeMember = useMutation(
    trpc.workspaces.removeMember.mutationOptions({
      onSuccess: async () => {
        toast.success('Member removed');
        await invalidate();
      },
    }),
  );
  const onAdd = (e: FormEvent) => {
    e.preventDefault();
    if (username.trim()) setMember.mutate({ workspaceId, username: username.trim(), role });
  };
  return (
    <div className="stack" data-testid="members-panel">
      {members.isPending ? <Loading /> : null}
      {members.isError ? <ErrorBanner error={members.error} /> : null}
      {members.data ? (
        members.data.length === 0 ? (
          <p className="muted">No members yet.</p>
        ) : (
          <div className="table-wrap">
            <table className="data">
              <thead>
                <tr>
                  <th>User</th>
                  <th>Role</th>
                  <th title="May a viewer read message bodies (patient data)? Analysts and admins always may.">PHI reader</th>
                  {editable ? <th className="num">Actions</th> : null}
                </tr>
              </thead>
              <tbody>
                {members.data.map((m) => (
                  <tr key={m.userId} data-testid={`member-${m.username}`}>
                    <td>
                      <strong>{m.displayName || m.username}</strong> <span className="muted">({m.username})</span>
                    </td>
                    <td>
                      {editable ? (
                        <select
                          aria-label={`Role of ${m.username}`}
                          value={m.role}
                          onChange={(e) => setMember.mutate({ workspaceId, username: m.username, role: e.target.value as Role })}
                        >
                          {ROLES.map((r) => (
                            <option key={r} value={r}>
                              {r}
                            </option>
                          ))}
                        </select>
                      ) : (
                        <span className={`badge ${m.role}`}>{m.role}</span>
                      )}
                    </td>
                    <td>
                      {m.role !== 'viewer' ? (
                        <span className="muted">by role</span>
                      ) : (
                        <input
                          type="checkbox"
                          aria-label={`${m.username} may read message bodies`}
                          checked={m.phiReader}
                          disabled={!editable}
                          onChange={(e) => setMember.mutate({ workspaceId, username: m.username, role: m.role, phiReader: e.target.checked })}
                        />
                      )}
                    </td>
                    {editable ? (
                      <td className="num">
                        <button
                          type="button"
                          className="small danger"
                          onClick={() => removeMember.mutate({ workspaceId, userId: m.userId })}
                          aria-label={`Remove ${m.username}`}
                        >
                          Remove
                        </button>
                      </td>
                    ) : null}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )
      ) : null}
      {editable ? (
        <form className="row" onSubmit={onAdd} aria-label="Add a member">
          <div className="field">
            <label htmlFor={`${uid}-u`}>Username</label>
            <input id={`${uid}-u`} value={username} onChange={(e) => setUsername(e.target.value)} placeholder="username" />
          </div>
          <div className="field">
            <label htmlFor={`${uid}-r`}>Role</label>
            <select id={`${uid}-r`} value={role} onChange={(e) => setRole(e.target.value as Role)}>
              {ROLES.map((r) => (
                <option key={r} value={r}>
                  {r} — {ROLE_HELP[r]}
                </option>
              ))}
            </select>
          </div>
          <button type="submit" className="primary" style={{ alignSelf: 'flex-end' }} disabled={setMember.isPending || !username.trim()}>
            Set role
          </button>
        </form>
      ) : null}
    </div>
  );
}
