'use client';
import { useId, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { AppShell, ErrorBanner, Loading, useSession } from '../../../components/app-shell';
import { Dialog } from '../../../components/dialog';
import { MembersPanel } from '../../../components/members-panel';
import { useTRPC, type RouterOutputs } from '../../../lib/trpc';
import { toast } from '../../../lib/toast';
import { formatDateTime } from '../../../lib/format';
import { MIN_PASSWORD_LENGTH, PASSWORD_RULE } from '@hie/config';

const ROLES = ['viewer', 'analyst', 'admin'] as const;
type Role = (typeof ROLES)[number];

type User = RouterOutputs['users']['list'][number];

interface UserForm {
  username: string;
  displayName: string;
  password: string;
  isAdmin: boolean;
  disabled: boolean;
}

function UserDialog({ user, open, onClose }: { user: User | null; open: boolean; onClose: () => void }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const id = useId();
  const creating = !user;
  const initial: UserForm = { username: user?.username ?? '', displayName: user?.displayName ?? '', password: '', isAdmin: user?.isAdmin ?? false, disabled: user?.disabled ?? false };
  const [form, setForm] = useState<UserForm>(initial);
  const [wasOpen, setWasOpen] = useState(false);
  const workspaces = useQuery(trpc.workspaces.list.queryOptions(undefined, { enabled: open && creating }));
  const [roles, setRoles] = useState<Record<string, Role>>({});
  if (open !== wasOpen) {
    setWasOpen(open);
    if (open) {
      setForm(initial);
      setRoles({});
    }
  }
  const done = async (msg: string) => {
    toast.success(msg);
    await qc.invalidateQueries({ queryKey: trpc.users.list.queryKey() });
    onClose();
  };
  const setMember = useMutation(trpc.workspaces.setMember.mutationOptions());
  const create = useMutation(
    trpc.users.create.mutationOptions({
      onSuccess: async () => {
        const username = form.username.trim();
        // Roles chosen in the same dialog: one membership per workspace picked.
        for (const [workspaceId, role] of Object.entries(roles)) {
          await setMember.mutateAsync({ workspaceId, username, role });
          await qc.invalidateQueries({ queryKey: trpc.workspaces.members.queryKey({ workspaceId }) });
        }
        const n = Object.keys(roles).length;
        await done(`User ${username} created${n ? ` with a role in ${n} workspace${n === 1 ? '' : 's'}` : ''}`);
      },
    }),
  );
  const update = useMutation(trpc.users.update.mutationOptions({ onSuccess: () => done('User updated') }));
  const busy = create.isPending || update.isPending || setMember.isPending;
  const shortPassword = form.password.length > 0 && form.password.length < MIN_PASSWORD_LENGTH;
  const missing = (creating && (!form.username.trim() || form.password.length === 0)) || shortPassword;
  return (
    <Dialog
      open={open}
      onClose={onClose}
      title={creating ? 'New user' : `Edit ${user?.username}`}
      testId="user-dialog"
      onSubmit={() => {
        if (missing) return;
        if (creating)
          create.mutate({ username: form.username.trim(), password: form.password, displayName: form.displayName.trim() || undefined, isAdmin: form.isAdmin });
        else if (user)
          update.mutate({
            id: user.id,
            displayName: form.displayName.trim() || undefined,
            isAdmin: form.isAdmin,
            disabled: form.disabled,
            ...(form.password ? { password: form.password } : {}),
          });
      }}
      footer={
        <>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={busy || missing}>
            {creating ? 'Create user' : 'Save'}
          </button>
        </>
      }
    >
      <div className="form-grid">
        {creating ? (
          <div className="field">
            <label htmlFor={`${id}-u`}>
              Username<span aria-hidden="true"> *</span>
            </label>
            <input id={`${id}-u`} autoFocus autoComplete="off" value={form.username} onChange={(e) => setForm({ ...form, username: e.target.value })} />
          </div>
        ) : null}
        <div className="field">
          <label htmlFor={`${id}-d`}>Display name</label>
          <input id={`${id}-d`} value={form.displayName} onChange={(e) => setForm({ ...form, displayName: e.target.value })} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-p`}>{creating ? <>Password<span aria-hidden="true"> *</span></> : 'New password (leave empty to keep)'}</label>
          <input
            id={`${id}-p`}
            type="password"
            autoComplete="new-password"
            aria-describedby={`${id}-p-rule`}
            aria-invalid={shortPassword || undefined}
            value={form.password}
            onChange={(e) => setForm({ ...form, password: e.target.value })}
          />
          <span id={`${id}-p-rule`} className={shortPassword ? 'error-text small' : 'help'} data-testid="password-rule">
            {PASSWORD_RULE}
            {shortPassword ? ` (${MIN_PASSWORD_LENGTH - form.password.length} more)` : ''}
          </span>
        </div>
        <div className="field inline">
          <input id={`${id}-a`} type="checkbox" checked={form.isAdmin} onChange={(e) => setForm({ ...form, isAdmin: e.target.checked })} />
          <label htmlFor={`${id}-a`}>Global administrator (admin in every workspace, manages users)</label>
        </div>
        {creating && workspaces.data && workspaces.data.length > 0 && !form.isAdmin ? (
          <fieldset data-testid="user-roles">
            <legend>Roles</legend>
            <p className="help" style={{ margin: '0 0 6px' }}>
              Viewer: read only · Analyst: edit and deploy · Admin: everything in the workspace.
            </p>
            {workspaces.data.map((w) => (
              <div className="row nowrap" key={w.id}>
                <label htmlFor={`${id}-r-${w.id}`} className="grow" style={{ fontWeight: 400 }}>
                  {w.name}
                </label>
                <select
                  id={`${id}-r-${w.id}`}
                  aria-label={`Role in ${w.name}`}
                  value={roles[w.id] ?? ''}
                  onChange={(e) => {
                    const { [w.id]: _old, ...rest } = roles;
                    setRoles(e.target.value === '' ? rest : { ...rest, [w.id]: e.target.value as Role });
                  }}
                >
                  <option value="">No access</option>
                  {ROLES.map((r) => (
                    <option key={r} value={r}>
                      {r.charAt(0).toUpperCase() + r.slice(1)}
                    </option>
                  ))}
                </select>
              </div>
            ))}
          </fieldset>
        ) : null}
        {!creating ? (
          <div className="field inline">
            <input id={`${id}-x`} type="checkbox" checked={form.disabled} onChange={(e) => setForm({ ...form, disabled: e.target.checked })} />
            <label htmlFor={`${id}-x`}>Disabled (cannot log in)</label>
          </div>
        ) : null}
      </div>
    </Dialog>
  );
}

function Users() {
  const trpc = useTRPC();
  const { isAdmin } = useSession();
  const users = useQuery(trpc.users.list.queryOptions(undefined, { enabled: isAdmin }));
  const workspaces = useQuery(trpc.workspaces.list.queryOptions());
  const [editing, setEditing] = useState<User | null>(null);
  const [dialogOpen, setDialogOpen] = useState(false);
  const [ws, setWs] = useState('');
  const workspaceId = ws || workspaces.data?.[0]?.id || '';

  if (!isAdmin) {
    return (
      <div className="page">
        <h1>Users</h1>
        <div className="empty">
          <strong>Only global administrators manage users</strong>
          Workspace admins manage their members from the workspace page (Members).
        </div>
      </div>
    );
  }
  return (
    <div className="page">
      <title>Users · HIE</title>
      <div className="page-header">
        <div className="titles">
          <h1>Users</h1>
          <p>Accounts, and each user’s role per workspace: admin (everything), analyst (edit and deploy), viewer (read only).</p>
        </div>
        <button
          type="button"
          className="primary"
          data-testid="create-user"
          onClick={() => {
            setEditing(null);
            setDialogOpen(true);
          }}
        >
          + New user
        </button>
      </div>
      {users.isPending ? <Loading /> : null}
      {users.isError ? <ErrorBanner error={users.error} onRetry={() => users.refetch()} /> : null}
      {users.data ? (
        <div className="table-wrap" style={{ marginBottom: 24 }}>
          <table className="data" data-testid="users-table">
            <thead>
              <tr>
                <th>User</th>
                <th>Global admin</th>
                <th>Status</th>
                <th>Created</th>
                <th className="num">Actions</th>
              </tr>
            </thead>
            <tbody>
              {users.data.map((u) => (
                <tr key={u.id} data-testid={`user-${u.username}`}>
                  <td>
                    <strong>{u.displayName || u.username}</strong> <span className="muted">({u.username})</span>
                  </td>
                  <td>{u.isAdmin ? <span className="badge admin">admin</span> : <span className="muted">—</span>}</td>
                  <td>{u.disabled ? <span className="badge failed">disabled</span> : <span className="badge ok">active</span>}</td>
                  <td className="muted small">{formatDateTime(u.createdAt)}</td>
                  <td className="num">
                    <button
                      type="button"
                      className="small"
                      aria-label={`Edit ${u.username}`}
                      onClick={() => {
                        setEditing(u);
                        setDialogOpen(true);
                      }}
                    >
                      Edit
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}

      <section className="card" aria-label="Workspace roles">
        <h2>Roles per workspace</h2>
        {workspaces.data && workspaces.data.length === 0 ? (
          <p className="muted">No workspaces yet — create one on the Workspaces page first.</p>
        ) : (
          <>
            <div className="field" style={{ maxWidth: 320, marginBottom: 12 }}>
              <label htmlFor="roles-ws">Workspace</label>
              <select id="roles-ws" value={workspaceId} onChange={(e) => setWs(e.target.value)}>
                {(workspaces.data ?? []).map((w) => (
                  <option key={w.id} value={w.id}>
                    {w.name}
                  </option>
                ))}
              </select>
            </div>
            {workspaceId ? <MembersPanel key={workspaceId} workspaceId={workspaceId} editable /> : null}
          </>
        )}
      </section>
      <UserDialog user={editing} open={dialogOpen} onClose={() => setDialogOpen(false)} />
    </div>
  );
}

export default function UsersPage() {
  return (
    <AppShell>
      <Users />
    </AppShell>
  );
}
