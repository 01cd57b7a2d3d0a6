'use client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { ErrorBanner, Loading } from '../../../../components/app-shell';
import { useProject } from '../../../../components/project-context';
import { formatDateTime, formatMs } from '../../../../lib/format';
import { toast } from '../../../../lib/toast';
import { useTRPC, type RouterOutputs } from '../../../../lib/trpc';

type Job = RouterOutputs['jobs']['list']['jobs'][number];

const KIND_LABEL: Record<Job['kind'], string> = { retry: 'Retry', retention: 'Retention purge', poll: 'Scheduled poll' };
const STATE_ORDER: Job['state'][] = ['failed', 'active', 'waiting', 'delayed', 'scheduled'];

/** Cluster jobs of the project (issue 11 point 4): delayed retries, scheduled purges and polls, failed jobs. */
export default function JobsPage() {
  const { projectId, project, canEdit } = useProject();
  const trpc = useTRPC();
  const qc = useQueryClient();
  const list = useQuery(trpc.jobs.list.queryOptions({ projectId }, { refetchInterval: 5000 }));
  const refresh = () => void qc.invalidateQueries({ queryKey: trpc.jobs.list.queryKey({ projectId }) });
  const retry = useMutation(
    trpc.jobs.retry.mutationOptions({
      onSuccess: () => {
        toast.success('The job runs again now');
        refresh();
      },
    }),
  );
  const remove = useMutation(
    trpc.jobs.remove.mutationOptions({
      onSuccess: () => {
        toast.success('Job removed');
        refresh();
      },
    }),
  );
  const jobs = [...(list.data?.jobs ?? [])].sort((a, b) => STATE_ORDER.indexOf(a.state) - STATE_ORDER.indexOf(b.state));

  return (
    <div className="page wide">
      <title>{`${project.name} · Jobs · HIE`}</title>
      <div className="page-header">
        <div className="titles">
          <h1>Jobs</h1>
          <p>Time-based work of this project in the cluster: retries waiting for their backoff, scheduled purges and polls, and jobs that failed.</p>
        </div>
        <div className="actions">
          <button type="button" className="ghost" onClick={() => void list.refetch()}>
            ↻ Refresh
          </button>
        </div>
      </div>
      {list.isPending ? <Loading /> : null}
      {list.isError ? <ErrorBanner error={list.error} onRetry={() => list.refetch()} /> : null}
      {list.data && !list.data.enabled ? (
        <div className="empty" data-testid="jobs-disabled">
          <strong>Jobs run in cluster mode</strong>
          Set DATABASE_URL, REDIS_URL and ETCD_ENDPOINTS: retries then outlive a node and purges run once per cluster. On a single node they run in memory.
        </div>
      ) : null}
      {list.data?.enabled && jobs.length === 0 ? (
        <div className="empty">
          <strong>No jobs</strong>
          Nothing is waiting for a retry and nothing has failed.
        </div>
      ) : null}
      {jobs.length > 0 ? (
        <div className="table-wrap">
          <table className="data" data-testid="jobs-table">
            <thead>
              <tr>
                <th>State</th>
                <th>Job</th>
                <th>Item</th>
                <th>Message</th>
                <th>Runs</th>
                <th>Next run</th>
                <th>Reason</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {jobs.map((j) => (
                <tr key={j.id} data-testid="job-row" data-job-id={j.id}>
                  <td>
                    <span className={`badge ${j.state}`}>{j.state}</span>
                  </td>
                  <td>
                    {KIND_LABEL[j.kind]}
                    {j.everyMs ? <span className="muted small"> · every {formatMs(j.everyMs)}</span> : null}
                    {j.attempt ? <span className="muted small"> · attempt {j.attempt}</span> : null}
                  </td>
                  <td>{j.item ?? '—'}</td>
                  <td className="mono nowrap">{j.messageId ? `${j.messageId.slice(0, 8)}…` : '—'}</td>
                  <td>{j.attemptsMade ?? '—'}</td>
                  <td className="small nowrap">{j.runAt ? formatDateTime(j.runAt) : '—'}</td>
                  <td className="small">{j.failedReason ?? ''}</td>
                  <td className="nowrap">
                    {canEdit && (j.state === 'failed' || j.state === 'delayed') ? (
                      <button type="button" className="small" disabled={retry.isPending} onClick={() => retry.mutate({ projectId, id: j.id })}>
                        {j.state === 'failed' ? 'Retry' : 'Run now'}
                      </button>
                    ) : null}
                    {canEdit && j.state !== 'active' ? (
                      <button
                        type="button"
                        className="small ghost"
                        disabled={remove.isPending}
                        onClick={() => {
                          if (window.confirm(j.state === 'scheduled' ? 'Remove this schedule?' : 'Remove this job? A removed retry is not tried again.')) remove.mutate({ projectId, id: j.id });
                        }}
                      >
                        Remove
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </div>
  );
}
