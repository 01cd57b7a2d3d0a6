'use client';
import { useId, useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTRPC, type RouterOutputs } from '../lib/trpc';
import { toast } from '../lib/toast';
import { formatDateTime } from '../lib/format';
import { ErrorBanner, Loading } from './app-shell';

type Environment = RouterOutputs['environments']['list'][number];

/** Comma- or space-separated hosts as typed, as the API takes them (it validates each). */
function parseHosts(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((h) => h.trim())
    .filter((h) => h !== '');
}

/**
 * A workspace's environments (dev, test, prod) and their variables: what `${NAME}` and
 * `${secret:NAME}` in item settings resolve to when a version is deployed there. Secrets are
 * write-only: shown as ••• with "Set new value"; each lists the hosts it may be sent to (set with
 * its value: a deploy sending it anywhere else is refused).
 */
export function EnvironmentsPanel({ workspaceId, editable }: { workspaceId: string; editable: boolean }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const list = useQuery(trpc.environments.list.queryOptions({ workspaceId }));
  const [name, setName] = useState('');
  const uid = useId();
  const invalidate = () => qc.invalidateQueries({ queryKey: trpc.environments.list.queryKey({ workspaceId }) });
  const create = useMutation(
    trpc.environments.create.mutationOptions({
      onSuccess: async (e) => {
        toast.success(`Environment "${e.name}" created`);
        setName('');
        await invalidate();
      },
    }),
  );
  const onCreate = (e: FormEvent) => {
    e.preventDefault();
    if (name.trim()) create.mutate({ workspaceId, name: name.trim() });
  };
  return (
    <div className="stack" data-testid="environments-panel">
      {list.isPending ? <Loading /> : null}
      {list.isError ? <ErrorBanner error={list.error} onRetry={() => list.refetch()} /> : null}
      {list.data?.length === 0 ? (
        <div className="empty">
          <strong>No environments yet</strong>
          {editable ? 'Create dev, test and prod below, then give each its values.' : 'A workspace admin creates them.'}
        </div>
      ) : null}
      {(list.data ?? []).map((env) => (
        <EnvironmentCard key={env.id} env={env} editable={editable} onChanged={invalidate} />
      ))}
      {editable ? (
        <form className="row card" onSubmit={onCreate} aria-label="New environment">
          <div className="field">
            <label htmlFor={`${uid}-n`}>New environment</label>
            <input id={`${uid}-n`} value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. prod" data-testid="env-name" />
          </div>
          <button type="submit" className="primary" style={{ alignSelf: 'flex-end' }} disabled={create.isPending || !name.trim()} data-testid="env-create">
            Create
          </button>
        </form>
      ) : null}
    </div>
  );
}

