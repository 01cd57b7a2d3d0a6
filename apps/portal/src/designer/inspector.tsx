'use client';
import { useCallback, useId, useState, type ReactNode } from 'react';
import { useMutation } from '@tanstack/react-query';
import { ITEM_NAME_PATTERN, formatPath, itemTypeDocPath } from '@hie/config';
import { SchemaForm, fieldMatches, humanize, resolve, type JsonSchema, type Path, type Widget } from '../components/schema-form';
import { useTRPC } from '../lib/trpc';
import { toast } from '../lib/toast';
import type { ItemStatus } from '../lib/live';
import { formatDateTime, formatMs, formatNumber, stateClass } from '../lib/format';
import { FhirMapEditor } from './fhir-map-editor';
import { ErrorList, RouterRulesEditor, TRANSFORM_EXAMPLE } from './router-rules';
import { ruleDialect, rulesExample } from './rule-dialect';
import { RuntimeErrorBanner } from './runtime-error-banner';
import { SETTING_GROUPS, type SettingGroup, commonGroup, typeSettingGroup } from './settings-groups';
import { TransformEditor } from './transform-editor';
import { setIn, typeLabel, type Spec, type SpecItem } from './spec';
import type { DesignProblem } from './validation';
import { ItemVariables } from './variable-hint';

/** Every common setting gets a label a person would use (and a test can find). */
export const COMMON_LABELS: Record<string, string> = {
  execution: 'Execution',
  'execution.mode': 'Execution mode',
  'execution.workers': 'Workers',
  queue: 'Queue',
  'queue.type': 'Queue type',
  'queue.size': 'Queue size',
  'queue.overflow': 'Overflow strategy',
  restart: 'Restart',
  'restart.policy': 'Restart policy',
  'restart.maxRestarts': 'Max restarts',
  'restart.delayMs': 'Restart delay (ms)',
  'restart.windowMs': 'Restart window (ms)',
  'restart.backoffFactor': 'Restart backoff factor',
  'restart.maxDelayMs': 'Max restart delay (ms)',
  messaging: 'Messaging',
  'messaging.pattern': 'Messaging pattern',
  'messaging.timeoutMs': 'Message timeout (ms)',
  'messaging.concurrency': 'Concurrency',
  'messaging.retries': 'Retries',
  'messaging.retryDelayMs': 'Retry delay (ms)',
  'messaging.retryMaxDelayMs': 'Max retry delay (ms)',
  circuitBreaker: 'Circuit breaker',
  'circuitBreaker.enabled': 'Circuit breaker enabled',
  'circuitBreaker.failureThreshold': 'Failure threshold',
  'circuitBreaker.resetTimeoutMs': 'Reset timeout (ms)',
  'circuitBreaker.halfOpenTrials': 'Half-open trials',
  'circuitBreaker.whenOpen': 'When open',
  rateLimit: 'Rate limit',
  'rateLimit.enabled': 'Rate limit enabled',
  'rateLimit.ratePerSecond': 'Rate (msg/s)',
  'rateLimit.burst': 'Burst',
  'queue.ttlMs': 'Time to live (ms)',
  priority: 'Priority',
  'priority.from': 'Priority from',
  'priority.value': 'Priority (0-9)',
  'priority.field': 'Priority from field',
  'priority.map': 'Field value → priority',
};

function Section({ title, children, testId }: { title: string; children: ReactNode; testId?: string }) {
  return (
    <section aria-label={title} data-testid={testId}>
      <h3>{title}</h3>
      {children}
    </section>
  );
}

const BASIC_FIELDS = ['Name', 'Enabled', 'Description'];

function matchesText(text: string, query: string): boolean {
  const q = query.trim().toLowerCase();
  return q === '' || q.split(/\s+/).every((w) => text.toLowerCase().includes(w));
}

