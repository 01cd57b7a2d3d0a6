'use client';
import Link from 'next/link';
import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { AppShell, ErrorBanner, Loading } from '../components/app-shell';
import { ConfirmDialog, PromptDialog } from '../components/dialog';
import { useTRPC, type RouterOutputs } from '../lib/trpc';
import { toast } from '../lib/toast';

type Workspace = RouterOutputs['workspaces']['list'][number];

function Workspaces() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const list = useQuery(trpc.workspaces.list.queryOptions());
  const [creating, setCreating] = useState(false);
  const [renaming, setRenaming] = useState<Workspace | null>(null);
  const [deleting, setDeleting] = useState<Workspace | null>(null);
  const invalidate = () =>
    Promise.all([qc.invalidateQueries({ queryKey: trpc.workspaces.list.queryKey() }), qc.invalidateQueries({ queryKey: trpc.auth.me.queryKey() })]);

  const create = useMutation(
    trpc.workspaces.create.mutationOptions({
      onSuccess: async (ws) => {
        setCreating(false);
        toast.success(`Workspace "${ws.name}" created`);
        await invalidate();
      },
    }),
  );
  const update = useMutation(
    trpc.workspaces.update.mutationOptions({
      onSuccess: async () => {
        setRenaming(null);
        toast.success('Workspace updated');
        await invalidate();
      },
    }),
  );
  const remove = useMutation(
    trpc.workspaces.delete.mutationOptions({
      onSuccess: async () => {
        setDeleting(null);
        toast.success('Workspace deleted');
        await invalidate();
      },
    }),
  );

  return (
    <div className="page">
      <title>Workspaces · HIE</title>
      <div className="page-header">
        <div className="titles">
          <h1>Workspaces</h1>
          <p>A workspace groups the projects of a trust or department; roles are granted per workspace.</p>
        </div>
        <button type="button" className="primary" onClick={() => setCreating(true)} data-testid="create-workspace">
          + New workspace
        </button>
      </div>
      {list.isPending ? <Loading /> : null}
      {list.isError ? <ErrorBanner error={list.error} onRetry={() => list.refetch()} /> : null}
      {list.data && list.data.length === 0 ? (
        <div className="empty">
          <strong>No workspaces yet — create one</strong>
          A workspace holds projects (productions) and decides who may edit them.
          <div className="row">
            <button type="button" className="primary" onClick={() => setCreating(true)}>
              Create a workspace
            </button>
          </div>
        </div>
      ) : null}
      {list.data && list.data.length > 0 ? (
        <div className="grid-cards" data-testid="workspace-list">
          {list.data.map((w) => (
            <article key={w.id} className="card entity-card" data-testid={`workspace-${w.name}`}>
              <div className="row nowrap">
                <Link href={`/w/${w.id}`} className="title grow">
                  {w.name}
                </Link>
                <span className={`badge ${w.role}`}>{w.role}</span>
              </div>
              <div className="muted small">{w.description || 'No description'}</div>
              <div className="actions">
                <Link className="btn small primary" href={`/w/${w.id}`}>
                  Open
                </Link>
                {w.role === 'admin' ? (
                  <>
                    <button type="button" className="small" onClick={() => setRenaming(w)}>
                      Rename
                    </button>
                    <button type="button" className="small danger" onClick={() => setDeleting(w)}>
                      Delete
                    </button>
                  </>
                ) : null}
              </div>
            </article>
          ))}
        </div>
      ) : null}

      <PromptDialog
        open={creating}
        title="New workspace"
        submitLabel="Create"
        busy={create.isPending}
        fields={[
          { name: 'name', label: 'Name', required: true, placeholder: 'e.g. St Mary’s Radiology' },
          { name: 'description', label: 'Description', multiline: true },
        ]}
        onClose={() => setCreating(false)}
        onSubmit={(v) => create.mutate({ name: v.name!, description: v.description || undefined })}
      />
      <PromptDialog
        open={!!renaming}
        title="Rename workspace"
        submitLabel="Save"
        busy={update.isPending}
        fields={[
          { name: 'name', label: 'Name', required: true, initial: renaming?.name },
          { name: 'description', label: 'Description', multiline: true, initial: renaming?.description ?? '' },
        ]}
        onClose={() => setRenaming(null)}
        onSubmit={(v) => renaming && update.mutate({ id: renaming.id, name: v.name, description: v.description })}
      />
      <ConfirmDialog
        open={!!deleting}
        title="Delete workspace?"
        danger
        confirmLabel="Delete workspace"
        busy={remove.isPending}
        message={
          <p>
            Delete <strong>{deleting?.name}</strong> and every project in it? Running productions must be stopped first. This
            cannot be undone.
          </p>
        }
        onClose={() => setDeleting(null)}
        onConfirm={() => deleting && remove.mutate({ id: deleting.id })}
      />
    </div>
  );
}

export default function HomePage() {
  return (
    <AppShell>
      <Workspaces />
    </AppShell>
  );
}
