'use client';
import { useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useTRPC, type RouterOutputs } from '../lib/trpc';
import { toast } from '../lib/toast';
import { stateClass } from '../lib/format';
import type { LiveMode } from '../lib/live';
import { ConfirmDialog } from '../components/dialog';
import { EnvironmentPicker } from './environment-picker';

type Status = RouterOutputs['production']['status'];

interface Props {
  projectId: string;
  /** The saved version in the editor. */
  version: number;
  dirty: boolean;
  readOnly: boolean;
  status: Status | undefined;
  liveMode: LiveMode;
  onSaveThen: (after: (version: number) => void) => void;
}

/** Deploy / Start / Stop / Reload, with the desired and the running version side by side. */
export function ProductionControls({ projectId, version, dirty, readOnly, status, liveMode, onSaveThen }: Props) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [askDeploy, setAskDeploy] = useState(false);
  const [environmentId, setEnvironmentId] = useState('');
  const target = environmentId || status?.desired?.environmentId || undefined;
  const deployTo = (v: number) => deploy.mutate({ projectId, version: v, ...(target ? { environment: target } : {}) });
  const refresh = () => qc.invalidateQueries({ queryKey: trpc.production.status.queryKey({ projectId }) });
  const ok = (what: string) => ({
    onSuccess: () => {
      toast.success(what);
      void refresh();
      void qc.invalidateQueries({ queryKey: trpc.projects.list.queryKey() });
    },
  });
  const deploy = useMutation(trpc.production.deploy.mutationOptions({ ...ok('Deploy requested'), meta: { errorPrefix: 'Deploy failed' } }));
  const start = useMutation(trpc.production.start.mutationOptions(ok('Start requested')));
  const stop = useMutation(trpc.production.stop.mutationOptions(ok('Stop requested')));
  const reload = useMutation(trpc.production.reload.mutationOptions({ ...ok('Reload requested'), meta: { errorPrefix: 'Reload failed' } }));
  const busy = deploy.isPending || start.isPending || stop.isPending || reload.isPending;
  const desired = status?.desired ?? undefined;
  const running = status?.running ?? undefined;
  const deployed = !!desired;
  const isRunning = desired?.state === 'running';
  const stale = deployed && running && running.version !== version;

  return (
    <div className="row" style={{ gap: 6 }}>
      <span className="small" data-testid="deploy-status" title="Desired: what was deployed. Running: what the engine reports.">
        <span className="muted">Desired</span>{' '}
        {desired ? (
          <span className={`badge ${stateClass(desired.state)}`}>
            v{desired.version} {desired.state}
          </span>
        ) : (
          <span className="badge">not deployed</span>
        )}{' '}
        <span className="muted">Running</span>{' '}
        {running ? (
          <span
            className={`badge ${stateClass(running.state)}`}
            data-testid="running-state"
            title={running.problems.map((p) => `${p.item}: ${p.problem}${p.error ? ` (${p.error})` : ''}`).join('\n') || undefined}
          >
            v{running.version} {running.state}
            {running.problems.length > 0 ? ` · ${running.problems.map((p) => `${p.item} ${p.problem.replace('_', ' ')}`).join(', ')}` : ''}
          </span>
        ) : (
          <span className="badge" data-testid="running-state">
            —
          </span>
        )}
      </span>
      {running?.error ? (
        // Why it is not running, in words (e.g. the listener's port is taken): the code alone says little.
        <span
          className="badge failed"
          role="alert"
          title={`${running.error.code}: ${running.error.message}`}
          data-testid="running-error"
          style={{ maxWidth: 480, overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' }}
        >
          {running.error.code}: {running.error.message}
        </span>
      ) : null}
      {running ? (
        <span className={`badge ${liveMode === 'live' ? 'ok' : liveMode === 'polling' ? 'warning' : ''}`} title="Live figures on the nodes">
          {liveMode === 'live' ? '● live' : liveMode === 'polling' ? 'polling' : 'connecting…'}
        </span>
      ) : null}
      {!readOnly ? (
        <>
          <EnvironmentPicker value={environmentId} current={status?.desired?.environmentId} onChange={setEnvironmentId} disabled={busy} />
          <button type="button" className="small primary" disabled={busy || version < 1} onClick={() => (dirty ? setAskDeploy(true) : deployTo(version))}>
            Deploy v{version}
          </button>
          <button type="button" className="small" disabled={busy || !deployed || isRunning} onClick={() => start.mutate({ projectId })}>
            Start
          </button>
          <button type="button" className="small" disabled={busy || !deployed || !isRunning} onClick={() => stop.mutate({ projectId })}>
            Stop
          </button>
          <button
            type="button"
            className="small"
            disabled={busy || !deployed}
            onClick={() => reload.mutate({ projectId })}
            title={stale ? `Running v${running?.version}; reload to run v${version} (only changed items restart)` : 'Hot-reload the current version'}
          >
            Reload{stale ? ` → v${version}` : ''}
          </button>
        </>
      ) : null}
      <ConfirmDialog
        open={askDeploy}
        title="Unsaved changes"
        confirmLabel="Save, then deploy"
        message={
          <p>
            Deploy runs a saved version. Save your changes as a new version and deploy it? (Cancel to keep editing; the saved v{version} stays as
            it is.)
          </p>
        }
        onClose={() => setAskDeploy(false)}
        onConfirm={() => {
          setAskDeploy(false);
          onSaveThen(deployTo);
        }}
      />
    </div>
  );
}
