'use client';
/**
 * Transforms without JSON. The sample message is a tree (segments → fields → repetitions →
 * components); drag a value onto a field to copy it there, or onto "Set a value" / "Clear";
 * steps reorder by drag or ↑/↓; the output is previewed live, as a diff against the input, by
 * the engine's own transform code.
 *
 * `MappingEditor` is the reusable part: it knows nothing of hl7.transform steps. A map to another
 * format (hl7v2.to.fhir) passes its own `targets`, `stepFromDrop`, step view and preview.
 */
import { useCallback, useMemo, useState, type DragEvent, type ReactNode } from 'react';
import type { TransformOperation } from '@hie/config';
import { type DiffLine, type DragSource, type MapTarget, type Preview, type TreeNode, messageTree, moveStep, parseSample, previewTransform, stepFromDrop } from './editor-model';
import { SampleBox } from './sample-box';
import { useSample } from './sample';

const DRAG_FIELD = 'application/x-hie-field';
const DRAG_STEP = 'application/x-hie-step';

export interface MappingEditorProps<Step> {
  /** Accessible name prefix, e.g. `Transform` or `Rule 1 transform`. */
  label: string;
  steps: Step[];
  onChange: (steps: Step[]) => void;
  disabled: boolean;
  /** Drop zones beside the tree, shown under their `group`'s heading when they have one. */
  extraTargets: MapTarget[];
  /**
   * Whether the tree's own fields are drop targets (`copy:<path>`): yes for a transform of the
   * message, no for a map to another format.
   * @defaultValue true
   */
  treeTargets?: boolean;
  /** The hint beside the drop zones. */
  help?: string;
  /** What the step list says while it is empty. */
  emptyText?: string;
  stepFromDrop: (source: DragSource, target: MapTarget) => Step | undefined;
  /** One step's editor. */
  renderStep: (step: Step, onChange: (s: Step) => void, label: string) => ReactNode;
  /** Steps a person can add by hand. */
  newSteps: { label: string; make: () => Step }[];
  /** The live preview of the steps on the sample (computed again only when either changes). */
  preview: (sample: string, steps: Step[]) => ReactNode;
}

function readDrag(e: DragEvent, type: string): string | undefined {
  const v = e.dataTransfer.getData(type);
  return v === '' ? undefined : v;
}

