'use client';
/**
 * The `hl7v2.to.fhir` custom map as tables: per resource, one row per rule — target ← source,
 * function and its argument, and the optional condition. The map stays data (validated by
 * `v2FhirMap` in @hie/config on save and again by the engine); the code tables and anything the
 * table cannot show are edited as JSON. A built-in map can be copied in as a starting point.
 */
import { useId, useState } from 'react';
import { BUILTIN_V2_FHIR_MAPS, V2_FHIR_FUNCTIONS } from '@hie/config';
import { JsonEditor } from '../components/json-editor';
import { FieldErrors } from '../components/schema-form';

type Rec = Record<string, unknown>;

const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown) => (typeof v === 'string' ? v : '');
/** An optional text field: empty means absent (the schema refuses empty paths). */
const opt = (r: Rec, key: string, v: string): Rec => {
  const next = { ...r };
  if (v === '') delete next[key];
  else next[key] = v;
  return next;
};

/** Which argument each function takes, and how the cell is labelled. */
const ARG: Record<string, { key: 'value' | 'table' | 'sources' | 'resource'; label: string } | undefined> = {
  copy: { key: 'value', label: 'default' },
  lookup: { key: 'table', label: 'table' },
  concat: { key: 'sources', label: 'sources (comma-separated)' },
  constant: { key: 'value', label: 'value' },
  reference: { key: 'resource', label: 'resource id' },
};

interface Props {
  value: unknown;
  onChange: (v: unknown) => void;
  disabled: boolean;
  errors: string[];
}

export function FhirMapTable({ value, onChange, disabled, errors }: Props) {
  const uid = useId();
  const [asJson, setAsJson] = useState(false);
  const map: Rec | undefined = isRec(value) ? value : undefined;
  const resources: Rec[] = Array.isArray(map?.resources) ? (map.resources as unknown[]).map((r) => (isRec(r) ? r : {})) : [];
  const setMap = (patch: Rec) => onChange({ ...map, ...patch });
  const setResource = (i: number, r: Rec) => setMap({ resources: resources.map((x, j) => (j === i ? r : x)) });

  return (
    <fieldset data-testid="fhir-map-table">
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
          {resources.map((res, i) => (
            <ResourceRules
              key={i}
              resource={res}
              disabled={disabled}
              onChange={(r) => setResource(i, r)}
              onRemove={() => setMap({ resources: resources.filter((_, j) => j !== i) })}
            />
          ))}
          <div>
            <button type="button" className="small" disabled={disabled} onClick={() => setMap({ resources: [...resources, { id: `resource${resources.length + 1}`, resourceType: 'Patient', rules: [] }] })}>
              + Add resource
            </button>
          </div>
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

function ResourceRules({ resource, disabled, onChange, onRemove }: { resource: Rec; disabled: boolean; onChange: (r: Rec) => void; onRemove: () => void }) {
  const rules: Rec[] = Array.isArray(resource.rules) ? (resource.rules as unknown[]).map((r) => (isRec(r) ? r : {})) : [];
  const id = str(resource.id);
  const setRule = (i: number, r: Rec) => onChange({ ...resource, rules: rules.map((x, j) => (j === i ? r : x)) });
  const cell = (i: number, r: Rec, key: string, label: string, placeholder = '') => (
    <input aria-label={`${id} rule ${i + 1} ${label}`} value={str(r[key])} placeholder={placeholder} disabled={disabled} onChange={(e) => setRule(i, opt(r, key, e.target.value))} />
  );
  return (
    <div className="stack" style={{ border: '1px solid var(--border, #ddd)', borderRadius: 6, padding: 8 }}>
      <div className="row" style={{ gap: 8 }}>
        <input aria-label="Resource id" value={id} disabled={disabled} onChange={(e) => onChange({ ...resource, id: e.target.value })} style={{ width: 110 }} />
        <input aria-label={`${id} resource type`} value={str(resource.resourceType)} disabled={disabled} onChange={(e) => onChange({ ...resource, resourceType: e.target.value })} style={{ width: 150 }} />
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
      <div className="table-wrap">
        <table className="data" aria-label={`Rules of ${id}`}>
          <thead>
            <tr>
              <th>Target (FHIR)</th>
              <th>←</th>
              <th>Source (v2)</th>
              <th>Function</th>
              <th>Argument</th>
              <th>When (v2 path = values)</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {rules.map((r, i) => {
              const fn = str(r.fn) || 'copy';
              const arg = ARG[fn];
              return (
                <tr key={i}>
                  <td>{cell(i, r, 'target', 'target', 'name[0].family')}</td>
                  <td>←</td>
                  <td>{cell(i, r, 'source', 'source', 'PID-5.1')}</td>
                  <td>
                    <select aria-label={`${id} rule ${i + 1} function`} value={fn} disabled={disabled} onChange={(e) => setRule(i, { ...r, fn: e.target.value })}>
                      {V2_FHIR_FUNCTIONS.map((f) => (
                        <option key={f}>{f}</option>
                      ))}
                    </select>
                  </td>
                  <td>
                    {arg?.key === 'sources' ? (
                      <input
                        aria-label={`${id} rule ${i + 1} ${arg.label}`}
                        value={Array.isArray(r.sources) ? (r.sources as string[]).join(', ') : ''}
                        disabled={disabled}
                        onChange={(e) => {
                          const list = e.target.value.split(',').map((s) => s.trim()).filter(Boolean);
                          setRule(i, list.length > 0 ? { ...r, sources: list } : opt(r, 'sources', ''));
                        }}
                      />
                    ) : arg ? (
                      cell(i, r, arg.key, arg.label)
                    ) : null}
                  </td>
                  <td>
                    <div className="row nowrap" style={{ gap: 4 }}>
                      {cell(i, r, 'when', 'when', 'OBX-2')}
                      <input
                        aria-label={`${id} rule ${i + 1} when values`}
                        placeholder="NM, SN"
                        value={Array.isArray(r.whenIn) ? (r.whenIn as string[]).join(', ') : ''}
                        disabled={disabled}
                        onChange={(e) => {
                          const list = e.target.value.split(',').map((s) => s.trim()).filter(Boolean);
                          setRule(i, list.length > 0 ? { ...r, whenIn: list } : opt(r, 'whenIn', ''));
                        }}
                      />
                    </div>
                  </td>
                  <td>
                    <button type="button" className="small" disabled={disabled} aria-label={`Remove ${id} rule ${i + 1}`} onClick={() => onChange({ ...resource, rules: rules.filter((_, j) => j !== i) })}>
                      ✕
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <div>
        <button type="button" className="small" disabled={disabled} onClick={() => onChange({ ...resource, rules: [...rules, { target: '', source: '', fn: 'copy' }] })}>
          + Add rule
        </button>
      </div>
    </div>
  );
}
