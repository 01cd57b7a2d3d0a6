'use client';
import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { alertConditionLabels, type AlertConditionKind } from '@hie/config';
import { ErrorBanner, Loading } from '../../../../components/app-shell';
import { Dialog } from '../../../../components/dialog';
import { useProject } from '../../../../components/project-context';
import { apiError } from '../../../../lib/errors';
import { formatDateTime } from '../../../../lib/format';
import { toast } from '../../../../lib/toast';
import { useTRPC, type RouterInputs, type RouterOutputs } from '../../../../lib/trpc';

type Rule = RouterOutputs['alerts']['list'][number];
type RuleInput = RouterInputs['alerts']['create'];
type Condition = RuleInput['condition'];

/** Form state: every field as text, parsed on submit (the server validates again with the shared schema). */
interface Form {
  id?: string;
  name: string;
  kind: AlertConditionKind;
  item: string;
  threshold: string;
  minutes: string;
  windowOn: boolean;
  from: string;
  to: string;
  days: number[];
  timeZone: string;
  webhookUrl: string;
  emailOn: boolean;
  smtpHost: string;
  smtpPort: string;
  smtpSecure: boolean;
  smtpUser: string;
  smtpPassword: string;
  hasPassword: boolean;
  from_: string;
  to_: string;
  repeatMinutes: string;
  enabled: boolean;
}

const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const KINDS = Object.keys(alertConditionLabels) as AlertConditionKind[];
/** What the threshold and minutes fields mean for each condition (absent: not asked). */
const FIELDS: Record<AlertConditionKind, { threshold?: string; minutes?: string; item: 'optional' | 'required' | 'none' }> = {
  item_down: { item: 'optional' },
  error_rate: { threshold: 'Errors per minute over', item: 'optional' },
  queue_depth: { threshold: 'Queue depth over', minutes: 'For at least (minutes)', item: 'optional' },
  silence: { minutes: 'No message for (minutes)', item: 'required' },
  suspended: { threshold: 'Suspended messages over', item: 'optional' },
  cert_expiry: { threshold: 'Expires within (days)', item: 'optional' },
  store_backlog: { threshold: 'Entries waiting over', item: 'none' },
};

function emptyForm(): Form {
  return {
    name: '',
    kind: 'item_down',
    item: '',
    threshold: '',
    minutes: '',
    windowOn: false,
    from: '07:00',
    to: '19:00',
    days: [1, 2, 3, 4, 5],
    timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC',
    webhookUrl: '',
    emailOn: false,
    smtpHost: '',
    smtpPort: '587',
    smtpSecure: false,
    smtpUser: '',
    smtpPassword: '',
    hasPassword: false,
    from_: '',
    to_: '',
    repeatMinutes: '60',
    enabled: true,
  };
}

function formOf(rule: Rule): Form {
  const f = emptyForm();
  const c = rule.condition as Record<string, unknown> & { kind: AlertConditionKind };
  const num = (v: unknown) => (typeof v === 'number' ? String(v) : '');
  const window = c.window as { from: string; to: string; days: number[]; timeZone: string } | undefined;
  const webhook = rule.channels.find((ch) => ch.kind === 'webhook');
  const email = rule.channels.find((ch) => ch.kind === 'email');
  return {
    ...f,
    id: rule.id,
    name: rule.name,
    kind: c.kind,
    item: typeof c.item === 'string' ? c.item : '',
    threshold: num(c.perMinute ?? c.over ?? c.days),
    minutes: num(c.forMinutes ?? c.minutes),
    ...(window ? { windowOn: true, from: window.from, to: window.to, days: window.days, timeZone: window.timeZone } : {}),
    webhookUrl: webhook?.kind === 'webhook' ? webhook.url : '',
    ...(email?.kind === 'email'
      ? { emailOn: true, smtpHost: email.host, smtpPort: String(email.port), smtpSecure: email.secure, smtpUser: email.user ?? '', hasPassword: email.hasPassword, from_: email.from, to_: email.to.join(', ') }
      : {}),
    repeatMinutes: String(rule.repeatMinutes),
    enabled: rule.enabled,
  };
}