/** The generic editor: source tree with drop targets, ordered steps, live preview. */
export function MappingEditor<Step>(p: MappingEditorProps<Step>) {
  const [sample] = useSample();
  const [over, setOver] = useState<string | null>(null);
  const parsed = useMemo(() => parseSample(sample), [sample]);
  const tree = useMemo(() => ('msg' in parsed ? messageTree(parsed.msg) : []), [parsed]);
  const { preview: run, steps } = p;
  const preview = useMemo(() => run(sample, steps), [run, steps, sample]);

  const drop = (e: DragEvent, target: MapTarget) => {
    e.preventDefault();
    setOver(null);
    const raw = readDrag(e, DRAG_FIELD);
    if (!raw || p.disabled) return;
    const step = p.stepFromDrop(JSON.parse(raw) as DragSource, target);
    if (step !== undefined) p.onChange([...p.steps, step]);
  };
  const treeTargets = p.treeTargets ?? true;
  const dropProps = (target: MapTarget) => ({
    onDragOver: (e: DragEvent) => {
      if (p.disabled || !e.dataTransfer.types.includes(DRAG_FIELD)) return;
      e.preventDefault();
      setOver(target.id);
    },
    onDragLeave: () => setOver((o) => (o === target.id ? null : o)),
    onDrop: (e: DragEvent) => drop(e, target),
  });

  const node = (n: TreeNode, depth: number): ReactNode => (
    <div key={n.path}>
      <div
        className={`tree-node${over === `copy:${n.path}` ? ' drop-over' : ''}${n.value === '' ? ' empty' : ''}`}
        style={{ paddingLeft: 6 + depth * 14 }}
        data-testid={`tree-${n.path}`}
        draggable={!p.disabled && n.value !== ''}
        onDragStart={(e) => {
          e.dataTransfer.setData(DRAG_FIELD, JSON.stringify({ path: n.path, value: n.value } satisfies DragSource));
          e.dataTransfer.effectAllowed = 'copy';
        }}
        {...(treeTargets ? dropProps({ id: `copy:${n.path}`, label: n.path }) : {})}
        title={!treeTargets ? `Drag ${n.path} onto a target` : n.value === '' ? `${n.path} is empty: drop a field here to copy it in` : `Drag ${n.path} onto another field to copy it`}
      >
        <span className="p mono">{n.label}</span>
        <span className="v mono">{n.value}</span>
      </div>
      {n.children.map((c) => node(c, depth + 1))}
    </div>
  );

  return (
    <div className="mapping-editor stack" role="group" aria-label={p.label}>
      <SampleBox />
      {'error' in parsed ? <div className="error-text">The sample is not an HL7 message: {parsed.error}</div> : null}
      <div className="mapping-grid">
        <div className="hl7-tree mapping-tree" aria-label={`${p.label} sample tree`}>
          {tree.map((seg) => (
            <details key={seg.path} open={seg.name !== 'MSH'}>
              <summary className="mono">{seg.path}</summary>
              {seg.fields.map((f) => node(f, 0))}
            </details>
          ))}
        </div>
        <div className="stack" style={{ gap: 6 }}>
          {groupTargets(p.extraTargets).map(([group, targets], gi) => {
            const zones = targets.map((t) => (
              <div key={t.id} className={`drop-zone${over === t.id ? ' drop-over' : ''}`} data-testid={`drop-${t.id}`} {...dropProps(t)}>
                {t.label}
              </div>
            ));
            if (group === undefined) return zones;
            return (
              <details key={group} className="drop-group" open={gi === 0} aria-label={`${p.label} targets of ${group}`}>
                {/* Opens when a drag hovers it, so a field can be dropped on a closed group's targets. */}
                <summary
                  onDragEnter={(e) => {
                    (e.currentTarget.parentElement as HTMLDetailsElement).open = true;
                  }}
                >
                  {group}
                </summary>
                <div className="drop-chips">{zones}</div>
              </details>
            );
          })}
          <p className="help">{p.help ?? 'Drag a value from the tree onto a field to copy it there, or onto one of the boxes.'}</p>
        </div>
      </div>

      <Steps {...p} />

      {preview}
    </div>
  );
}

/** Targets in order, consecutive ones of one group together. */
function groupTargets(targets: readonly MapTarget[]): [string | undefined, MapTarget[]][] {
  const out: [string | undefined, MapTarget[]][] = [];
  for (const t of targets) {
    const last = out.at(-1);
    if (last && last[0] === t.group) last[1].push(t);
    else out.push([t.group, [t]]);
  }
  return out;
}