/** The top-level keys of a settings schema by inspector group, keeping only those the search matches. */
function groupKeys(schema: JsonSchema | undefined, groupOf: (key: string) => SettingGroup, query: string, labels: Record<string, string>, exclude: string[]): Map<SettingGroup, string[]> {
  const out = new Map<SettingGroup, string[]>();
  if (!schema) return out;
  const root = resolve(schema, schema);
  for (const [key, sub] of Object.entries(root.properties ?? {})) {
    if (exclude.includes(key) || !fieldMatches(sub, schema, [key], labels[key] ?? humanize(key), query, labels)) continue;
    const g = groupOf(key);
    out.set(g, [...(out.get(g) ?? []), key]);
  }
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function problemMap(problems: DesignProblem[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const p of problems) m.set(p.path, [...(m.get(p.path) ?? []), p.message]);
  return m;
}

interface ItemInspectorProps {
  projectId: string;
  item: SpecItem;
  kind: string;
  description?: string;
  settingsSchema?: JsonSchema;
  commonSchema: JsonSchema;
  problems: DesignProblem[];
  readOnly: boolean;
  canOperate: boolean;
  names: Set<string>;
  targets: string[];
  live?: ItemStatus;
  onChange: (update: (item: SpecItem) => SpecItem, key?: string) => void;
  onRename: (to: string) => void;
  onDelete: () => void;
}

export function ItemInspector(p: ItemInspectorProps) {
  const { item, onChange } = p;
  const [query, setQuery] = useState('');
  const errors = problemMap(p.problems);
  const onSettings = useCallback(
    (path: Path, value: unknown) => onChange((it) => setIn(it, ['settings', ...path], value), `${item.name}:settings.${formatPath(path)}`),
    [onChange, item.name],
  );
  const onCommon = useCallback(
    (path: Path, value: unknown) => onChange((it) => setIn(it, path, value), `${item.name}:${formatPath(path)}`),
    [onChange, item.name],
  );
  const widgets: Record<string, Widget> = {};
  const examples: Record<string, unknown> = {};
  const dialect = ruleDialect(item.type);
  if (dialect) {
    widgets.rules = ({ value, onChange: set, disabled, errors: errs }) => (
      <RouterRulesEditor
        value={value}
        onChange={set}
        disabled={disabled}
        errors={errs}
        targets={p.targets}
        router={isRecord(item.settings) ? item.settings : undefined}
        dialect={dialect}
        projectId={p.projectId}
      />
    );
    examples.rules = rulesExample(dialect, p.targets);
  }
  if (item.type === 'hl7v2.to.fhir') {
    widgets.custom = ({ value, onChange: set, disabled, errors: errs }) => <FhirMapEditor value={value} onChange={set} disabled={disabled} errors={errs} />;
  }
  if (item.type === 'hl7.transform') {
    widgets.operations = ({ value, onChange: set, disabled, errors: errs }) => (
      <>
        <TransformEditor value={value} onChange={set} disabled={disabled} />
        <ErrorList errors={errs} />
      </>
    );
  }
  examples.operations = TRANSFORM_EXAMPLE;
  const typeKeysByGroup = groupKeys(p.settingsSchema, typeSettingGroup, query, {}, []);
  const commonKeysByGroup = groupKeys(p.commonSchema, commonGroup, query, COMMON_LABELS, ['enabled']);
  const noMatch = query.trim() !== '' && typeKeysByGroup.size === 0 && commonKeysByGroup.size === 0 && !BASIC_FIELDS.some((f) => matchesText(f, query));
  return (
    <div className="inspector" data-testid="inspector" aria-label={`Settings of ${item.name}`}>
      <div className="inspector-head">
        <div className="row nowrap">
          <h2 style={{ margin: 0, flex: 1, overflow: 'hidden', textOverflow: 'ellipsis' }}>{item.name}</h2>
          {!p.readOnly ? (
            <button type="button" className="small danger" onClick={p.onDelete} aria-label={`Delete ${item.name}`}>
              Delete
            </button>
          ) : null}
        </div>
        <div className="muted small">
          {typeLabel(item.type)} · <code>{item.type}</code> · {p.kind}
        </div>
        {p.description ? <div className="muted small">{p.description}</div> : null}
        <a className="small" href={itemTypeDocPath(item.type)} target="_blank" rel="noopener" data-testid="item-type-help">
          {item.type} reference (every setting) ↗
        </a>
      </div>
      <div className="inspector-body">
        <RuntimeErrorBanner live={p.live} kind={p.kind} />
        {p.problems.length > 0 ? (
          <div className="banner error" role="alert" data-testid="item-problems">
            <strong>
              {p.problems.length} problem{p.problems.length === 1 ? '' : 's'}
            </strong>
            <ul className="problems-list">
              {p.problems.map((x, i) => (
                <li key={i}>
                  {x.path ? <code>{x.path}</code> : null} {x.message}
                  {x.source === 'server' ? <span className="muted"> (server)</span> : null}
                </li>
              ))}
            </ul>
          </div>
        ) : null}
        <ItemVariables name={item.name} settings={item.settings} />
        <div className="settings-search">
          <input type="search" aria-label="Search settings" placeholder="Search settings…" value={query} onChange={(e) => setQuery(e.target.value)} />
        </div>
        <fieldset className="plain" disabled={p.readOnly}>
          <div className="stack" style={{ gap: 14 }}>
            {SETTING_GROUPS.map((group) => {
              const typeKeys = typeKeysByGroup.get(group) ?? [];
              const commonKeys = commonKeysByGroup.get(group) ?? [];
              const basics = group === 'Basics' ? BASIC_FIELDS.filter((f) => matchesText(f, query)) : [];
              if (typeKeys.length === 0 && commonKeys.length === 0 && basics.length === 0) return null;
              return (
                <Section key={group} title={group} testId={`group-${group}`}>
                  {basics.length > 0 ? (
                    <div className="form-grid">
                      {basics.includes('Name') ? <NameField name={item.name} names={p.names} onRename={p.onRename} errors={errors.get('name') ?? []} /> : null}
                      {basics.includes('Enabled') ? (
                        <div className="field inline">
                          <input
                            id="item-enabled"
                            type="checkbox"
                            checked={item.enabled !== false}
                            onChange={(e) => onChange((it) => ({ ...it, enabled: e.target.checked }), undefined)}
                          />
                          <label htmlFor="item-enabled">Enabled</label>
                        </div>
                      ) : null}
                      {basics.includes('Description') ? (
                        <div className="field">
                          <label htmlFor="item-description">Description</label>
                          <textarea
                            id="item-description"
                            rows={2}
                            style={{ fontFamily: 'inherit', fontSize: 'inherit' }}
                            value={typeof item.description === 'string' ? item.description : ''}
                            onChange={(e) => onChange((it) => setIn(it, ['description'], e.target.value || undefined), `${item.name}:description`)}
                          />
                        </div>
                      ) : null}
                    </div>
                  ) : null}
                  {typeKeys.length > 0 && p.settingsSchema ? (
                    <SchemaForm
                      schema={p.settingsSchema}
                      value={item.settings}
                      onChange={onSettings}
                      errors={errors}
                      errorBase={['settings']}
                      disabled={p.readOnly}
                      widgets={widgets}
                      examples={examples}
                      include={typeKeys}
                      filter={query}
                      idPrefix={`s-${item.name}`}
                    />
                  ) : null}
                  {commonKeys.length > 0 ? (
                    <SchemaForm
                      schema={p.commonSchema}
                      value={item}
                      onChange={onCommon}
                      errors={errors}
                      disabled={p.readOnly}
                      labels={COMMON_LABELS}
                      include={commonKeys}
                      filter={query}
                      idPrefix={`c-${item.name}`}
                    />
                  ) : null}
                </Section>
              );
            })}
            {!p.settingsSchema ? <p className="muted small">Unknown item type “{item.type}”: its settings cannot be edited here.</p> : null}
            {noMatch ? <p className="muted small" role="status">No setting matches “{query}”.</p> : null}
          </div>
        </fieldset>

        <Section title="Runtime" testId="runtime">
          <RuntimePanel projectId={p.projectId} name={item.name} live={p.live} canOperate={p.canOperate} />
        </Section>
      </div>
    </div>
  );
}

function NameField({ name, names, onRename, errors }: { name: string; names: Set<string>; onRename: (to: string) => void; errors: string[] }) {
  const [draft, setDraft] = useState<string | null>(null);
  const id = useId();
  const value = draft ?? name;
  const trimmed = value.trim();
  const local =
    draft === null
      ? null
      : trimmed === ''
        ? 'A name is required'
        : trimmed !== name && names.has(trimmed)
          ? `Another item is already called "${trimmed}"`
          : !ITEM_NAME_PATTERN.test(value)
            ? 'No spaces at the start or end'
            : value.length > 100
              ? 'At most 100 characters'
              : null;
  const commit = () => {
    if (draft !== null && !local && draft !== name) onRename(draft);
    setDraft(null);
  };
  const all = [...(local ? [local] : []), ...errors];
  return (
    <div className="field">
      <label htmlFor={id}>Name</label>
      <input
        id={id}
        value={value}
        aria-invalid={all.length > 0 || undefined}
        aria-describedby={all.length ? `${id}-err` : undefined}
        onChange={(e) => setDraft(e.target.value)}
        onBlur={commit}
        onKeyDown={(e) => {
          if (e.key === 'Enter') {
            e.preventDefault();
            commit();
          } else if (e.key === 'Escape') setDraft(null);
        }}
      />
      <span className="help">Connections and router rules follow a rename.</span>
      {all.length ? (
        <div id={`${id}-err`} className="error-text" role="alert">
          {all.join(' · ')}
        </div>
      ) : null}
    </div>
  );
}

function RuntimePanel({ projectId, name, live, canOperate }: { projectId: string; name: string; live?: ItemStatus; canOperate: boolean }) {
  const trpc = useTRPC();
  const opts = { onSuccess: () => toast.success(`Request sent to ${name}`) };
  const start = useMutation(trpc.production.itemStart.mutationOptions(opts));
  const stop = useMutation(trpc.production.itemStop.mutationOptions(opts));
  const restart = useMutation(trpc.production.itemRestart.mutationOptions(opts));
  if (!live) return <p className="muted small">Not running. Deploy the production to see live state.</p>;
  const rows: [string, ReactNode][] = [
    ['State', <span key="s" className={`badge ${stateClass(live.state)}`}>{live.state}</span>],
    ['Queue depth', formatNumber(live.queueDepth)],
    ['In flight', formatNumber(live.inFlight)],
    ['Processed', formatNumber(live.processed)],
    ['Errors', formatNumber(live.errors)],
    ['Discarded', formatNumber(live.discarded)],
    ['Restarts', formatNumber(live.restarts)],
    ['Throughput', `${formatNumber(live.throughputPerSec, 1)} msg/s`],
    ['Latency p50 / p99', `${formatMs(live.latencyP50Ms)} / ${formatMs(live.latencyP99Ms)}`],
    ['Circuit breaker', live.breaker || '—'],
  ];
  return (
    <div className="stack">
      <table className="data" style={{ fontSize: 12.5 }}>
        <tbody>
          {rows.map(([k, v]) => (
            <tr key={k}>
              <th style={{ position: 'static', width: '45%' }}>{k}</th>
              <td>{v}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {live.lastError ? (
        <div className="banner error small">
          <strong>Last error</strong> <code>{live.lastError.code}</code>: {live.lastError.message}
          <div className="muted small">{formatDateTime(live.lastError.at)}</div>
        </div>
      ) : null}
      {canOperate ? (
        <div className="row">
          <button type="button" className="small" onClick={() => start.mutate({ projectId, item: name })} disabled={start.isPending}>
            Start item
          </button>
          <button type="button" className="small" onClick={() => stop.mutate({ projectId, item: name })} disabled={stop.isPending}>
            Stop item
          </button>
          <button type="button" className="small" onClick={() => restart.mutate({ projectId, item: name })} disabled={restart.isPending}>
            Restart item
          </button>
        </div>
      ) : null}
    </div>
  );
}

interface ProductionInspectorProps {
  spec: Spec;
  schema: JsonSchema;
  problems: DesignProblem[];
  itemProblemCount: Map<string, number>;
  readOnly: boolean;
  onChange: (path: Path, value: unknown) => void;
  onSelect: (name: string) => void;
}

/** Nothing selected: the production's own settings and every problem in it. */
export function ProductionInspector({ spec, schema, problems, itemProblemCount, readOnly, onChange, onSelect }: ProductionInspectorProps) {
  const errors = problemMap(problems);
  const total = problems.length + [...itemProblemCount.values()].reduce((a, b) => a + b, 0);
  return (
    <div className="inspector" data-testid="inspector" aria-label="Production settings">
      <div className="inspector-head">
        <h2 style={{ margin: 0 }}>Production</h2>
        <div className="muted small">
          {spec.items.length} items · {spec.connections.length} connections. Select an item to edit it.
        </div>
      </div>
      <div className="inspector-body">
        {total > 0 ? (
          <div className="banner error" role="alert" data-testid="production-problems">
            <strong>
              {total} problem{total === 1 ? '' : 's'}
            </strong>
            <ul className="problems-list">
              {problems.map((x, i) => (
                <li key={`p${i}`}>
                  {x.path ? <code>{x.path}</code> : null} {x.message}
                </li>
              ))}
              {[...itemProblemCount].map(([name, n]) => (
                <li key={name}>
                  <button type="button" onClick={() => onSelect(name)}>
                    {name}
                  </button>
                  : {n} problem{n === 1 ? '' : 's'}
                </li>
              ))}
            </ul>
          </div>
        ) : (
          <div className="banner info small">No problems found.</div>
        )}
        <fieldset className="plain" disabled={readOnly}>
          <SchemaForm
            schema={schema}
            value={spec}
            onChange={onChange}
            errors={errors}
            disabled={readOnly}
            exclude={['items', 'connections', 'canvas']}
            labels={{ name: 'Production name', description: 'Production description', storage: 'Message storage', retentionDays: 'Retention (days)' }}
            idPrefix="prod"
          />
        </fieldset>
        <section aria-label="Keyboard shortcuts">
          <h3>Keyboard</h3>
          <table className="data small">
            <tbody>
              {[
                ['Delete / Backspace', 'delete the selection'],
                ['Shift + drag', 'select with a box'],
                ['Ctrl + click', 'add to the selection'],
                ['Ctrl + A', 'select everything'],
                ['Ctrl + C / Ctrl + V', 'copy / paste items'],
                ['Ctrl + G', 'group the selection'],
                ['Double-click', 'edit a group label or a note'],
                ['Ctrl + Z / Ctrl + Shift + Z', 'undo / redo'],
                ['Ctrl + S', 'save'],
              ].map(([k, v]) => (
                <tr key={k}>
                  <td>
                    <kbd>{k}</kbd>
                  </td>
                  <td>{v}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      </div>
    </div>
  );
}

interface MultiProps {
  names: string[];
  readOnly: boolean;
  onDelete: () => void;
  onEnable: (enabled: boolean) => void;
}

export function MultiInspector({ names, readOnly, onDelete, onEnable }: MultiProps) {
  return (
    <div className="inspector" data-testid="inspector" aria-label="Selection">
      <div className="inspector-head">
        <h2 style={{ margin: 0 }}>{names.length} items selected</h2>
      </div>
      <div className="inspector-body">
        <ul className="small" style={{ margin: 0, paddingLeft: 18 }}>
          {names.map((n) => (
            <li key={n}>{n}</li>
          ))}
        </ul>
        {!readOnly ? (
          <div className="row">
            <button type="button" onClick={() => onEnable(true)}>
              Enable all
            </button>
            <button type="button" onClick={() => onEnable(false)}>
              Disable all
            </button>
            <button type="button" className="danger" onClick={onDelete}>
              Delete {names.length} items
            </button>
          </div>
        ) : null}
        <p className="muted small">Ctrl + C copies the selection; Ctrl + V pastes it with new names.</p>
      </div>
    </div>
  );
}

interface ConnectionProps {
  from: string;
  to: string;
  description: string;
  readOnly: boolean;
  onDescription: (text: string) => void;
  onDelete: () => void;
  onSelect: (name: string) => void;
}

/** One connection selected: its ends, its description, delete. */
export function ConnectionInspector({ from, to, description, readOnly, onDescription, onDelete, onSelect }: ConnectionProps) {
  return (
    <div className="inspector" data-testid="inspector" aria-label="Connection">
      <div className="inspector-head">
        <h2 style={{ margin: 0 }}>Connection</h2>
        <div className="muted small">
          <button type="button" className="small ghost" onClick={() => onSelect(from)}>
            {from}
          </button>{' '}
          →{' '}
          <button type="button" className="small ghost" onClick={() => onSelect(to)}>
            {to}
          </button>
        </div>
      </div>
      <div className="inspector-body">
        <fieldset className="plain" disabled={readOnly}>
          <div className="field">
            <label htmlFor="connection-description">Description</label>
            <textarea
              id="connection-description"
              rows={3}
              style={{ fontFamily: 'inherit', fontSize: 'inherit' }}
              value={description}
              onChange={(e) => onDescription(e.target.value)}
            />
            <span className="help">Free text shown in the designer.</span>
          </div>
        </fieldset>
        {!readOnly ? (
          <div>
            <button type="button" className="danger" onClick={onDelete}>
              Delete connection
            </button>
          </div>
        ) : null}
      </div>
    </div>
  );
}
