'use client';
import { useId } from 'react';
import { DEFAULT_SAMPLES, type SampleKind, useSample } from './sample';

const HINT: Record<SampleKind, string> = {
  hl7: 'Paste a message to try the rules and transforms on it. It stays in this browser tab.',
  fhir: 'Paste a FHIR R4 resource or Bundle (JSON) to try the rules on it. It is kept in this browser tab and tested by the manager, never stored.',
};

/** The shared sample message of a kind, editable (paste a real one); rules and transforms are tried on it. */
export function SampleBox({ open = false, kind = 'hl7' }: { open?: boolean; kind?: SampleKind }) {
  const [sample, setSample] = useSample(kind);
  const id = useId();
  return (
    <details className="sample-box" open={open}>
      <summary>Sample message</summary>
      <textarea
        id={id}
        aria-label="Sample message"
        className="mono"
        rows={kind === 'fhir' ? 10 : 6}
        spellCheck={false}
        value={kind === 'hl7' ? sample.replace(/\r/g, '\n') : sample}
        onChange={(e) => setSample(e.target.value)}
      />
      <div className="row small">
        <span className="muted grow">{HINT[kind]}</span>
        <button type="button" className="small" onClick={() => setSample(DEFAULT_SAMPLES[kind])}>
          Reset sample
        </button>
      </div>
    </details>
  );
}
