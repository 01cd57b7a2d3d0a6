'use client';
import Link from 'next/link';
import { useParams, useRouter } from 'next/navigation';
import { useRef, useState, type ChangeEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { AppShell, ErrorBanner, Loading, canEdit, useSession } from '../../../components/app-shell';
import { ConfirmDialog, PromptDialog } from '../../../components/dialog';
import { MembersPanel } from '../../../components/members-panel';
import { useTRPC, type RouterInputs, type RouterOutputs } from '../../../lib/trpc';
import { toast } from '../../../lib/toast';
import { downloadJson, formatRelative, stateClass } from '../../../lib/format';

type Project = RouterOutputs['projects']['list'][number];
/** Checked by the manager (every problem reported with its path); typed loosely here. */
type ImportSpec = RouterInputs['projects']['import']['spec'];

function Projects({ workspaceId }: { workspaceId: string }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const router = useRouter();
  const { roleIn } = useSession();
  const role = roleIn(workspaceId);
  const editable = canEdit(role);
  const workspaces = useQuery(trpc.workspaces.list.queryOptions());
  const workspace = workspaces.data?.find((w) => w.id === workspaceId);
  const list = useQuery(trpc.projects.list.queryOptions({ workspaceId }));
  const [creating, setCreating] = useState(false);
  const [renaming, setRenaming] = useState<Project | null>(null);
  const [cloning, setCloning] = useState<Project | null>(null);
  const [deleting, setDeleting] = useState<Project | null>(null);
  const [importing, setImporting] = useState<{ spec: Record<string, unknown>; name: string } | null>(null);
  const [showMembers, setShowMembers] = useState(false);
  const fileRef = useRef<HTMLInputElement>(null);
  const invalidate = () => qc.invalidateQueries({ queryKey: trpc.projects.list.queryKey({ workspaceId }) });

  const create = useMutation(
    trpc.projects.create.mutationOptions({
      onSuccess: async (p) => {
        setCreating(false);
        toast.success(`Project "${p.name}" created`);
        await invalidate();
        router.push(`/p/${p.id}`);
      },
    }),
  );
  const update = useMutation(
    trpc.projects.update.mutationOptions({
      onSuccess: async () => {
        setRenaming(null);
        toast.success('Project renamed');
        await invalidate();
      },
    }),
  );
  const clone = useMutation(
    trpc.projects.clone.mutationOptions({
      onSuccess: async (p) => {
        setCloning(null);
        toast.success(`Cloned as "${p.name}"`);
        await invalidate();
      },
    }),
  );
  const remove = useMutation(
    trpc.projects.delete.mutationOptions({
      onSuccess: async () => {
        setDeleting(null);
        toast.success('Project deleted');
        await invalidate();
      },
    }),
  );
  const importProject = useMutation(
    trpc.projects.import.mutationOptions({
      meta: { errorPrefix: 'Import failed' },
      onSuccess: async (p) => {
        setImporting(null);
        toast.success(`Imported "${p.name}"`);
        await invalidate();
      },
    }),
  );

  const exportProject = async (p: Project) => {
    try {
      const spec = await qc.fetchQuery(trpc.projects.export.queryOptions({ id: p.id }, { staleTime: 0 }));
      downloadJson(`${p.name.replace(/[^A-Za-z0-9._-]+/g, '_')}.production.json`, spec);
    } catch (e) {
      toast.error(e, 'Export failed');
    }
  };

  const onFile = async (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    e.target.value = '';
    if (!file) return;
    try {
      const parsed: unknown = JSON.parse(await file.text());
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('the file is not a production JSON object');
      const spec = parsed as Record<string, unknown>;
      const name = typeof spec.name === 'string' ? spec.name : file.name.replace(/(\.production)?\.json$/i, '');
      setImporting({ spec, name });
    } catch (err) {
      toast.error(err, `Cannot read ${file.name}`);
    }
  };

  return (
    <div className="page">
      <title>{`${workspace?.name ?? 'Workspace'} · HIE`}</title>
      <div className="page-header">
        <div className="titles">
          <div className="breadcrumbs">
            <Link href="/">Workspaces</Link> /
          </div>
          <h1>{workspace?.name ?? 'Projects'}</h1>
          <p>
            {workspace?.description || 'Each project is one production: items, connections and settings, versioned on every save.'}{' '}
            {role ? <span className={`badge ${role}`}>your role: {role}</span> : null}
          </p>
        </div>
        <Link className="button" href={`/w/${workspaceId}/environments`} data-testid="environments-link">
          Environments
        </Link>
        {role === 'admin' ? (
          <button type="button" onClick={() => setShowMembers((s) => !s)} aria-expanded={showMembers}>
            Members
          </button>
        ) : null}
        {editable ? (
          <>
            <button type="button" onClick={() => fileRef.current?.click()} data-testid="import-project">
              Import JSON…
            </button>
            <input ref={fileRef} type="file" accept=".json,application/json" hidden onChange={onFile} data-testid="import-file" />
            <button type="button" className="primary" onClick={() => setCreating(true)} data-testid="create-project">
              + New project
            </button>
          </>
        ) : null}
      </div>

      {showMembers ? (
        <section className="card" style={{ marginBottom: 16 }} aria-label="Members">
          <h2>Members</h2>
          <MembersPanel workspaceId={workspaceId} editable={role === 'admin'} />
        </section>
      ) : null}

      {list.isPending ? <Loading /> : null}
      {list.isError ? <ErrorBanner error={list.error} onRetry={() => list.refetch()} /> : null}
      {list.data && list.data.length === 0 ? (
        <div className="empty">
          <strong>No projects yet — create one</strong>
          A project is one production: drag services, processes and operations onto a canvas and wire them up.
          {editable ? (
            <div className="row">
              <button type="button" className="primary" onClick={() => setCreating(true)}>
                Create a project
              </button>
              <button type="button" onClick={() => fileRef.current?.click()}>
                Import a production JSON
              </button>
            </div>
          ) : (
            <div className="muted small" style={{ marginTop: 8 }}>
              You have read-only access to this workspace.
            </div>
          )}
        </div>
      ) : null}
      {list.data && list.data.length > 0 ? (
        <div className="table-wrap">
          <table className="data" data-testid="project-list">
            <thead>
              <tr>
                <th>Project</th>
                <th>Version</th>
                <th>Deployment</th>
                <th>Updated</th>
                <th className="num">Actions</th>
              </tr>
            </thead>
            <tbody>
              {list.data.map((p) => (
                <tr key={p.id} data-testid={`project-${p.name}`}>
                  <td>
                    <Link href={`/p/${p.id}`}>
                      <strong>{p.name}</strong>
                    </Link>
                    {p.description ? <div className="muted small">{p.description}</div> : null}
                  </td>
                  <td>v{p.currentVersion}</td>
                  <td>
                    {p.deployment ? (
                      <span className={`badge ${stateClass(p.deployment.state)}`}>
                        v{p.deployment.version} {p.deployment.state}
                      </span>
                    ) : (
                      <span className="muted">not deployed</span>
                    )}
                  </td>
                  <td className="muted">{formatRelative(p.updatedAt)}</td>
                  <td className="num">
                    <div className="row" style={{ justifyContent: 'flex-end' }}>
                      <Link className="btn small primary" href={`/p/${p.id}`}>
                        Design
                      </Link>
                      <Link className="btn small" href={`/p/${p.id}/dashboard`}>
                        Dashboard
                      </Link>
                      <Link className="btn small" href={`/p/${p.id}/messages`}>
                        Messages
                      </Link>
                      <button type="button" className="small" onClick={() => exportProject(p)} aria-label={`Export ${p.name}`}>
                        Export
                      </button>
                      {editable ? (
                        <>
                          <button type="button" className="small" onClick={() => setRenaming(p)} aria-label={`Rename ${p.name}`}>
                            Rename
                          </button>
                          <button type="button" className="small" onClick={() => setCloning(p)} aria-label={`Clone ${p.name}`}>
                            Clone
                          </button>
                          <button type="button" className="small danger" onClick={() => setDeleting(p)} aria-label={`Delete ${p.name}`}>
                            Delete
                          </button>
                        </>
                      ) : null}
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}

      <PromptDialog
        open={creating}
        title="New project"
        submitLabel="Create and open"
        busy={create.isPending}
        fields={[
          { name: 'name', label: 'Name', required: true, placeholder: 'e.g. ADT feed', help: 'Letters, digits, spaces, "-", "_" and "."' },
          { name: 'description', label: 'Description', multiline: true },
        ]}
        onClose={() => setCreating(false)}
        onSubmit={(v) => create.mutate({ workspaceId, name: v.name!, description: v.description || undefined })}
      />
      <PromptDialog
        open={!!renaming}
        title="Rename project"
        submitLabel="Save"
        busy={update.isPending}
        fields={[
          { name: 'name', label: 'Name', required: true, initial: renaming?.name },
          { name: 'description', label: 'Description', multiline: true, initial: renaming?.description ?? '' },
        ]}
        onClose={() => setRenaming(null)}
        onSubmit={(v) => renaming && update.mutate({ id: renaming.id, name: v.name, description: v.description })}
      />
      <PromptDialog
        open={!!cloning}
        title={`Clone "${cloning?.name ?? ''}"`}
        submitLabel="Clone"
        busy={clone.isPending}
        fields={[{ name: 'name', label: 'Name of the copy', required: true, initial: cloning ? `${cloning.name} copy` : '' }]}
        onClose={() => setCloning(null)}
        onSubmit={(v) => cloning && clone.mutate({ id: cloning.id, name: v.name! })}
      />
      <PromptDialog
        open={!!importing}
        title="Import a production"
        submitLabel="Import"
        busy={importProject.isPending}
        fields={[{ name: 'name', label: 'Project name', required: true, initial: importing?.name }]}
        onClose={() => setImporting(null)}
        onSubmit={(v) => importing && importProject.mutate({ workspaceId, name: v.name, spec: importing.spec as ImportSpec })}
      >
        <p className="muted small" style={{ margin: 0 }}>
          {Array.isArray(importing?.spec.items) ? importing.spec.items.length : 0} items,{' '}
          {Array.isArray(importing?.spec.connections) ? importing.spec.connections.length : 0} connections. The file is validated
          by the manager; problems are listed if any.
        </p>
      </PromptDialog>
      <ConfirmDialog
        open={!!deleting}
        title="Delete project?"
        danger
        confirmLabel="Delete project"
        busy={remove.isPending}
        message={
          <p>
            Delete <strong>{deleting?.name}</strong> with all its versions? A running production must be stopped first. Stored
            messages are kept until their retention ends.
          </p>
        }
        onClose={() => setDeleting(null)}
        onConfirm={() => deleting && remove.mutate({ id: deleting.id })}
      />
    </div>
  );
}

export default function WorkspacePage() {
  const { workspaceId } = useParams<{ workspaceId: string }>();
  return (
    <AppShell workspaceId={workspaceId}>
      <Projects workspaceId={workspaceId} />
    </AppShell>
  );
}
