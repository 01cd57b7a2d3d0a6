'use client';
import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useProject } from '../../../../components/project-context';
import { ErrorBanner, Loading } from '../../../../components/app-shell';
import { Hl7Raw, Hl7Tree } from '../../../../components/hl7-view';
import { FhirTree } from '../../../../components/fhir-view';
import { useTRPC, type RouterInputs, type RouterOutputs } from '../../../../lib/trpc';
import { toast } from '../../../../lib/toast';
import { formatDateTime, formatNumber, formatTime, localInputToIso, toDate } from '../../../../lib/format';
import { looksLikeHl7 } from '../../../../lib/hl7';

type SearchInput = RouterInputs['messages']['search'];
type Detail = RouterOutputs['messages']['get'];

const STATUSES = ['received', 'queued', 'processing', 'delivered', 'failed', 'discarded', 'refused', 'expired'] as const;
/** The status filter's extra choice: failed messages no one has resent since (the operator's queue). */
const SUSPENDED = 'suspended';
const RANGES: { label: string; minutes: number | null }[] = [
  { label: 'Last 15 minutes', minutes: 15 },
  { label: 'Last hour', minutes: 60 },
  { label: 'Last 24 hours', minutes: 60 * 24 },
  { label: 'Last 7 days', minutes: 60 * 24 * 7 },
  { label: 'Any time', minutes: null },
  { label: 'Custom…', minutes: -1 },
];

interface Filters {
  range: number | null;
  from: string;
  to: string;
  item: string;
  status: string;
  messageType: string;
  controlId: string;
  patientId: string;
  text: string;
}

const EMPTY: Filters = { range: null, from: '', to: '', item: '', status: '', messageType: '', controlId: '', patientId: '', text: '' };

function toInput(projectId: string, f: Filters): SearchInput {
  const input: SearchInput = { projectId, limit: 50 };
  if (f.range !== null && f.range > 0) input.from = new Date(Date.now() - f.range * 60_000).toISOString();
  if (f.range === -1) {
    const from = localInputToIso(f.from);
    const to = localInputToIso(f.to);
    if (from) input.from = from;
    if (to) input.to = to;
  }
  if (f.item) input.item = f.item;
  if (f.status === SUSPENDED) input.suspended = true;
  else if (f.status) input.status = f.status as (typeof STATUSES)[number];
  for (const k of ['messageType', 'controlId', 'patientId', 'text'] as const) {
    const v = f[k].trim();
    if (v) input[k] = v;
  }
  return input;
}