function conditionOf(f: Form): Condition {
  const item = f.item.trim() || undefined;
  const n = Number(f.threshold);
  const m = Number(f.minutes);
  switch (f.kind) {
    case 'item_down':
      return { kind: 'item_down', item };
    case 'error_rate':
      return { kind: 'error_rate', item, perMinute: n };
    case 'queue_depth':
      return { kind: 'queue_depth', item, over: n, forMinutes: f.minutes ? m : 0 };
    case 'silence':
      return { kind: 'silence', item: f.item.trim(), minutes: m, ...(f.windowOn ? { window: { from: f.from, to: f.to, days: f.days, timeZone: f.timeZone } } : {}) };
    case 'suspended':
      return { kind: 'suspended', item, over: n };
    case 'cert_expiry':
      return { kind: 'cert_expiry', item, days: n };
    case 'store_backlog':
      return { kind: 'store_backlog', over: n };
  }
}

function inputOf(projectId: string, f: Form): RuleInput {
  const channels: RuleInput['channels'] = [];
  if (f.webhookUrl.trim()) channels.push({ kind: 'webhook', url: f.webhookUrl.trim() });
  if (f.emailOn) {
    channels.push({
      kind: 'email',
      host: f.smtpHost.trim(),
      port: Number(f.smtpPort),
      secure: f.smtpSecure,
      from: f.from_.trim(),
      to: f.to_.split(/[,;\s]+/).filter(Boolean),
      ...(f.smtpUser.trim() ? { user: f.smtpUser.trim() } : {}),
      // Write-only: left empty, the saved password stays.
      ...(f.smtpPassword ? { password: f.smtpPassword } : {}),
    });
  }
  return { projectId, name: f.name.trim(), condition: conditionOf(f), channels, repeatMinutes: Number(f.repeatMinutes || 0), enabled: f.enabled };
}

function describeCondition(c: Rule['condition']): string {
  const x = c as Record<string, unknown> & { kind: AlertConditionKind };
  const on = typeof x.item === 'string' ? ` · ${x.item}` : ' · any item';
  switch (x.kind) {
    case 'item_down':
      return `Failed, restarting or retrying${on}`;
    case 'error_rate':
      return `Errors/min > ${String(x.perMinute)}${on}`;
    case 'queue_depth':
      return `Queue > ${String(x.over)} for ${String(x.forMinutes)} min${on}`;
    case 'silence': {
      const w = x.window as { from: string; to: string; days: number[]; timeZone: string } | undefined;
      return `No message for ${String(x.minutes)} min · ${String(x.item)}${w ? ` · ${w.from}–${w.to} ${w.days.map((d) => DAYS[d - 1]).join(',')} (${w.timeZone})` : ''}`;
    }
    case 'suspended':
      return `Suspended > ${String(x.over)}${on}`;
    case 'cert_expiry':
      return `Certificate expires within ${String(x.days)} days${on}`;
    case 'store_backlog':
      return `Store backlog > ${String(x.over)}`;
    default:
      return String(x.kind);
  }
}