function Steps<Step>(p: MappingEditorProps<Step>) {
  const [dragFrom, setDragFrom] = useState<number | null>(null);
  return (
    <fieldset>
      <legend>Steps</legend>
      <ol className="steps" aria-label={`${p.label} steps`}>
        {p.steps.length === 0 ? <li className="muted small">{p.emptyText ?? 'No steps yet: the message goes out unchanged.'}</li> : null}
        {p.steps.map((step, i) => (
          <li
            key={i}
            className="step-row"
            data-testid={`step-${i + 1}`}
            draggable={!p.disabled}
            onDragStart={(e) => {
              e.dataTransfer.setData(DRAG_STEP, String(i));
              setDragFrom(i);
            }}
            onDragOver={(e) => {
              if (e.dataTransfer.types.includes(DRAG_STEP)) e.preventDefault();
            }}
            onDrop={(e) => {
              const from = Number(readDrag(e, DRAG_STEP) ?? dragFrom);
              setDragFrom(null);
              if (Number.isInteger(from)) {
                e.preventDefault();
                p.onChange(moveStep(p.steps, from, i));
              }
            }}
          >
            <span className="drag-handle" aria-hidden="true">⠿</span>
            <span className="grow">{p.renderStep(step, (s) => p.onChange(p.steps.map((x, j) => (j === i ? s : x))), `${p.label} step ${i + 1}`)}</span>
            <button type="button" className="small icon" aria-label={`Move ${p.label} step ${i + 1} up`} disabled={p.disabled || i === 0} onClick={() => p.onChange(moveStep(p.steps, i, i - 1))}>
              ↑
            </button>
            <button
              type="button"
              className="small icon"
              aria-label={`Move ${p.label} step ${i + 1} down`}
              disabled={p.disabled || i === p.steps.length - 1}
              onClick={() => p.onChange(moveStep(p.steps, i, i + 1))}
            >
              ↓
            </button>
            <button type="button" className="small icon danger" aria-label={`Remove ${p.label} step ${i + 1}`} disabled={p.disabled} onClick={() => p.onChange(p.steps.filter((_, j) => j !== i))}>
              ✕
            </button>
          </li>
        ))}
      </ol>
      <label className="field inline small" style={{ fontWeight: 400 }}>
        Add a step{' '}
        <select
          aria-label={`${p.label} add step`}
          value=""
          disabled={p.disabled}
          onChange={(e) => {
            const n = p.newSteps.find((x) => x.label === e.target.value);
            if (n) p.onChange([...p.steps, n.make()]);
          }}
        >
          <option value="">— choose —</option>
          {p.newSteps.map((n) => (
            <option key={n.label}>{n.label}</option>
          ))}
        </select>
      </label>
    </fieldset>
  );
}

function DiffRow({ line }: { line: DiffLine }) {
  if (line.kind === 'same') return <div className="diff-line same">{'  '}{line.after}</div>;
  if (line.kind === 'added') return <div className="diff-line diff-added">+ {line.after}</div>;
  if (line.kind === 'removed') return <div className="diff-line diff-removed">- {line.before}</div>;
  const changed = new Set(line.fields);
  const parts = (text: string) => {
    const msh = text.startsWith('MSH');
    return text.split('|').map((f, i) => (
      <span key={i}>
        {i > 0 ? '|' : ''}
        {changed.has(msh ? i + 1 : i) ? <mark>{f}</mark> : f}
      </span>
    ));
  };
  return (
    <>
      <div className="diff-line diff-removed">- {parts(line.before ?? '')}</div>
      <div className="diff-line diff-added">+ {parts(line.after ?? '')}</div>
    </>
  );
}

function PreviewView({ preview, label }: { preview: Preview; label: string }) {
  return (
    <section aria-label={`${label} preview`} data-testid="transform-preview">
      <h4 style={{ margin: '4px 0' }}>Preview (output against the sample)</h4>
      {preview.ok ? (
        <pre className="hl7-diff mono small">
          {preview.diff.map((l, i) => (
            <DiffRow key={i} line={l} />
          ))}
        </pre>
      ) : (
        <div className="error-text" role="alert">
          {preview.error}
        </div>
      )}
    </section>
  );
}

/** Defaults of each hl7.transform operation a person adds by hand. */
const NEW_OPS: { label: string; make: () => TransformOperation }[] = [
  { label: 'Set a field', make: () => ({ op: 'set', path: 'MSH-5', value: '' }) },
  { label: 'Copy a field', make: () => ({ op: 'copy', from: 'PID-3.1', to: 'PID-2' }) },
  { label: 'Move a field', make: () => ({ op: 'move', from: 'PID-3.1', to: 'PID-2' }) },
  { label: 'Clear a field', make: () => ({ op: 'delete', path: 'PID-2' }) },
  { label: 'Map values (lookup table)', make: () => ({ op: 'map', path: 'PV1-2', table: { I: 'INPATIENT' } }) },
  { label: 'Upper case', make: () => ({ op: 'upper', path: 'PID-5.1' }) },
  { label: 'Lower case', make: () => ({ op: 'lower', path: 'PID-5.1' }) },
  { label: 'Reformat a date', make: () => ({ op: 'date', path: 'PID-7', from: 'YYYYMMDD', to: 'YYYY-MM-DD' }) },
  { label: 'Add a segment', make: () => ({ op: 'addSegment', segment: 'ZPI|1|' }) },
  { label: 'Remove segments', make: () => ({ op: 'removeSegment', name: 'ZPI' }) },
  { label: 'Set the version (MSH-12)', make: () => ({ op: 'setVersion', version: '2.5' }) },
];

