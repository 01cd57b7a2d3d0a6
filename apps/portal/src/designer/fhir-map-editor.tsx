'use client';
/**
 * The `hl7v2.to.fhir` custom map in the same mapping editor as hl7.transform: the sample message
 * as a tree, its fields dragged onto a FHIR element of one of the map's resources to make a rule,
 * rules reordered, edited by keyboard or removed, and the Bundle the map makes of the sample
 * previewed live by the engine's own interpreter. Around it, what is not a rule: the map's name
 * and Bundle type, its resources, its code tables. The map stays data (validated by `v2FhirMap`
 * in @hie/config on save and again by the engine); a built-in map can be copied in as a start,
 * and the whole map can still be edited as JSON.
 */
import { useCallback, useId, useMemo, useState } from 'react';
import { BUILTIN_V2_FHIR_MAPS, V2_FHIR_FUNCTIONS } from '@hie/config';
import { JsonEditor } from '../components/json-editor';
import { FieldErrors } from '../components/schema-form';
import type { DragSource, MapTarget } from './editor-model';
import { type FhirMapPreview, type FhirMapStep, fhirStepFromDrop, fhirTargets, isRec, mapResources, mapWithSteps, previewFhirMap, stepsOfMap } from './fhir-map-model';
import { MappingEditor } from './transform-editor';

type Rec = Record<string, unknown>;

const str = (v: unknown) => (typeof v === 'string' ? v : '');
const list = (v: unknown) => (Array.isArray(v) ? (v as unknown[]).map(String).join(', ') : '');
/** An optional field: empty means absent (the schema refuses empty paths and lists). */
function opt(r: Rec, key: string, v: string | string[]): Rec {
  const next = { ...r };
  if (v === '' || (Array.isArray(v) && v.length === 0)) delete next[key];
  else next[key] = v;
  return next;
}
const splitList = (text: string) =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** Which argument each function takes, and how its box is labelled. */
const ARG: Record<string, { key: 'value' | 'table' | 'sources' | 'resource'; label: string } | undefined> = {
  copy: { key: 'value', label: 'default' },
  lookup: { key: 'table', label: 'table' },
  concat: { key: 'sources', label: 'sources' },
  constant: { key: 'value', label: 'value' },
  reference: { key: 'resource', label: 'resource id' },
};

const LABEL = 'FHIR map';

/** A map with one Patient from PID and no rules: the start for a map of one's own. */
const EMPTY_MAP = { name: 'custom', bundleType: 'transaction', resources: [{ id: 'patient', resourceType: 'Patient', segment: 'PID', conditional: 'none', rules: [] }] };

interface Props {
  value: unknown;
  onChange: (v: unknown) => void;
  disabled: boolean;
  errors: string[];
}

