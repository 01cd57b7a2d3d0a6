'use client';
import Link from 'next/link';
import { usePathname, useRouter } from 'next/navigation';
import { createContext, useContext, useMemo, useState, type ReactNode } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTRPC, type RouterOutputs } from '../lib/trpc';
import { apiError } from '../lib/errors';
import { ChangePasswordDialog } from './change-password-dialog';

export type Role = 'admin' | 'analyst' | 'viewer';
type Me = RouterOutputs['auth']['me'];

interface Session {
  me: Me;
  isAdmin: boolean;
  /** The caller's role in a workspace (a global admin is admin everywhere). */
  roleIn: (workspaceId: string | undefined) => Role | undefined;
}

const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside <AppShell>');
  return s;
}

export function canEdit(role: Role | undefined): boolean {
  return role === 'admin' || role === 'analyst';
}

interface AppShellProps {
  children: ReactNode;
  /** The workspace in view, selected in the switcher. */
  workspaceId?: string;
  /** A second bar under the top bar (project tabs). */
  subnav?: ReactNode;
}

/** The authenticated frame: top bar (brand, nav, workspace switcher, user, logout). */
export function AppShell({ children, workspaceId, subnav }: AppShellProps) {
  const trpc = useTRPC();
  const me = useQuery(trpc.auth.me.queryOptions(undefined, { staleTime: 60_000 }));
  const session = useMemo<Session | null>(() => {
    if (!me.data) return null;
    const data = me.data;
    const isAdmin = !!data.user.isAdmin;
    return {
      me: data,
      isAdmin,
      roleIn: (ws) => {
        if (isAdmin) return 'admin';
        return data.memberships.find((m) => m.workspaceId === ws)?.role as Role | undefined;
      },
    };
  }, [me.data]);

  // A failed refetch keeps the page (and its unsaved work) mounted: the sign-in dialog covers it.
  if (me.isError && !me.data) {
    const info = apiError(me.error);
    return (
      <div className="page">
        <div className="banner error" role="alert">
          {info.code === 'UNAUTHORIZED' ? 'Your session has ended. Sign in to carry on.' : `Cannot load your session: ${info.message}`}
        </div>
        {info.code !== 'UNAUTHORIZED' ? (
          <button type="button" onClick={() => me.refetch()}>
            Try again
          </button>
        ) : null}
      </div>
    );
  }
  if (!session) return <div className="loading" aria-busy="true"><span className="spinner" /> Loading…</div>;

  return (
    <SessionContext.Provider value={session}>
      <div className="app">
        <TopBar workspaceId={workspaceId} />
        {subnav}
        <main id="main">{children}</main>
      </div>
    </SessionContext.Provider>
  );
}

function TopBar({ workspaceId }: { workspaceId?: string }) {
  const trpc = useTRPC();
  const router = useRouter();
  const pathname = usePathname();
  const qc = useQueryClient();
  const { me, isAdmin } = useSession();
  const [changingPassword, setChangingPassword] = useState(false);
  const workspaces = useQuery(trpc.workspaces.list.queryOptions());
  const logout = useMutation(
    trpc.auth.logout.mutationOptions({
      onSettled: () => {
        qc.clear();
        window.location.assign('/login');
      },
      meta: { silentError: true },
    }),
  );
  const name = me.user.displayName || me.user.username;
  const nav = [
    { href: '/', label: 'Workspaces', active: pathname === '/' || pathname.startsWith('/w/') },
    // The audit trail is for admins (global, or of a workspace): a link others cannot use is hidden.
    ...(isAdmin || me.memberships.some((m) => m.role === 'admin') ? [{ href: '/audit', label: 'Audit', active: pathname.startsWith('/audit') }] : []),
    ...(isAdmin ? [{ href: '/admin/users', label: 'Users', active: pathname.startsWith('/admin') }] : []),
    { href: '/account/tokens', label: 'API tokens', active: pathname.startsWith('/account') },
  ];
  return (
    <header className="topbar">
      <Link href="/" className="brand" aria-label="HIE home">
        <svg width="22" height="22" viewBox="0 0 32 32" aria-hidden>
          <rect width="32" height="32" rx="7" fill="#2f7dd1" />
          <path d="M8 9v14M8 16h8M16 9v14M22 9v14" stroke="#fff" strokeWidth="3" strokeLinecap="round" />
        </svg>
        HIE
      </Link>
      <nav aria-label="Main">
        {nav.map((n) => (
          <Link key={n.href} href={n.href} aria-current={n.active ? 'page' : undefined}>
            {n.label}
          </Link>
        ))}
      </nav>
      <label className="sr-only" htmlFor="workspace-switcher">
        Switch workspace
      </label>
      <select
        id="workspace-switcher"
        data-testid="workspace-switcher"
        value={workspaceId ?? ''}
        onChange={(e) => {
          if (e.target.value) router.push(`/w/${e.target.value}`);
          else router.push('/');
        }}
      >
        <option value="">{workspaces.data && workspaces.data.length === 0 ? 'No workspaces' : 'Choose a workspace…'}</option>
        {(workspaces.data ?? []).map((w) => (
          <option key={w.id} value={w.id}>
            {w.name}
          </option>
        ))}
      </select>
      <div className="spacer" />
      <div className="user" data-testid="current-user">
        <span className="avatar" aria-hidden>
          {name.slice(0, 1).toUpperCase()}
        </span>
        <span>
          {name}
          {isAdmin ? <span className="muted"> · admin</span> : null}
        </span>
      </div>
      <button type="button" className="ghost small" onClick={() => setChangingPassword(true)}>
        Change password
      </button>
      <button type="button" className="ghost small" onClick={() => logout.mutate()} disabled={logout.isPending}>
        Log out
      </button>
      <ChangePasswordDialog open={changingPassword} onClose={() => setChangingPassword(false)} />
    </header>
  );
}

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <div className="loading" aria-busy="true">
      <span className="spinner" aria-hidden /> {label}
    </div>
  );
}

export function ErrorBanner({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const info = apiError(error);
  return (
    <div className="banner error" role="alert">
      <strong>{info.message}</strong>
      {info.code ? <span className="small"> ({info.code})</span> : null}
      {info.problems.length > 0 ? (
        <ul className="small">
          {info.problems.map((p, i) => (
            <li key={i}>
              {p.pathText ? <code>{p.pathText}</code> : null} {p.message}
            </li>
          ))}
        </ul>
      ) : null}
      {onRetry ? (
        <div style={{ marginTop: 6 }}>
          <button type="button" className="small" onClick={onRetry}>
            Try again
          </button>
        </div>
      ) : null}
    </div>
  );
}
