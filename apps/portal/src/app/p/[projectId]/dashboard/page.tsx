'use client';
import { useMemo, useState } from 'react';
import { useMutation } from '@tanstack/react-query';
import { CartesianGrid, Legend, Line, LineChart, Tooltip, XAxis, YAxis } from 'recharts';
import { useProject } from '../../../../components/project-context';
import { useLive, useSuspendedCounts, type ItemStatus, type LiveSample } from '../../../../lib/live';
import { useTRPC } from '../../../../lib/trpc';
import { toast } from '../../../../lib/toast';
import { formatMs, formatNumber, formatTime, stateClass } from '../../../../lib/format';

const HISTORY_SECONDS = 300;
const COLORS = ['#0f5fa8', '#d1792f', '#1f9d55', '#8a5cd1', '#d64032', '#2f9fb3', '#b58900', '#6c7a89', '#c2185b', '#5d8a00'];
const TOTAL = 'Total';

type Row = Record<string, number>;

/** One row per sample: `t` plus one value per item (and a total where it makes sense). */
function series(history: LiveSample[], names: string[], pick: (s: ItemStatus) => number, total: 'sum' | 'max' | null): Row[] {
  return history.map((sample) => {
    const row: Row = { t: sample.at };
    let acc = 0;
    for (const it of sample.items) {
      if (!names.includes(it.name)) continue;
      const v = pick(it);
      row[it.name] = v;
      acc = total === 'max' ? Math.max(acc, v) : acc + v;
    }
    if (total) row[TOTAL] = acc;
    return row;
  });
}

/** Errors per second from the cumulative counters. */
function errorRate(history: LiveSample[], names: string[]): Row[] {
  const rows: Row[] = [];
  for (let i = 1; i < history.length; i++) {
    const prev = new Map(history[i - 1]!.items.map((it) => [it.name, it.errors]));
    const dt = Math.max(0.001, (history[i]!.at - history[i - 1]!.at) / 1000);
    const row: Row = { t: history[i]!.at };
    let total = 0;
    for (const it of history[i]!.items) {
      if (!names.includes(it.name)) continue;
      const d = Math.max(0, it.errors - (prev.get(it.name) ?? it.errors)) / dt;
      row[it.name] = Math.round(d * 100) / 100;
      total += d;
    }
    row[TOTAL] = Math.round(total * 100) / 100;
    rows.push(row);
  }
  return rows;
}