function EnvironmentCard({ env, editable, onChanged }: { env: Environment; editable: boolean; onChanged: () => Promise<unknown> }) {
  const trpc = useTRPC();
  const uid = useId();
  const [varName, setVarName] = useState('');
  const [value, setValue] = useState('');
  const [secret, setSecret] = useState(false);
  const [hosts, setHosts] = useState('');
  const [renewing, setRenewing] = useState<string | null>(null);
  const [renewValue, setRenewValue] = useState('');
  const [renewHosts, setRenewHosts] = useState('');
  const setVariable = useMutation(
    trpc.environments.setVariable.mutationOptions({
      onSuccess: async (_d, v) => {
        toast.success(`${v.secret ? 'Secret' : 'Variable'} ${v.name} set in ${env.name}`);
        setVarName('');
        setValue('');
        setSecret(false);
        setHosts('');
        setRenewing(null);
        setRenewValue('');
        setRenewHosts('');
        await onChanged();
      },
    }),
  );
  const deleteVariable = useMutation(trpc.environments.deleteVariable.mutationOptions({ onSuccess: () => onChanged() }));
  const remove = useMutation(
    trpc.environments.delete.mutationOptions({
      onSuccess: async () => {
        toast.success(`Environment "${env.name}" deleted`);
        await onChanged();
      },
    }),
  );
  const onAdd = (e: FormEvent) => {
    e.preventDefault();
    if (varName.trim()) setVariable.mutate({ environmentId: env.id, name: varName.trim(), value, secret, ...(secret ? { hosts: parseHosts(hosts) } : {}) });
  };
  return (
    <section className="card" aria-label={`Environment ${env.name}`} data-testid={`env-${env.name}`}>
      <div className="row" style={{ justifyContent: 'space-between' }}>
        <h2 style={{ margin: 0 }}>{env.name}</h2>
        <span className="small muted" data-testid={`env-${env.name}-runs`}>
          {env.runs.length === 0
            ? 'Nothing deployed here'
            : env.runs.map((r) => `${r.projectName ?? r.projectId} v${r.version} ${r.state}`).join(' · ')}
        </span>
        {editable ? (
          <button type="button" className="small danger" onClick={() => remove.mutate({ id: env.id })} aria-label={`Delete environment ${env.name}`}>
            Delete
          </button>
        ) : null}
      </div>
      {env.variables.length === 0 ? (
        <p className="muted small">No variables. Settings use them as {'${NAME}'} or, for secrets, {'${secret:NAME}'}.</p>
      ) : (
        <div className="table-wrap">
          <table className="data">
            <thead>
              <tr>
                <th>Variable</th>
                <th>Value</th>
                <th>Updated</th>
                {editable ? <th className="num">Actions</th> : null}
              </tr>
            </thead>
            <tbody>
              {env.variables.map((v) => {
                const key = `${v.secret ? 'secret:' : ''}${v.name}`;
                return (
                  <tr key={key} data-testid={`var-${env.name}-${key}`}>
                    <td>
                      <code>{`\${${key}}`}</code>
                    </td>
                    <td>
                      {v.secret ? (
                        renewing === key ? (
                          <form
                            className="row"
                            onSubmit={(e) => {
                              e.preventDefault();
                              setVariable.mutate({ environmentId: env.id, name: v.name, value: renewValue, secret: true, hosts: parseHosts(renewHosts) });
                            }}
                          >
                            <input type="password" autoComplete="new-password" aria-label={`New value of ${v.name}`} value={renewValue} onChange={(e) => setRenewValue(e.target.value)} />
                            <input aria-label={`Hosts of ${v.name}`} placeholder="lab.example.org, *.example.org" value={renewHosts} onChange={(e) => setRenewHosts(e.target.value)} />
                            <button type="submit" className="small primary">
                              Save
                            </button>
                            <button type="button" className="small" onClick={() => setRenewing(null)}>
                              Cancel
                            </button>
                          </form>
                        ) : (
                          <span className="muted" title="Secrets are write-only">
                            •••{' '}
                            {editable ? (
                              <button
                                type="button"
                                className="small ghost"
                                onClick={() => {
                                  setRenewing(key);
                                  setRenewHosts(v.hosts.join(', '));
                                }}
                              >
                                Set new value
                              </button>
                            ) : null}
                          </span>
                        )
                      ) : (
                        <code>{v.value}</code>
                      )}
                      {v.secret ? (
                        <div className="small muted" data-testid={`hosts-${env.name}-${v.name}`} title="Hosts are set with the value; a deploy sending the secret anywhere else is refused">
                          {v.hosts.length > 0 ? `May be sent to: ${v.hosts.join(', ')}` : 'May be sent to no host yet: set a new value with its hosts'}
                        </div>
                      ) : null}
                    </td>
                    <td className="muted small">{formatDateTime(v.updatedAt)}</td>
                    {editable ? (
                      <td className="num">
                        <button
                          type="button"
                          className="small danger"
                          aria-label={`Remove ${key} from ${env.name}`}
                          onClick={() => deleteVariable.mutate({ environmentId: env.id, name: v.name, secret: v.secret })}
                        >
                          Remove
                        </button>
                      </td>
                    ) : null}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {editable ? (
        <form className="row" onSubmit={onAdd} aria-label={`Add a variable to ${env.name}`}>
          <div className="field">
            <label htmlFor={`${uid}-n`}>Name</label>
            <input id={`${uid}-n`} value={varName} onChange={(e) => setVarName(e.target.value)} placeholder="DOWNSTREAM_HOST" />
          </div>
          <div className="field">
            <label htmlFor={`${uid}-v`}>Value</label>
            <input id={`${uid}-v`} type={secret ? 'password' : 'text'} autoComplete="off" value={value} onChange={(e) => setValue(e.target.value)} />
          </div>
          <label className="row small" style={{ alignSelf: 'flex-end', gap: 4 }}>
            <input type="checkbox" checked={secret} onChange={(e) => setSecret(e.target.checked)} /> secret
          </label>
          {secret ? (
            <div className="field">
              <label htmlFor={`${uid}-h`}>Hosts it may be sent to</label>
              <input id={`${uid}-h`} value={hosts} onChange={(e) => setHosts(e.target.value)} placeholder="lab.example.org, *.example.org" />
            </div>
          ) : null}
          <button type="submit" style={{ alignSelf: 'flex-end' }} disabled={setVariable.isPending || !varName.trim()}>
            Set
          </button>
        </form>
      ) : null}
    </section>
  );
}