export function FhirMapEditor({ value, onChange, disabled, errors }: Props) {
  const uid = useId();
  const [asJson, setAsJson] = useState(false);
  const map: Rec | undefined = isRec(value) ? value : undefined;
  const resources = useMemo(() => mapResources(map), [map]);
  const steps = useMemo(() => stepsOfMap(map), [map]);
  const targets = useMemo(() => fhirTargets(map), [map]);
  const stepFromDrop = useCallback((s: DragSource, t: MapTarget) => fhirStepFromDrop(map, s, t), [map]);
  const preview = useCallback((sample: string, st: FhirMapStep[]) => <PreviewView preview={previewFhirMap(sample, mapWithSteps(map, st))} />, [map]);
  const setMap = (patch: Rec) => onChange({ ...map, ...patch });
  const ids = resources.map((r) => str(r.id));

  return (
    <fieldset data-testid="fhir-map-editor">
      <legend>Custom map</legend>
      <p className="help" style={{ margin: '0 0 8px' }}>
        Each rule sets a FHIR element (<code>identifier[*].value</code>: one per repetition) from an HL7 v2 path (<code>PID-3.1</code>). Functions: {V2_FHIR_FUNCTIONS.join(', ')}.
      </p>
      <div className="row" style={{ marginBottom: 8, gap: 8 }}>
        {(Object.keys(BUILTIN_V2_FHIR_MAPS) as (keyof typeof BUILTIN_V2_FHIR_MAPS)[]).map((name) => (
          <button key={name} type="button" className="small" disabled={disabled} onClick={() => onChange(structuredClone({ ...BUILTIN_V2_FHIR_MAPS[name], name: `${name} (custom)` }))}>
            Start from {name}
          </button>
        ))}
        <button type="button" className="small" disabled={disabled} onClick={() => onChange(structuredClone(EMPTY_MAP))}>
          Start empty
        </button>
        <label className="field inline" style={{ fontWeight: 400 }}>
          <input type="checkbox" checked={asJson} onChange={(e) => setAsJson(e.target.checked)} /> Edit as JSON
        </label>
      </div>
      {asJson || !map ? (
        <JsonEditor id={`${uid}-json`} value={map} onChange={(v) => onChange(v ?? undefined)} disabled={disabled} example={BUILTIN_V2_FHIR_MAPS.adt} invalid={errors.length > 0} rows={14} />
      ) : (
        <div className="stack">
          <div className="row" style={{ gap: 8 }}>
            <label className="field">
              <span className="label">Name</span>
              <input value={str(map.name)} disabled={disabled} onChange={(e) => setMap({ name: e.target.value })} />
            </label>
            <label className="field">
              <span className="label">Bundle type</span>
              <select value={str(map.bundleType) || 'transaction'} disabled={disabled} onChange={(e) => setMap({ bundleType: e.target.value })}>
                {['transaction', 'batch', 'collection'].map((t) => (
                  <option key={t}>{t}</option>
                ))}
              </select>
            </label>
          </div>
          <fieldset>
            <legend>Resources</legend>
            {resources.map((res, i) => (
              <ResourceRow
                key={i}
                resource={res}
                disabled={disabled}
                onChange={(r) => setMap({ resources: resources.map((x, j) => (j === i ? r : x)) })}
                onRemove={() => setMap({ resources: resources.filter((_, j) => j !== i) })}
              />
            ))}
            <button type="button" className="small" disabled={disabled} onClick={() => setMap({ resources: [...resources, { id: `resource${resources.length + 1}`, resourceType: 'Patient', rules: [] }] })}>
              + Add resource
            </button>
          </fieldset>
          <MappingEditor<FhirMapStep>
            label={LABEL}
            steps={steps}
            onChange={(next) => onChange(mapWithSteps(map, next))}
            disabled={disabled}
            extraTargets={targets}
            treeTargets={false}
            help="Drag a value from the tree onto an element of a resource to make a rule that sets it. Open a resource to see its elements."
            emptyText="No rules yet: the resources are made empty."
            stepFromDrop={stepFromDrop}
            renderStep={(s, set, l) => <RuleView step={s} resourceIds={ids} onChange={set} label={l} disabled={disabled} />}
            newSteps={ids.map((id) => ({ label: `Rule of ${id}`, make: () => ({ resource: id, rule: { target: '', source: '', fn: 'copy' } }) }))}
            preview={preview}
          />
          <div className="field">
            <span className="label">Code tables (JSON: table → v2 code → FHIR code)</span>
            <JsonEditor id={`${uid}-tables`} value={map.tables ?? {}} onChange={(v) => setMap({ tables: v ?? {} })} disabled={disabled} example={{ gender: { M: 'male', F: 'female' } }} rows={6} />
          </div>
        </div>
      )}
      <FieldErrors id={`${uid}-errors`} errors={errors} />
    </fieldset>
  );
}

function ResourceRow({ resource, disabled, onChange, onRemove }: { resource: Rec; disabled: boolean; onChange: (r: Rec) => void; onRemove: () => void }) {
  const id = str(resource.id);
  return (
    <div className="row" style={{ gap: 8, marginBottom: 6 }} data-testid={`fhir-resource-${id}`}>
      <input aria-label="Resource id" value={id} disabled={disabled} onChange={(e) => onChange({ ...resource, id: e.target.value })} style={{ width: 110 }} />
      <input aria-label={`${id} resource type`} value={str(resource.resourceType)} disabled={disabled} onChange={(e) => onChange({ ...resource, resourceType: e.target.value })} style={{ width: 140 }} />
      <input aria-label={`${id} segment`} placeholder="segment" value={str(resource.segment)} disabled={disabled} onChange={(e) => onChange(opt(resource, 'segment', e.target.value))} style={{ width: 70 }} />
      <label className="inline small">
        <input type="checkbox" checked={resource.forEach === true} disabled={disabled} onChange={(e) => onChange({ ...resource, forEach: e.target.checked })} /> each
      </label>
      <select aria-label={`${id} conditional`} value={str(resource.conditional) || 'none'} disabled={disabled} onChange={(e) => onChange({ ...resource, conditional: e.target.value })}>
        {['none', 'create', 'update'].map((c) => (
          <option key={c}>{c}</option>
        ))}
      </select>
      <button type="button" className="small danger" disabled={disabled} onClick={onRemove} aria-label={`Remove resource ${id}`}>
        Remove
      </button>
    </div>
  );
}

