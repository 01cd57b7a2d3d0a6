'use client';
import { useQuery } from '@tanstack/react-query';
import { useProject } from '../components/project-context';
import { useTRPC } from '../lib/trpc';

/**
 * Where Deploy sends the version: its `${…}` references resolve with the chosen environment's
 * values. `value` is an environment id ('' = the one it runs in now, or none).
 */
export function EnvironmentPicker({ value, current, onChange, disabled }: { value: string; current: string | null | undefined; onChange: (id: string) => void; disabled?: boolean }) {
  const trpc = useTRPC();
  const { project } = useProject();
  const envs = useQuery(trpc.environments.list.queryOptions({ workspaceId: project.workspaceId }, { staleTime: 10_000 }));
  if (!envs.data || envs.data.length === 0) return null;
  const runningIn = envs.data.find((e) => e.id === current);
  return (
    <label className="row small" style={{ gap: 4 }} title="The environment whose variables the deployed version uses">
      <span className="muted">to</span>
      <select aria-label="Deploy to environment" data-testid="deploy-environment" value={value || current || ''} onChange={(e) => onChange(e.target.value)} disabled={disabled}>
        {!runningIn ? <option value="">no environment</option> : null}
        {envs.data.map((e) => (
          <option key={e.id} value={e.id}>
            {e.name}
            {e.id === current ? ' (running)' : ''}
          </option>
        ))}
      </select>
    </label>
  );
}
