'use client';
import type { Edge } from '@xyflow/react';
import { useEffect, useRef, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTRPC, type RouterOutputs } from '../lib/trpc';
import { toast } from '../lib/toast';
import { ErrorBanner, Loading } from '../components/app-shell';
import { JsonDiffView } from '../components/json-diff';
import type { ItemNode } from './item-node';

/** The steps of a sandbox run (`production.test`). */
export type TestSteps = RouterOutputs['production']['test']['steps'];
type Step = TestSteps[number];
type Cases = RouterOutputs['testCases']['list']['cases'];

const OUTCOME_COLOUR: Record<string, string> = {
  received: '#2563eb',
  sent: '#2563eb',
  would_send: '#1f9d55',
  discarded: '#b7791f',
  skipped: '#9aa5b2',
  refused: '#d64032',
  failed: '#d64032',
};

const OUTCOME_LABEL: Record<string, string> = {
  received: 'received',
  sent: 'passed on',
  would_send: 'would send',
  discarded: 'discarded',
  skipped: 'not run',
  refused: 'refused',
  failed: 'failed',
};

/**
 * The canvas with a test run on it: the items the message visited are outlined by outcome, the
 * connections it took are drawn thick, and a router's outgoing connections carry the rule that
 * matched. Nodes and edges the run did not touch are dimmed.
 */
export function testOverlay(nodes: ItemNode[], edges: Edge[], steps: TestSteps | null): { nodes: ItemNode[]; edges: Edge[] } {
  if (!steps) return { nodes, edges };
  const byItem = new Map<string, Step>();
  for (const s of steps) if (!byItem.has(s.item) || s.outcome !== 'sent') byItem.set(s.item, s);
  const taken = new Map<string, string | undefined>();
  for (const s of steps) {
    if (!s.from) continue;
    const router = steps.find((r) => r.item === s.from && r.matchedRule);
    taken.set(`${s.from}\u0000${s.item}`, router ? (router.matchedRules?.join(', ') ?? router.matchedRule) : undefined);
  }
  return {
    nodes: nodes.map((n) => {
      const s = byItem.get(n.id);
      if (!s) return { ...n, className: 'test-off', style: { ...n.style, opacity: 0.45 } };
      const colour = OUTCOME_COLOUR[s.outcome] ?? '#2563eb';
      return { ...n, className: `test-on test-${s.outcome}`, style: { ...n.style, outline: `3px solid ${colour}`, outlineOffset: 3, borderRadius: 10 } };
    }),
    edges: edges.map((e) => {
      const key = `${e.source}\u0000${e.target}`;
      if (!taken.has(key)) return { ...e, className: 'test-off', style: { ...e.style, opacity: 0.35 } };
      const rule = taken.get(key);
      return {
        ...e,
        className: 'test-on',
        animated: true,
        style: { ...e.style, stroke: '#2563eb', strokeWidth: 3 },
        ...(rule ? { label: `rule: ${rule}`, labelStyle: { fontWeight: 600 }, labelBgPadding: [6, 3] as [number, number], labelBgBorderRadius: 4 } : {}),
      };
    }),
  };
}

const SEGMENT_SPLIT = /\r\n|\r|\n/;