function Chart({ title, data, keys, unit, testId }: { title: string; data: Row[]; keys: string[]; unit?: string; testId: string }) {
  return (
    <section className="chart-card" aria-label={title} data-testid={testId}>
      <h3>{title}</h3>
      {data.length < 2 ? (
        <div className="chart-box" style={{ display: 'grid', placeItems: 'center' }}>
          <span className="muted small">Collecting data… (a point per second)</span>
        </div>
      ) : (
        <div className="chart-box">
          <LineChart responsive style={{ width: '100%', height: '100%' }} data={data} margin={{ top: 6, right: 12, bottom: 0, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="#e6ebf1" />
            <XAxis dataKey="t" type="number" domain={['dataMin', 'dataMax']} tickFormatter={(v: number) => formatTime(v)} tick={{ fontSize: 11 }} minTickGap={40} />
            <YAxis tick={{ fontSize: 11 }} width={48} allowDecimals unit={unit} />
            <Tooltip labelFormatter={(v) => formatTime(Number(v))} formatter={(v) => `${formatNumber(Number(v), 2)}${unit ?? ''}`} />
            <Legend wrapperStyle={{ fontSize: 11 }} />
            {keys.map((k, i) => (
              <Line
                key={k}
                dataKey={k}
                name={k}
                stroke={k === TOTAL ? '#17202b' : COLORS[i % COLORS.length]}
                strokeWidth={k === TOTAL ? 2.2 : 1.5}
                strokeDasharray={k === TOTAL ? '5 3' : undefined}
                dot={false}
                isAnimationActive={false}
                connectNulls
              />
            ))}
          </LineChart>
        </div>
      )}
    </section>
  );
}

export default function DashboardPage() {
  const { projectId, project, canEdit } = useProject();
  const trpc = useTRPC();
  const live = useLive(projectId, { historySeconds: HISTORY_SECONDS });
  const [focus, setFocus] = useState('');
  const items = useMemo(() => live.latest?.items ?? live.status.data?.running?.items ?? [], [live.latest, live.status.data]);
  const allNames = items.map((i) => i.name);
  const namesKey = focus || allNames.slice(0, COLORS.length).join('\u0000');
  // Stable between samples unless the item set changes, so the series below are not recomputed needlessly.
  const names = useMemo(() => (namesKey ? namesKey.split('\u0000') : []), [namesKey]);
  const showTotal = !focus;
  const keys = (withTotal: boolean) => [...names, ...(withTotal && showTotal ? [TOTAL] : [])];
  const h = live.history;
  const throughput = useMemo(() => series(h, names, (s) => s.throughputPerSec, 'sum'), [h, names]);
  const queue = useMemo(() => series(h, names, (s) => s.queueDepth, 'sum'), [h, names]);
  const p50 = useMemo(() => series(h, names, (s) => s.latencyP50Ms, 'max'), [h, names]);
  const p99 = useMemo(() => series(h, names, (s) => s.latencyP99Ms, 'max'), [h, names]);
  const errors = useMemo(() => errorRate(h, names), [h, names]);
  const waitP99 = useMemo(() => series(h, names, (s) => s.queueWait?.p99Ms ?? 0, 'max'), [h, names]);
  const suspended = useSuspendedCounts(projectId);

  const opts = { onSuccess: () => toast.success('Request sent') };
  const start = useMutation(trpc.production.itemStart.mutationOptions(opts));
  const stop = useMutation(trpc.production.itemStop.mutationOptions(opts));
  const restart = useMutation(trpc.production.itemRestart.mutationOptions(opts));

  const running = live.status.data?.running;
  const desired = live.status.data?.desired;
  const sum = (f: (i: ItemStatus) => number) => items.reduce((a, i) => a + f(i), 0);
  // Messages, not hops: what the services received (each item's own count is in the table).
  const received = live.latest?.messagesReceived ?? running?.messagesReceived ?? sum((i) => (i.kind === 'service' ? i.processed : 0));
  const kpis: [string, string, string][] = [
    ['State', running ? `${running.state}${running.stale ? ' (stale)' : ''}` : desired ? `${desired.state} (no report)` : 'not deployed', 'kpi-state'],
    ['Items running', `${items.filter((i) => i.state === 'running').length} / ${items.length}`, 'kpi-items'],
    ['Throughput', `${formatNumber(sum((i) => i.throughputPerSec), 1)} msg/s`, 'kpi-throughput'],
    ['Messages received', formatNumber(received), 'kpi-processed'],
    ['Suspended', formatNumber(suspended.total), 'kpi-suspended'],
    ['Queued', formatNumber(sum((i) => i.queueDepth)), 'kpi-queued'],
    ['Errors', formatNumber(sum((i) => i.errors)), 'kpi-errors'],
    ['Restarts', formatNumber(sum((i) => i.restarts)), 'kpi-restarts'],
    ['Worst p99', formatMs(items.reduce((a, i) => Math.max(a, i.latencyP99Ms), 0)), 'kpi-p99'],
    ['Worst queue wait p99', formatMs(items.reduce((a, i) => Math.max(a, i.queueWait?.p99Ms ?? 0), 0)), 'kpi-wait-p99'],
  ];

  return (
    <div className="page wide">
      <title>{`${project.name} · Dashboard · HIE`}</title>
      <div className="page-header">
        <div className="titles">
          <h1>Dashboard</h1>
          <p>
            Live figures every second; the charts keep the last {HISTORY_SECONDS / 60} minutes in this browser tab.{' '}
            <span className={`badge ${live.mode === 'live' ? 'ok' : live.mode === 'polling' ? 'warning' : ''}`}>
              {live.mode === 'live' ? '● live' : live.mode === 'polling' ? 'polling' : 'connecting…'}
            </span>
          </p>
        </div>
        <div className="field">
          <label htmlFor="focus-item">Charts show</label>
          <select id="focus-item" value={focus} onChange={(e) => setFocus(e.target.value)}>
            <option value="">All items (+ total)</option>
            {allNames.map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </div>
      </div>

      {running?.error ? (
        <div className="banner error" role="alert">
          <strong>The production reported an error:</strong> <code>{running.error.code}</code> {running.error.message}
        </div>
      ) : null}

      {running && running.problems.length > 0 ? (
        <div className={`banner ${running.state === 'failed' ? 'error' : 'warning'}`} role="alert" data-testid="production-problems">
          <strong>The production is {running.state}:</strong> {running.problems.map((p) => `${p.item} ${p.problem.replace('_', ' ')}${p.error ? ` (${p.error})` : ''}`).join('; ')}
        </div>
      ) : null}

      <div className="kpis" data-testid="kpis">
        {kpis.map(([l, v, id]) => (
          <div className="kpi" key={l} data-testid={id}>
            <div className={`v ${id === 'kpi-state' && running ? `state-${stateClass(running.state)}` : ''}`}>{v}</div>
            <div className="l">{l}</div>
          </div>
        ))}
      </div>

      {items.length === 0 ? (
        <div className="empty">
          <strong>Nothing running yet</strong>
          Deploy the production from the designer; its items’ figures appear here within a second.
        </div>
      ) : (
        <>
          <div className="charts">
            <Chart title="Throughput (msg/s)" data={throughput} keys={keys(true)} testId="chart-throughput" />
            <Chart title="Queue depth" data={queue} keys={keys(true)} testId="chart-queue" />
            <Chart title={showTotal ? 'Latency p50 (ms) — total = worst item' : 'Latency p50 (ms)'} data={p50} keys={keys(true)} testId="chart-p50" />
            <Chart title={showTotal ? 'Latency p99 (ms) — total = worst item' : 'Latency p99 (ms)'} data={p99} keys={keys(true)} testId="chart-p99" />
            <Chart title="Errors per second" data={errors} keys={keys(true)} testId="chart-errors" />
            <Chart title={showTotal ? 'Queue wait p99 (ms) — total = worst item' : 'Queue wait p99 (ms)'} data={waitP99} keys={keys(true)} testId="chart-wait-p99" />
          </div>
          <h2>Items</h2>
          <div className="table-wrap">
            <table className="data" data-testid="items-table">
              <thead>
                <tr>
                  <th>Item</th>
                  <th>State</th>
                  <th className="num">Queue</th>
                  <th className="num">In flight</th>
                  <th className="num">Processed</th>
                  <th className="num">Errors</th>
                  <th className="num">Suspended</th>
                  <th className="num">Discarded</th>
                  <th className="num">Restarts</th>
                  <th className="num">msg/s</th>
                  <th className="num">p50</th>
                  <th className="num">p99</th>
                  <th className="num">Wait p50</th>
                  <th className="num">Wait p99</th>
                  <th>Breaker</th>
                  <th>Last error</th>
                  {canEdit ? <th className="num">Actions</th> : null}
                </tr>
              </thead>
              <tbody>
                {items.map((i) => (
                  <tr key={i.name} data-testid={`item-row-${i.name}`}>
                    <td>
                      <strong>{i.name}</strong>
                      <div className="muted small mono">{i.type}</div>
                    </td>
                    <td>
                      <span className={`badge ${stateClass(i.state)}`}>{i.state}</span>
                      {!i.enabled ? <span className="badge">disabled</span> : null}
                      {/* In a cluster: the node running a listener, or each node running the item. */}
                      {i.nodes && i.nodes.length > 0 ? <div className="muted small mono" data-testid="row-nodes">on {i.nodes.join(', ')}</div> : null}
                    </td>
                    <td className="num">{formatNumber(i.queueDepth)}</td>
                    <td className="num">{formatNumber(i.inFlight)}</td>
                    <td className="num" data-testid="row-processed">
                      {formatNumber(i.processed)}
                    </td>
                    <td className="num">{formatNumber(i.errors)}</td>
                    <td className="num" data-testid="row-suspended">
                      {(suspended.byItem.get(i.name) ?? 0) > 0 ? <span className="badge failed">{formatNumber(suspended.byItem.get(i.name) ?? 0)}</span> : '0'}
                    </td>
                    <td className="num">{formatNumber(i.discarded)}</td>
                    <td className="num">{formatNumber(i.restarts)}</td>
                    <td className="num">{formatNumber(i.throughputPerSec, 1)}</td>
                    <td className="num">{formatMs(i.latencyP50Ms)}</td>
                    <td className="num">{formatMs(i.latencyP99Ms)}</td>
                    <td className="num">{i.queueWait ? formatMs(i.queueWait.p50Ms) : '—'}</td>
                    <td className="num">{i.queueWait ? formatMs(i.queueWait.p99Ms) : '—'}</td>
                    <td>
                      <span className={`badge ${i.breaker}`}>{i.breaker || '—'}</span>
                    </td>
                    <td className="small" style={{ maxWidth: 260 }}>
                      {i.lastError ? (
                        <span title={formatTime(i.lastError.at)}>
                          <code>{i.lastError.code}</code> {i.lastError.message}
                        </span>
                      ) : (
                        <span className="muted">—</span>
                      )}
                    </td>
                    {canEdit ? (
                      <td className="num">
                        <div className="row" style={{ justifyContent: 'flex-end', flexWrap: 'nowrap' }}>
                          <button type="button" className="small" aria-label={`Start ${i.name}`} onClick={() => start.mutate({ projectId, item: i.name })}>
                            Start
                          </button>
                          <button type="button" className="small" aria-label={`Stop ${i.name}`} onClick={() => stop.mutate({ projectId, item: i.name })}>
                            Stop
                          </button>
                          <button type="button" className="small" aria-label={`Restart ${i.name}`} onClick={() => restart.mutate({ projectId, item: i.name })}>
                            Restart
                          </button>
                        </div>
                      </td>
                    ) : null}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </div>
  );
}
