'use client';
import Link from 'next/link';
import { useParams } from 'next/navigation';
import { useQuery } from '@tanstack/react-query';
import { AppShell, useSession } from '../../../../components/app-shell';
import { EnvironmentsPanel } from '../../../../components/environments-panel';
import { useTRPC } from '../../../../lib/trpc';

function Environments({ workspaceId }: { workspaceId: string }) {
  const trpc = useTRPC();
  const { roleIn } = useSession();
  const workspace = useQuery(trpc.workspaces.list.queryOptions()).data?.find((w) => w.id === workspaceId);
  return (
    <div className="page">
      <title>Environments · HIE</title>
      <div className="page-header">
        <div className="titles">
          <div className="breadcrumbs">
            <Link href="/">Workspaces</Link> / <Link href={`/w/${workspaceId}`}>{workspace?.name ?? 'Workspace'}</Link> /
          </div>
          <h1>Environments</h1>
          <p>
            Item settings may hold <code>{'${NAME}'}</code> or <code>{'${secret:NAME}'}</code>. Deploying a version to an environment resolves them
            with its values, so the same version is promoted from test to prod without editing it.
          </p>
        </div>
      </div>
      <EnvironmentsPanel workspaceId={workspaceId} editable={roleIn(workspaceId) === 'admin'} />
    </div>
  );
}

export default function EnvironmentsPage() {
  const { workspaceId } = useParams<{ workspaceId: string }>();
  return (
    <AppShell workspaceId={workspaceId}>
      <Environments workspaceId={workspaceId} />
    </AppShell>
  );
}