export default function MessagesPage() {
  const { projectId, project } = useProject();
  const trpc = useTRPC();
  const get = useQuery(trpc.projects.get.queryOptions({ id: projectId }, { staleTime: Infinity, refetchOnMount: false }));
  const itemNames = useMemo(() => {
    const spec = get.data?.version.spec as { items?: { name: string }[] } | undefined;
    return (spec?.items ?? []).map((i) => i.name);
  }, [get.data]);
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [applied, setApplied] = useState<Filters>(EMPTY);
  const [selected, setSelected] = useState<string | null>(null);
  const input = useMemo(() => toInput(projectId, applied), [projectId, applied]);
  const search = useInfiniteQuery(
    trpc.messages.search.infiniteQueryOptions(input, {
      getNextPageParam: (last) => last.nextCursor ?? undefined,
    }),
  );
  const rows = search.data?.pages.flatMap((p) => p.items) ?? [];
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    setApplied({ ...draft });
  };
  const set = (k: keyof Filters, v: string | number | null) => setDraft((d) => ({ ...d, [k]: v }));
  const filtersActive = JSON.stringify(applied) !== JSON.stringify(EMPTY);

  return (
    <div className="page wide">
      <title>{`${project.name} · Messages · HIE`}</title>
      <div className="page-header">
        <div className="titles">
          <h1>Messages</h1>
          <p>Every message is stored raw before it is acknowledged. Find one, read it, follow its trace, resend it.</p>
        </div>
      </div>
      <form className="card" onSubmit={onSubmit} aria-label="Message filters" style={{ marginBottom: 14 }}>
        <div className="filters" style={{ marginBottom: 0 }}>
          <div className="field">
            <label htmlFor="f-range">Time</label>
            <select id="f-range" value={String(draft.range)} onChange={(e) => set('range', e.target.value === 'null' ? null : Number(e.target.value))}>
              {RANGES.map((r) => (
                <option key={r.label} value={String(r.minutes)}>
                  {r.label}
                </option>
              ))}
            </select>
          </div>
          {draft.range === -1 ? (
            <>
              <div className="field">
                <label htmlFor="f-from">From</label>
                <input id="f-from" type="datetime-local" step={1} value={draft.from} onChange={(e) => set('from', e.target.value)} />
              </div>
              <div className="field">
                <label htmlFor="f-to">To</label>
                <input id="f-to" type="datetime-local" step={1} value={draft.to} onChange={(e) => set('to', e.target.value)} />
              </div>
            </>
          ) : null}
          <div className="field">
            <label htmlFor="f-item">Item</label>
            <select id="f-item" value={draft.item} onChange={(e) => set('item', e.target.value)}>
              <option value="">Any item</option>
              {itemNames.map((n) => (
                <option key={n}>{n}</option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor="f-status">Status</label>
            <select id="f-status" value={draft.status} onChange={(e) => set('status', e.target.value)}>
              <option value="">Any status</option>
              {STATUSES.map((s) => (
                <option key={s}>{s}</option>
              ))}
              <option value={SUSPENDED}>suspended (failed, not resent)</option>
            </select>
          </div>
          <div className="field">
            <label htmlFor="f-type">Message type</label>
            <input id="f-type" placeholder="ADT^A01" value={draft.messageType} onChange={(e) => set('messageType', e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="f-control">Control ID</label>
            <input id="f-control" value={draft.controlId} onChange={(e) => set('controlId', e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="f-patient">Patient ID</label>
            <input id="f-patient" value={draft.patientId} onChange={(e) => set('patientId', e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="f-text">Text in message</label>
            <input id="f-text" value={draft.text} maxLength={200} onChange={(e) => set('text', e.target.value)} />
          </div>
          <div className="row filter-actions">
            <button type="submit" className="primary">
              Search
            </button>
            <button
              type="button"
              onClick={() => {
                setDraft(EMPTY);
                setApplied(EMPTY);
              }}
              disabled={!filtersActive && JSON.stringify(draft) === JSON.stringify(EMPTY)}
            >
              Clear
            </button>
            <button type="button" className="ghost" onClick={() => void search.refetch()} title="Search again with the same filters">
              ↻ Refresh
            </button>
          </div>
        </div>
      </form>

      <div className="split">
        <div className="stack">
          {search.isPending ? <Loading /> : null}
          {search.isError ? <ErrorBanner error={search.error} onRetry={() => search.refetch()} /> : null}
          {search.data && rows.length === 0 ? (
            <div className="empty">
              <strong>{filtersActive ? 'No messages match these filters' : 'No messages yet'}</strong>
              {filtersActive ? 'Widen the time range or clear a filter.' : 'Deploy the production and send it a message (e.g. npx hie send --port 2575 file.hl7).'}
            </div>
          ) : null}
          {rows.length > 0 ? (
            <div className="table-wrap" style={{ maxHeight: 'calc(100vh - 330px)', minHeight: 240 }}>
              <table className="data" data-testid="messages-table">
                <thead>
                  <tr>
                    <th>Received</th>
                    <th>Type</th>
                    <th>Control ID</th>
                    <th>Patient</th>
                    <th>Item</th>
                    <th>Status</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((m) => (
                    <tr
                      key={m.id}
                      className="clickable"
                      aria-selected={selected === m.id}
                      data-testid="message-row"
                      data-message-id={m.id}
                      tabIndex={0}
                      onClick={() => setSelected(m.id)}
                      onKeyDown={(e) => {
                        if (e.key === 'Enter' || e.key === ' ') {
                          e.preventDefault();
                          setSelected(m.id);
                        }
                      }}
                    >
                      <td className="small" style={{ whiteSpace: 'nowrap' }}>
                        {formatDateTime(m.receivedAt)}
                      </td>
                      <td className="mono nowrap">{m.messageType ?? '—'}</td>
                      <td className="mono nowrap">{m.controlId ?? '—'}</td>
                      <td className="mono nowrap">{m.patientId ?? '—'}</td>
                      <td>{m.item}</td>
                      <td>
                        <span className={`badge ${m.status}`}>{m.status}</span>
                        {m.parentId ? <span className="badge" title={`Resent from ${m.parentId}`}>resend</span> : null}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : null}
          {search.hasNextPage ? (
            <div>
              <button type="button" onClick={() => void search.fetchNextPage()} disabled={search.isFetchingNextPage} data-testid="load-more">
                {search.isFetchingNextPage ? <span className="spinner" aria-hidden /> : null}
                Load more
              </button>
            </div>
          ) : rows.length > 0 ? (
            <span className="muted small">All {rows.length} matching messages shown.</span>
          ) : null}
          {rows.length > 0 ? <ResendAll input={input} /> : null}
        </div>
        <div>
          {selected ? (
            <MessageDetail key={selected} projectId={projectId} id={selected} itemNames={itemNames} onOpen={setSelected} />
          ) : (
            <div className="empty">
              <strong>Select a message</strong>
              Its raw content, parsed fields and trace across the items appear here.
            </div>
          )}
        </div>
      </div>
    </div>
  );
}

type Tab = 'raw' | 'parsed' | 'trace' | 'resend' | 'header';

function MessageDetail({ projectId, id, itemNames, onOpen }: { projectId: string; id: string; itemNames: string[]; onOpen: (id: string) => void }) {
  const trpc = useTRPC();
  const msg = useQuery(trpc.messages.get.queryOptions({ projectId, id }, { staleTime: 10_000 }));
  const [tab, setTab] = useState<Tab>('raw');
  if (msg.isPending) return <Loading />;
  if (msg.isError) return <ErrorBanner error={msg.error} onRetry={() => msg.refetch()} />;
  const m = msg.data;
  const hl7 = looksLikeHl7(m.raw);
  const fhir = m.contentType.split(';')[0]!.trim().toLowerCase() === 'application/fhir+json';
  const fhirErrors = (m.problems ?? []).filter((p) => p.severity === 'error').length;
  const tabs: [Tab, string][] = [
    ['raw', 'Raw'],
    ['parsed', fhir && fhirErrors > 0 ? `Parsed (${fhirErrors} issue${fhirErrors === 1 ? '' : 's'})` : 'Parsed'],
    ['trace', `Trace (${m.trace.length})`],
    ['resend', 'Resend'],
    ['header', 'Header'],
  ];
  return (
    <section className="card" aria-label="Message detail" data-testid="message-detail">
      <div className="row" style={{ marginBottom: 6 }}>
        <h2 style={{ margin: 0 }} className="grow">
          {m.messageType ?? 'Message'} <span className="mono muted small">{m.controlId ?? ''}</span>
        </h2>
        <span className={`badge ${m.status}`}>{m.status}</span>
      </div>
      <div className="muted small" style={{ marginBottom: 8 }}>
        <span className="mono">{m.id}</span> · received {formatDateTime(m.receivedAt)} by {m.item}
        {m.patientId ? ` · patient ${m.patientId}` : ''} · {formatNumber(m.size)} bytes
        {m.parentId ? (
          <>
            {' '}
            · resent from{' '}
            <button type="button" className="small ghost" onClick={() => onOpen(m.parentId!)}>
              {m.parentId.slice(0, 8)}…
            </button>
          </>
        ) : null}
        {m.resends.length > 0 ? (
          <>
            {' '}
            · resent as{' '}
            {m.resends.map((r) => (
              <button key={r} type="button" className="small ghost" onClick={() => onOpen(r)}>
                {r.slice(0, 8)}…
              </button>
            ))}
          </>
        ) : null}
      </div>
      <div className="tabs" role="tablist" aria-label="Message views">
        {tabs.map(([k, label]) => (
          <button key={k} type="button" role="tab" aria-selected={tab === k} aria-controls={`msg-panel-${k}`} onClick={() => setTab(k)}>
            {label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`msg-panel-${tab}`}>
        {tab === 'raw' ? (
          m.bodyHidden ? (
            <p className="muted" data-testid="body-hidden">
              Your role shows this message&apos;s metadata and trace only. Reading bodies needs the analyst role or the PHI reader flag
              from a workspace admin.
            </p>
          ) : m.raw === null ? (
            <p className="muted">The body was not stored (the production stores metadata only).</p>
          ) : hl7 ? (
            <Hl7Raw raw={m.raw} />
          ) : (
            <pre className="json-view">{m.raw}</pre>
          )
        ) : null}
        {tab === 'parsed' ? (
          m.raw && fhir ? (
            <FhirTree raw={m.raw} issues={m.problems} />
          ) : m.raw && hl7 ? (
            <Hl7Tree raw={m.raw} />
          ) : (
            <p className="muted">Not an HL7 v2 or FHIR message: see the raw view.</p>
          )
        ) : null}
        {tab === 'trace' ? <TraceTimeline trace={m.trace} /> : null}
        {tab === 'resend' ? <Resend projectId={projectId} message={m} itemNames={itemNames} onOpen={onOpen} /> : null}
        {tab === 'header' ? <pre className="json-view">{JSON.stringify(m.header, null, 2)}</pre> : null}
      </div>
    </section>
  );
}

function TraceTimeline({ trace }: { trace: Detail['trace'] }) {
  const events = [...trace].sort((a, b) => (toDate(a.at)?.getTime() ?? 0) - (toDate(b.at)?.getTime() ?? 0) || String(a.id).localeCompare(String(b.id)));
  if (events.length === 0) return <p className="muted">No events recorded yet.</p>;
  const t0 = toDate(events[0]!.at)?.getTime() ?? 0;
  const items = Array.from(new Set(events.map((e) => e.item)));
  return (
    <div className="stack">
      <div className="small muted">
        Path: {items.map((i, n) => (
          <span key={i}>
            {n > 0 ? ' → ' : ''}
            <strong>{i}</strong>
          </span>
        ))}
      </div>
      <ol className="timeline" data-testid="trace-timeline" aria-label="Trace">
        {events.map((e, i) => {
          const t = toDate(e.at)?.getTime() ?? 0;
          return (
            <li key={`${e.id}-${i}`} className={e.event} data-testid="trace-event">
              <div className="row" style={{ gap: 6 }}>
                <span className="badge">{e.item}</span>
                <span className={`badge ${e.event}`}>{e.event}</span>
                <span className="when">
                  {formatTime(e.at, true)} · +{formatNumber(t - t0)} ms
                </span>
              </div>
              {e.detail ? (
                <div className="small mono" style={{ marginTop: 2, wordBreak: 'break-word' }}>
                  {typeof e.detail === 'string' ? e.detail : JSON.stringify(e.detail)}
                </div>
              ) : null}
            </li>
          );
        })}
      </ol>
    </div>
  );
}

function Resend({ projectId, message, itemNames, onOpen }: { projectId: string; message: Detail; itemNames: string[]; onOpen: (id: string) => void }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const { canEdit } = useProject();
  // '' = the server's default: the item where the message failed (never an inbound service).
  const [toItem, setToItem] = useState('');
  const [edit, setEdit] = useState(false);
  const [text, setText] = useState((message.raw ?? '').replace(/\r\n?/g, '\n'));
  const [result, setResult] = useState<RouterOutputs['messages']['resend'] | null>(null);
  useEffect(() => {
    if (toItem && !itemNames.includes(toItem)) setToItem('');
  }, [itemNames, toItem]);
  const resend = useMutation(
    trpc.messages.resend.mutationOptions({
      onSuccess: (r) => {
        setResult(r);
        if (r.injected) toast.success(`Resent as ${r.newId.slice(0, 8)}… to ${r.toItem}`);
        else toast.info(`Stored as ${r.newId.slice(0, 8)}…, but no engine took it yet${r.error ? `: ${r.error.message}` : ''}`);
        void qc.invalidateQueries({ queryKey: trpc.messages.search.queryKey() });
        void qc.invalidateQueries({ queryKey: trpc.messages.get.queryKey({ projectId, id: message.id }) });
      },
    }),
  );
  if (!canEdit) return <p className="muted">Viewers cannot resend messages.</p>;
  return (
    <form
      className="stack"
      onSubmit={(e) => {
        e.preventDefault();
        const raw = edit ? text.replace(/\r?\n/g, '\r') : undefined;
        resend.mutate({ projectId, id: message.id, ...(toItem ? { toItem } : {}), ...(raw ? { raw } : {}), ...(message.rawEncoding ? { rawEncoding: message.rawEncoding } : {}) });
      }}
    >
      <div className="field">
        <label htmlFor="resend-to">Send to item</label>
        <select id="resend-to" value={toItem} onChange={(e) => setToItem(e.target.value)}>
          <option value="">Where it failed (default)</option>
          {itemNames.map((n) => (
            <option key={n}>{n}</option>
          ))}
        </select>
        <span className="help">The copy is stored as a new message linked to this one, then handed to that item. Inbound services cannot take a resend.</span>
      </div>
      <fieldset>
        <legend>Content</legend>
        <label className="field inline" style={{ fontWeight: 400 }}>
          <input type="radio" name="resend-mode" checked={!edit} onChange={() => setEdit(false)} /> Resend as is
        </label>
        <label className="field inline" style={{ fontWeight: 400 }}>
          <input type="radio" name="resend-mode" checked={edit} onChange={() => setEdit(true)} disabled={message.raw === null} /> Edit before resending
        </label>
        {edit ? (
          <div className="field" style={{ marginTop: 8 }}>
            <label htmlFor="resend-raw">Message (one segment per line)</label>
            <textarea id="resend-raw" rows={10} value={text} onChange={(e) => setText(e.target.value)} spellCheck={false} />
          </div>
        ) : null}
      </fieldset>
      <div className="row">
        <button type="submit" className="primary" disabled={resend.isPending || (edit && text.trim() === '')} data-testid="resend-submit">
          {resend.isPending ? <span className="spinner" aria-hidden /> : null}
          Resend to {toItem || 'where it failed'}
        </button>
        {result ? (
          <span className="small" data-testid="resend-result">
            New message{' '}
            <button type="button" className="small" onClick={() => onOpen(result.newId)}>
              {result.newId.slice(0, 8)}…
            </button>
            {result.injected ? ' handed to the engine.' : ' stored; it runs when the production is started.'}
          </span>
        ) : null}
      </div>
    </form>
  );
}

/**
 * Resends every message the current search finds (at most 1000), each to the item where it
 * failed: the operator's way to clear suspended messages once the downstream system is back.
 */
function ResendAll({ input }: { input: SearchInput }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const { canEdit } = useProject();
  const [result, setResult] = useState<RouterOutputs['messages']['resendMany'] | null>(null);
  const many = useMutation(
    trpc.messages.resendMany.mutationOptions({
      onSuccess: (r) => {
        setResult(r);
        toast.success(`Resent ${r.resent} of ${r.selected} message${r.selected === 1 ? '' : 's'}`);
        void qc.invalidateQueries({ queryKey: trpc.messages.search.queryKey() });
        void qc.invalidateQueries({ queryKey: trpc.messages.suspendedCounts.queryKey() });
      },
    }),
  );
  if (!canEdit) return null;
  const { projectId, limit: _l, cursor: _c, ...filter } = input;
  return (
    <div className="row small">
      <button
        type="button"
        data-testid="resend-all"
        disabled={many.isPending}
        onClick={() => {
          if (window.confirm('Resend every message this search finds (up to 1000), each to the item where it failed?')) many.mutate({ projectId, filter });
        }}
      >
        {many.isPending ? <span className="spinner" aria-hidden /> : null}
        Resend all matching
      </button>
      {result ? (
        <span data-testid="resend-all-result">
          {result.resent} resent, {result.injected} handed to the engine{result.failed > 0 ? `, ${result.failed} could not be resent` : ''}
          {result.truncated ? ' (first 1000 only)' : ''}.
        </span>
      ) : null}
    </div>
  );
}