const OP_WORDS: Record<TransformOperation['op'], string> = {
  set: 'Set',
  copy: 'Copy',
  move: 'Move',
  delete: 'Clear',
  map: 'Map',
  upper: 'Upper-case',
  lower: 'Lower-case',
  date: 'Reformat date',
  addSegment: 'Add segment',
  removeSegment: 'Remove segments',
  setVersion: 'Set version',
};

const KEY_WORDS: Record<string, string> = { path: 'field', from: 'from', to: 'to', value: 'value', segment: 'segment', after: 'after', name: 'name', version: 'version', default: 'default' };

/** The table of a map step as "key=value" lines. */
function tableText(t: Record<string, string>): string {
  return Object.entries(t)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n');
}
function parseTable(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return out;
}

function OperationView({ step, onChange, label, disabled }: { step: TransformOperation; onChange: (s: TransformOperation) => void; label: string; disabled: boolean }) {
  const entries = Object.entries(step).filter(([k]) => k !== 'op' && k !== 'table');
  return (
    <span className="row nowrap step-fields">
      <strong className="small">{OP_WORDS[step.op] ?? step.op}</strong>
      {entries.map(([k, v]) => (
        <label key={k} className="small inline" style={{ fontWeight: 400 }}>
          <span className="muted">{KEY_WORDS[k] ?? k}</span>{' '}
          <input
            aria-label={`${label} ${KEY_WORDS[k] ?? k}`}
            className="mono"
            style={{ width: k === 'value' || k === 'segment' ? 140 : 96 }}
            value={typeof v === 'string' ? v : ''}
            disabled={disabled}
            onChange={(e) => onChange({ ...step, [k]: e.target.value } as TransformOperation)}
          />
        </label>
      ))}
      {step.op === 'map' ? (
        <textarea
          aria-label={`${label} table`}
          className="mono"
          rows={2}
          placeholder="I=INPATIENT"
          defaultValue={tableText(step.table)}
          disabled={disabled}
          onBlur={(e) => onChange({ ...step, table: parseTable(e.target.value) })}
        />
      ) : null}
    </span>
  );
}

const HL7_TARGETS: MapTarget[] = [
  { id: 'set', label: 'Set a value (drop a field here)' },
  { id: 'delete', label: 'Clear (drop a field here)' },
];

/** The hl7.transform editor: `MappingEditor` with hl7.transform operations. */
export function TransformEditor({ value, onChange, disabled, label = 'Transform' }: { value: unknown; onChange: (ops: TransformOperation[]) => void; disabled: boolean; label?: string }) {
  const steps = Array.isArray(value) ? (value as TransformOperation[]) : [];
  const preview = useCallback((sample: string, ops: TransformOperation[]) => <PreviewView preview={previewTransform(sample, ops)} label={label} />, [label]);
  return (
    <MappingEditor<TransformOperation>
      label={label}
      steps={steps}
      onChange={onChange}
      disabled={disabled}
      extraTargets={HL7_TARGETS}
      stepFromDrop={stepFromDrop}
      renderStep={(s, set, l) => <OperationView step={s} onChange={set} label={l} disabled={disabled} />}
      newSteps={NEW_OPS}
      preview={preview}
    />
  );
}
