'use client';
import Link from 'next/link';
import { usePathname } from 'next/navigation';
import { createContext, useContext, type ReactNode } from 'react';
import { useQuery } from '@tanstack/react-query';
import { useTRPC, type RouterOutputs } from '../lib/trpc';
import { AppShell, ErrorBanner, Loading, canEdit, useSession, type Role } from './app-shell';

type Project = RouterOutputs['projects']['get']['project'];

interface ProjectCtx {
  projectId: string;
  project: Project;
  role: Role | undefined;
  canEdit: boolean;
}

const Ctx = createContext<ProjectCtx | null>(null);

export function useProject(): ProjectCtx {
  const c = useContext(Ctx);
  if (!c) throw new Error('useProject outside the project layout');
  return c;
}

function ProjectFrame({ projectId, children }: { projectId: string; children: ReactNode }) {
  const trpc = useTRPC();
  const { roleIn } = useSession();
  const get = useQuery(trpc.projects.get.queryOptions({ id: projectId }, { staleTime: Infinity, refetchOnMount: false }));
  if (get.isPending) return <Loading label="Loading project…" />;
  if (get.isError)
    return (
      <div className="page">
        <ErrorBanner error={get.error} onRetry={() => get.refetch()} />
        <Link href="/">Back to workspaces</Link>
      </div>
    );
  const project = get.data.project;
  const role = (get.data.role as Role | undefined) ?? roleIn(project.workspaceId);
  return <Ctx.Provider value={{ projectId, project, role, canEdit: canEdit(role) }}>{children}</Ctx.Provider>;
}

function SubNav({ projectId }: { projectId: string }) {
  const trpc = useTRPC();
  const pathname = usePathname();
  const get = useQuery(trpc.projects.get.queryOptions({ id: projectId }, { staleTime: Infinity, refetchOnMount: false }));
  const ws = useQuery(trpc.workspaces.list.queryOptions());
  const project = get.data?.project;
  const workspace = ws.data?.find((w) => w.id === project?.workspaceId);
  const tabs = [
    { href: `/p/${projectId}`, label: 'Designer' },
    { href: `/p/${projectId}/dashboard`, label: 'Dashboard' },
    { href: `/p/${projectId}/messages`, label: 'Messages' },
    { href: `/p/${projectId}/jobs`, label: 'Jobs' },
    { href: `/p/${projectId}/alerts`, label: 'Alerts' },
  ];
  return (
    <nav className="subnav" aria-label="Project">
      {workspace ? (
        <Link href={`/w/${workspace.id}`} className="muted small" style={{ marginRight: 6 }}>
          {workspace.name} /
        </Link>
      ) : null}
      <span className="project-name" data-testid="project-name" title={project?.name}>
        {project?.name ?? '…'}
      </span>
      {tabs.map((t) => (
        <Link key={t.href} href={t.href} className="tab" aria-current={pathname === t.href ? 'page' : undefined}>
          {t.label}
        </Link>
      ))}
    </nav>
  );
}

function WorkspaceAware({ projectId, children }: { projectId: string; children: ReactNode }) {
  return (
    <ProjectFrame projectId={projectId}>
      <SubNav projectId={projectId} />
      {children}
    </ProjectFrame>
  );
}

/** The frame of every project page: top bar, project tabs, project + role context. */
export function ProjectLayout({ projectId, children }: { projectId: string; children: ReactNode }) {
  const trpc = useTRPC();
  const get = useQuery(trpc.projects.get.queryOptions({ id: projectId }, { staleTime: Infinity, refetchOnMount: false }));
  return (
    <AppShell workspaceId={get.data?.project.workspaceId}>
      <WorkspaceAware projectId={projectId}>{children}</WorkspaceAware>
    </AppShell>
  );
}