/** Alerts of the project (issue 13 point 3): rules, their channels, and the history of notices. */
export default function AlertsPage() {
  const { projectId, project, canEdit } = useProject();
  const trpc = useTRPC();
  const qc = useQueryClient();
  const list = useQuery(trpc.alerts.list.queryOptions({ projectId }));
  const history = useQuery(trpc.alerts.history.queryOptions({ projectId, limit: 100 }, { refetchInterval: 10_000 }));
  const [form, setForm] = useState<Form | undefined>();
  const refresh = () => {
    void qc.invalidateQueries({ queryKey: trpc.alerts.list.queryKey({ projectId }) });
    void qc.invalidateQueries({ queryKey: trpc.alerts.history.queryKey() });
  };
  const done = (message: string) => () => {
    toast.success(message);
    setForm(undefined);
    refresh();
  };
  const create = useMutation(trpc.alerts.create.mutationOptions({ onSuccess: done('Alert created') }));
  const update = useMutation(trpc.alerts.update.mutationOptions({ onSuccess: done('Alert saved') }));
  const remove = useMutation(trpc.alerts.delete.mutationOptions({ onSuccess: done('Alert deleted') }));
  const test = useMutation(
    trpc.alerts.test.mutationOptions({
      onSuccess: (r) => {
        const bad = r.outcomes.filter((o) => !o.ok);
        if (bad.length === 0) toast.success('Test notice sent');
        else toast.error(`Not delivered: ${bad.map((o) => `${o.channel} (${o.error ?? 'failed'})`).join(', ')}`);
        refresh();
      },
    }),
  );
  const saving = create.isPending || update.isPending;
  const saveError = create.error ?? update.error;

  return (
    <div className="page wide">
      <title>{`${project.name} · Alerts · HIE`}</title>
      <div className="page-header">
        <div className="titles">
          <h1>Alerts</h1>
          <p>Tell people when this integration needs them: an item down, errors, a growing queue, silence on an inbound feed, suspended messages, an expiring certificate.</p>
        </div>
        <div className="actions">
          {canEdit ? (
            <button type="button" className="primary" data-testid="alert-new" onClick={() => setForm(emptyForm())}>
              New alert
            </button>
          ) : null}
        </div>
      </div>
      {list.isPending ? <Loading /> : null}
      {list.isError ? <ErrorBanner error={list.error} onRetry={() => list.refetch()} /> : null}
      {list.data && list.data.length === 0 ? (
        <div className="empty">
          <strong>No alerts yet</strong>
          Nobody is told when this integration stops.
        </div>
      ) : null}
      {list.data && list.data.length > 0 ? (
        <div className="table-wrap">
          <table className="data" data-testid="alerts-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Condition</th>
                <th>Channels</th>
                <th>Repeat</th>
                <th>State</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {list.data.map((r) => (
                <tr key={r.id} data-testid="alert-row" data-alert-name={r.name}>
                  <td>{r.name}</td>
                  <td className="small">{describeCondition(r.condition)}</td>
                  <td className="small">{r.channels.map((c) => (c.kind === 'webhook' ? 'Webhook' : `E-mail (${c.to.length})`)).join(', ')}</td>
                  <td className="small">{r.repeatMinutes > 0 ? `every ${r.repeatMinutes} min` : 'never'}</td>
                  <td>
                    <span className={`badge ${r.enabled ? 'running' : ''}`}>{r.enabled ? 'enabled' : 'disabled'}</span>
                  </td>
                  <td className="nowrap">
                    {canEdit ? (
                      <>
                        <button type="button" className="small" onClick={() => setForm(formOf(r))}>
                          Edit
                        </button>
                        <button type="button" className="small ghost" disabled={test.isPending} onClick={() => test.mutate({ projectId, id: r.id })}>
                          Send test
                        </button>
                        <button
                          type="button"
                          className="small ghost"
                          onClick={() => {
                            if (window.confirm(`Delete the alert "${r.name}"?`)) remove.mutate({ projectId, id: r.id });
                          }}
                        >
                          Delete
                        </button>
                      </>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}

      <h2 style={{ marginTop: 28 }}>History</h2>
      {history.isError ? <ErrorBanner error={history.error} onRetry={() => history.refetch()} /> : null}
      {history.data && history.data.length === 0 ? <p className="muted">No notices sent yet.</p> : null}
      {history.data && history.data.length > 0 ? (
        <div className="table-wrap">
          <table className="data" data-testid="alert-history">
            <thead>
              <tr>
                <th>At</th>
                <th>Event</th>
                <th>Alert</th>
                <th>Subject</th>
                <th>What was seen</th>
                <th>Delivered</th>
              </tr>
            </thead>
            <tbody>
              {history.data.map((e) => {
                const outcomes = (e.details.outcomes as { channel: string; ok: boolean; error?: string }[] | undefined) ?? [];
                return (
                  <tr key={e.id} data-testid="alert-history-row">
                    <td className="small nowrap">{formatDateTime(e.at)}</td>
                    <td>
                      <span className={`badge ${e.event === 'resolved' ? 'running' : e.event === 'test' ? '' : 'failed'}`}>{e.event}</span>
                    </td>
                    <td>{e.ruleName ?? '—'}</td>
                    <td>{e.subject}</td>
                    <td className="small">{typeof e.details.summary === 'string' ? e.details.summary : ''}</td>
                    <td className="small">{outcomes.map((o) => `${o.channel} ${o.ok ? '✓' : `✗ ${o.error ?? ''}`}`).join(' · ')}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : null}

      {form ? (
        <AlertDialog
          form={form}
          setForm={setForm}
          saving={saving}
          error={saveError}
          onClose={() => setForm(undefined)}
          onSubmit={() => (form.id ? update.mutate({ ...inputOf(projectId, form), id: form.id }) : create.mutate(inputOf(projectId, form)))}
        />
      ) : null}
    </div>
  );
}

function AlertDialog({ form, setForm, saving, error, onClose, onSubmit }: { form: Form; setForm: (f: Form) => void; saving: boolean; error: unknown; onClose: () => void; onSubmit: () => void }) {
  const set = <K extends keyof Form>(k: K, v: Form[K]) => setForm({ ...form, [k]: v });
  const fields = FIELDS[form.kind];
  const problem = error ? apiError(error) : undefined;
  const text = (k: keyof Form, label: string, opts: { type?: string; placeholder?: string; help?: string } = {}) => (
    <div className="field">
      <label htmlFor={`alert-${k}`}>{label}</label>
      <input id={`alert-${k}`} type={opts.type ?? 'text'} placeholder={opts.placeholder} value={String(form[k])} onChange={(e) => set(k, e.target.value as never)} />
      {opts.help ? <span className="help">{opts.help}</span> : null}
    </div>
  );
  return (
    <Dialog
      open
      wide
      onClose={onClose}
      title={form.id ? 'Edit alert' : 'New alert'}
      testId="alert-dialog"
      onSubmit={onSubmit}
      footer={
        <>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={saving} data-testid="alert-save">
            {saving ? <span className="spinner" aria-hidden /> : null}
            Save
          </button>
        </>
      }
    >
      {problem ? (
        <div className="banner error" role="alert">
          {problem.message}
        </div>
      ) : null}
      <div className="form-grid">
        {text('name', 'Name', { placeholder: 'Lab system unreachable' })}
        <div className="field">
          <label htmlFor="alert-kind">Condition</label>
          <select id="alert-kind" value={form.kind} onChange={(e) => set('kind', e.target.value as AlertConditionKind)}>
            {KINDS.map((k) => (
              <option key={k} value={k}>
                {alertConditionLabels[k]}
              </option>
            ))}
          </select>
        </div>
        {fields.item !== 'none' ? text('item', fields.item === 'required' ? 'Inbound item' : 'Item (empty: every item)') : null}
        {fields.threshold ? text('threshold', fields.threshold, { type: 'number' }) : null}
        {fields.minutes ? text('minutes', fields.minutes, { type: 'number' }) : null}
        {form.kind === 'silence' ? (
          <div className="field">
            <label>
              <input type="checkbox" checked={form.windowOn} onChange={(e) => set('windowOn', e.target.checked)} /> Only within a time window
            </label>
            {form.windowOn ? (
              <div style={{ display: 'flex', gap: 8, flexWrap: 'wrap', alignItems: 'center' }}>
                <input aria-label="Window from" type="time" value={form.from} onChange={(e) => set('from', e.target.value)} />–
                <input aria-label="Window to" type="time" value={form.to} onChange={(e) => set('to', e.target.value)} />
                {DAYS.map((d, i) => (
                  <label key={d} className="small">
                    <input
                      type="checkbox"
                      checked={form.days.includes(i + 1)}
                      onChange={(e) => set('days', e.target.checked ? [...form.days, i + 1].sort() : form.days.filter((x) => x !== i + 1))}
                    />
                    {d}
                  </label>
                ))}
                <input aria-label="Time zone" value={form.timeZone} onChange={(e) => set('timeZone', e.target.value)} style={{ width: 160 }} />
              </div>
            ) : null}
          </div>
        ) : null}
        {text('webhookUrl', 'Webhook URL', { placeholder: 'https://hooks.example.org/hie', help: 'A JSON POST per notice, retried with backoff. Leave empty for none.' })}
        <div className="field">
          <label>
            <input type="checkbox" checked={form.emailOn} onChange={(e) => set('emailOn', e.target.checked)} data-testid="alert-email-on" /> Send e-mail
          </label>
        </div>
        {form.emailOn ? (
          <>
            {text('smtpHost', 'SMTP server')}
            {text('smtpPort', 'SMTP port', { type: 'number' })}
            <div className="field">
              <label>
                <input type="checkbox" checked={form.smtpSecure} onChange={(e) => set('smtpSecure', e.target.checked)} /> TLS from the start (port 465)
              </label>
            </div>
            {text('smtpUser', 'SMTP user (optional)')}
            {text('smtpPassword', 'SMTP password', { type: 'password', help: form.hasPassword ? 'Saved. Leave empty to keep it.' : 'Stored encrypted; never shown again.' })}
            {text('from_', 'From')}
            {text('to_', 'To (comma-separated)')}
          </>
        ) : null}
        {text('repeatMinutes', 'Repeat while firing, every (minutes; 0: never)', { type: 'number' })}
        <div className="field">
          <label>
            <input type="checkbox" checked={form.enabled} onChange={(e) => set('enabled', e.target.checked)} /> Enabled
          </label>
        </div>
      </div>
    </Dialog>
  );
}