/** Before/after of a transform: HL7 line by line (by segment), JSON leaf by leaf. */
function OutputDiff({ before, after }: { before: string; after: string }) {
  if (!before.startsWith('MSH') && !before.startsWith('FHS') && !before.startsWith('BHS')) {
    try {
      return <JsonDiffView before={JSON.parse(before) as unknown} after={JSON.parse(after) as unknown} />;
    } catch {
      /* not JSON: shown as lines */
    }
  }
  const a = before.split(SEGMENT_SPLIT).filter((l) => l !== '');
  const b = after.split(SEGMENT_SPLIT).filter((l) => l !== '');
  const rows: { before?: string; after?: string }[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (a[i] !== b[i]) rows.push({ before: a[i], after: b[i] });
  if (rows.length === 0) return <p className="muted small">The output equals the input.</p>;
  return (
    <div className="table-wrap">
      <table className="data diff-table" data-testid="test-output-diff">
        <thead>
          <tr>
            <th>Before</th>
            <th>After</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            <tr key={i}>
              <td className="before">{r.before ?? <span className="muted">—</span>}</td>
              <td className="after">{r.after ?? <span className="muted">—</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function StepView({ step }: { step: Step }) {
  const [showBytes, setShowBytes] = useState(false);
  return (
    <li className="card" data-testid="test-step" data-item={step.item} data-outcome={step.outcome} style={{ padding: 10 }}>
      <div className="row">
        <strong className="grow">{step.item}</strong>
        <span className="muted small">{step.type}</span>
        <span className={`badge ${step.outcome === 'failed' || step.outcome === 'refused' ? 'failed' : step.outcome === 'discarded' || step.outcome === 'skipped' ? 'warning' : 'ok'}`}>
          {OUTCOME_LABEL[step.outcome] ?? step.outcome}
        </span>
      </div>
      {step.from ? <div className="muted small">from {step.from}</div> : null}
      {step.matchedRule ? (
        <div data-testid="test-matched-rule">
          Rule matched: <strong>{step.matchedRules?.join(', ') ?? step.matchedRule}</strong>
        </div>
      ) : null}
      {step.otherwise ? <div>No rule matched: {step.otherwise}</div> : null}
      {step.targets && step.targets.length > 0 ? <div className="small">→ {step.targets.join(', ')}</div> : null}
      {step.wouldSend ? (
        <div data-testid="test-would-send">
          Would send to <span className="mono">{step.wouldSend.to}</span>: {step.wouldSend.size} bytes{' '}
          <button type="button" className="small ghost" onClick={() => setShowBytes((v) => !v)} aria-expanded={showBytes}>
            {showBytes ? 'Hide' : 'Show'} bytes
          </button>
          {showBytes ? <pre className="mono small" style={{ whiteSpace: 'pre-wrap', maxHeight: 240, overflow: 'auto' }}>{step.wouldSend.bytes.replace(/\r/g, '\n')}</pre> : null}
        </div>
      ) : null}
      {step.output !== undefined && step.input !== undefined ? (
        <details open>
          <summary>Output (before → after)</summary>
          <OutputDiff before={step.input} after={step.output} />
        </details>
      ) : null}
      {step.problems && step.problems.length > 0 ? (
        <ul className="small" data-testid="test-problems" style={{ margin: '4px 0 0', color: step.outcome === 'failed' || step.outcome === 'refused' ? 'var(--danger)' : undefined }}>
          {step.problems.map((p, i) => (
            <li key={i}>{p}</li>
          ))}
        </ul>
      ) : null}
    </li>
  );
}

function CaseBadge({ result }: { result: Cases[number]['result'] }) {
  if (!result) return <span className="badge">not run</span>;
  return result.passed ? <span className="badge ok">pass</span> : <span className="badge failed">fail</span>;
}

interface Props {
  projectId: string;
  /** The latest saved version (what is tested). */
  version: number;
  dirty: boolean;
  readOnly: boolean;
  /** Item names, for "enter at". */
  items: string[];
  /** Show a run on the canvas (null clears it). */
  onSteps: (steps: TestSteps | null) => void;
  onClose: () => void;
}

type Source = 'typed' | 'corpus' | 'stored';

/** The designer's Test panel: run a sample through the saved version in the sandbox; saved test cases with pass/fail. */
export function TestPanel({ projectId, version, dirty, readOnly, items, onSteps, onClose }: Props) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [source, setSource] = useState<Source>('typed');
  const [raw, setRaw] = useState('');
  const [messageId, setMessageId] = useState('');
  const [item, setItem] = useState('');
  const [caseName, setCaseName] = useState('');
  const [steps, setSteps] = useState<TestSteps | null>(null);
  const headRef = useRef<HTMLHeadingElement>(null);
  useEffect(() => headRef.current?.focus(), []);

  const samples = useQuery(trpc.production.samples.queryOptions({ projectId }, { staleTime: Infinity }));
  const casesKey = { projectId, ...(version > 0 ? { version } : {}) };
  const cases = useQuery(trpc.testCases.list.queryOptions(casesKey));
  const refreshCases = () => void qc.invalidateQueries({ queryKey: trpc.testCases.list.queryKey() });

  const show = (s: TestSteps | null) => {
    setSteps(s);
    onSteps(s);
  };
  const run = useMutation(trpc.production.test.mutationOptions({ onSuccess: (r) => show(r.steps) }));
  const create = useMutation(
    trpc.testCases.create.mutationOptions({
      onSuccess: () => {
        toast.success(`Saved test case “${caseName.trim()}” with the current result as expected`);
        setCaseName('');
        refreshCases();
      },
    }),
  );
  const runAll = useMutation(
    trpc.testCases.run.mutationOptions({
      onSuccess: (r) => {
        toast.info(`${r.passed} passed, ${r.failed} failed on v${r.version}`);
        refreshCases();
      },
    }),
  );
  const runOne = useMutation(
    trpc.testCases.run.mutationOptions({
      onSuccess: (r) => {
        const o = r.outcomes[0];
        if (o?.result) show(o.result.steps);
        refreshCases();
      },
    }),
  );
  const rebaseline = useMutation(trpc.testCases.update.mutationOptions({ onSuccess: refreshCases }));
  const remove = useMutation(trpc.testCases.delete.mutationOptions({ onSuccess: refreshCases }));

  const canRun = !readOnly && version > 0 && (source === 'stored' ? messageId.trim() !== '' : raw.trim() !== '');
  const doRun = () => {
    if (!canRun) return;
    run.mutate({ projectId, ...(source === 'stored' ? { messageId: messageId.trim() } : { raw }), ...(item ? { item } : {}) });
  };

  return (
    <div className="drawer" role="dialog" aria-modal="false" aria-labelledby="test-title" data-testid="test-panel" style={{ width: 'min(480px, 96vw)' }}>
      <div className="drawer-head">
        <h2 id="test-title" ref={headRef} tabIndex={-1} style={{ margin: 0, flex: 1 }}>
          Test a message
        </h2>
        {steps ? (
          <button type="button" className="small" onClick={() => show(null)}>
            Clear canvas
          </button>
        ) : null}
        <button type="button" className="ghost" onClick={onClose} aria-label="Close the test panel">
          ✕
        </button>
      </div>
      <div className="drawer-body stack">
        <p className="muted small" style={{ margin: 0 }}>
          Runs the saved version v{version} (not the deployed one) with every item&apos;s real code. Operations send nothing: they show what they would send.
          {dirty ? <strong style={{ color: 'var(--warning)' }}> Unsaved changes are not tested: save first.</strong> : null}
        </p>
        {readOnly ? <p className="muted">Testing needs the analyst role.</p> : null}
        <div className="row" role="radiogroup" aria-label="Sample">
          {(
            [
              ['typed', 'Typed or pasted'],
              ['corpus', 'Corpus sample'],
              ['stored', 'Stored message'],
            ] as const
          ).map(([value, label]) => (
            <label key={value} className="row" style={{ gap: 4 }}>
              <input type="radio" name="test-source" value={value} checked={source === value} onChange={() => setSource(value)} />
              {label}
            </label>
          ))}
        </div>
        {source === 'corpus' ? (
          <div className="field">
            <label htmlFor="test-sample">Sample message</label>
            <select
              id="test-sample"
              defaultValue=""
              onChange={(e) => {
                const s = samples.data?.find((x) => x.id === e.target.value);
                if (s) setRaw(s.raw.replace(/\r/g, '\n'));
              }}
            >
              <option value="" disabled>
                Pick a sample…
              </option>
              {(samples.data ?? []).map((s) => (
                <option key={s.id} value={s.id}>
                  {s.label}
                </option>
              ))}
            </select>
          </div>
        ) : null}
        {source === 'stored' ? (
          <div className="field">
            <label htmlFor="test-message-id">Stored message id</label>
            <input id="test-message-id" className="mono" value={messageId} onChange={(e) => setMessageId(e.target.value)} placeholder="from the Messages page" />
          </div>
        ) : (
          <div className="field">
            <label htmlFor="test-raw">Message</label>
            <textarea id="test-raw" className="mono" rows={7} value={raw} onChange={(e) => setRaw(e.target.value)} placeholder="MSH|^~\&|…" spellCheck={false} />
          </div>
        )}
        <div className="row">
          <label htmlFor="test-item" className="small">
            Enters at
          </label>
          <select id="test-item" value={item} onChange={(e) => setItem(e.target.value)}>
            <option value="">the first service</option>
            {items.map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
          <span className="grow" />
          <button type="button" className="primary small" onClick={doRun} disabled={!canRun || run.isPending} data-testid="test-run">
            {run.isPending ? <span className="spinner" aria-hidden /> : null}
            Run test
          </button>
        </div>
        {run.isError ? <ErrorBanner error={run.error} /> : null}
        {steps ? (
          <section aria-label="Test result" className="stack">
            <ol className="stack" style={{ listStyle: 'none', padding: 0, margin: 0 }} data-testid="test-steps">
              {steps.map((s, i) => (
                <StepView key={`${s.item}-${i}`} step={s} />
              ))}
            </ol>
            {!readOnly && source !== 'stored' ? (
              <div className="row">
                <label htmlFor="test-case-name" className="sr-only">
                  Test case name
                </label>
                <input id="test-case-name" placeholder="Test case name" value={caseName} onChange={(e) => setCaseName(e.target.value)} style={{ flex: 1 }} />
                <button
                  type="button"
                  className="small"
                  disabled={caseName.trim() === '' || create.isPending}
                  onClick={() => create.mutate({ projectId, name: caseName.trim(), raw, ...(item ? { item } : {}) })}
                  title="A golden case: what this version sends now becomes what every later version must send"
                  data-testid="test-save-case"
                >
                  Save as test case
                </button>
              </div>
            ) : null}
            {create.isError ? <ErrorBanner error={create.error} /> : null}
          </section>
        ) : null}

        <section aria-labelledby="test-cases-title" className="stack" data-testid="test-cases">
          <div className="row">
            <h3 id="test-cases-title" className="grow" style={{ margin: 0 }}>
              Saved test cases
            </h3>
            {!readOnly ? (
              <button type="button" className="small" onClick={() => runAll.mutate({ projectId })} disabled={runAll.isPending || (cases.data?.cases.length ?? 0) === 0} data-testid="test-run-all">
                Run all
              </button>
            ) : null}
          </div>
          <p className="muted small" style={{ margin: 0 }}>
            They run on every save; results for v{cases.data?.version ?? version}.
          </p>
          {cases.isPending ? <Loading /> : null}
          {cases.isError ? <ErrorBanner error={cases.error} /> : null}
          {cases.data && cases.data.cases.length === 0 ? <p className="muted small">No saved test cases yet: run a message, then “Save as test case”.</p> : null}
          <ul className="stack" style={{ listStyle: 'none', padding: 0, margin: 0 }}>
            {(cases.data?.cases ?? []).map((c) => (
              <li key={c.id} className="card" style={{ padding: 8 }} data-testid="test-case" data-name={c.name} data-status={c.result ? (c.result.passed ? 'passed' : 'failed') : 'none'}>
                <div className="row">
                  <strong className="grow">{c.name}</strong>
                  <CaseBadge result={c.result} />
                  {!readOnly ? (
                    <>
                      <button type="button" className="small" onClick={() => runOne.mutate({ projectId, id: c.id })} title="Run it and show the result on the canvas">
                        Run
                      </button>
                      <button type="button" className="small" onClick={() => rebaseline.mutate({ projectId, id: c.id, rebaseline: true })} title="Save the current result as expected">
                        Accept current
                      </button>
                      <button type="button" className="small danger" onClick={() => remove.mutate({ projectId, id: c.id })} aria-label={`Delete test case ${c.name}`}>
                        ✕
                      </button>
                    </>
                  ) : null}
                </div>
                {c.result && !c.result.passed ? (
                  <ul className="small error-text" style={{ margin: '4px 0 0' }}>
                    {c.result.failures.map((f, i) => (
                      <li key={i}>{f}</li>
                    ))}
                  </ul>
                ) : null}
              </li>
            ))}
          </ul>
        </section>
      </div>
    </div>
  );
}