/** One rule, every part editable by keyboard: resource, target ← source, function and its argument, condition. */
function RuleView({ step, resourceIds, onChange, label, disabled }: { step: FhirMapStep; resourceIds: string[]; onChange: (s: FhirMapStep) => void; label: string; disabled: boolean }) {
  const r = step.rule;
  const set = (rule: Rec) => onChange({ ...step, rule });
  const fn = str(r.fn) || 'copy';
  const arg = ARG[fn];
  const box = (key: string, name: string, placeholder: string, width: number) => (
    <input aria-label={`${label} ${name}`} className="mono" style={{ width }} value={str(r[key])} placeholder={placeholder} disabled={disabled} onChange={(e) => set(opt(r, key, e.target.value))} />
  );
  const listBox = (key: string, name: string, placeholder: string) => (
    <input aria-label={`${label} ${name}`} className="mono" style={{ width: 110 }} value={list(r[key])} placeholder={placeholder} disabled={disabled} onChange={(e) => set(opt(r, key, splitList(e.target.value)))} />
  );
  return (
    <span className="row step-fields" style={{ gap: 4 }}>
      <select aria-label={`${label} resource`} value={step.resource} disabled={disabled} onChange={(e) => onChange({ ...step, resource: e.target.value })}>
        {resourceIds.map((id) => (
          <option key={id}>{id}</option>
        ))}
      </select>
      {box('target', 'target', 'name[0].family', 150)}
      <span aria-hidden="true">←</span>
      {box('source', 'source', 'PID-5.1', 90)}
      <select aria-label={`${label} function`} value={fn} disabled={disabled} onChange={(e) => set({ ...r, fn: e.target.value })}>
        {V2_FHIR_FUNCTIONS.map((f) => (
          <option key={f}>{f}</option>
        ))}
      </select>
      {arg?.key === 'sources' ? listBox('sources', arg.label, 'PID-5.2, PID-5.1') : arg ? box(arg.key, arg.label, '', 110) : null}
      <span className="muted small">when</span>
      {box('when', 'when', 'OBX-2', 70)}
      {listBox('whenIn', 'when values', 'NM, SN')}
    </span>
  );
}

function PreviewView({ preview }: { preview: FhirMapPreview }) {
  const entries = preview.ok && Array.isArray(preview.bundle.entry) ? (preview.bundle.entry as { resource?: { resourceType?: string } }[]) : [];
  return (
    <section aria-label={`${LABEL} preview`} data-testid="fhir-map-preview">
      <h4 style={{ margin: '4px 0' }}>Preview (the Bundle made of the sample)</h4>
      {preview.ok ? (
        <>
          <p className="small muted" style={{ margin: '2px 0' }}>
            {entries.length} {entries.length === 1 ? 'entry' : 'entries'}: {entries.map((e) => e.resource?.resourceType ?? '?').join(', ') || 'none'}. The engine also checks the Bundle against FHIR R4 when it runs.
          </p>
          {preview.warnings.length > 0 ? (
            <ul className="error-text small" role="status" aria-label={`${LABEL} preview problems`}>
              {preview.warnings.map((w, i) => (
                <li key={i}>{w}</li>
              ))}
            </ul>
          ) : null}
          <pre className="mono small fhir-json" data-testid="fhir-map-json">
            {preview.json}
          </pre>
        </>
      ) : (
        <ul className="error-text" role="alert" aria-label={`${LABEL} preview problems`}>
          {preview.problems.map((p, i) => (
            <li key={i}>{p}</li>
          ))}
        </ul>
      )}
    </section>
  );
}
