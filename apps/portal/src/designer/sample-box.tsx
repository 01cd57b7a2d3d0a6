'use client';
import { useId } from 'react';
import { DEFAULT_SAMPLE } from './editor-model';
import { useSample } from './sample';

/** The shared sample message, editable (paste a real one); rules and transforms are tried on it. */
export function SampleBox({ open = false }: { open?: boolean }) {
  const [sample, setSample] = useSample();
  const id = useId();
  return (
    <details className="sample-box" open={open}>
      <summary>Sample message</summary>
      <textarea
        id={id}
        aria-label="Sample message"
        className="mono"
        rows={6}
        spellCheck={false}
        value={sample.replace(/\r/g, '\n')}
        onChange={(e) => setSample(e.target.value)}
      />
      <div className="row small">
        <span className="muted grow">Paste a message to try the rules and transforms on it. It stays in this browser tab.</span>
        <button type="button" className="small" onClick={() => setSample(DEFAULT_SAMPLE)}>
          Reset sample
        </button>
      </div>
    </details>
  );
}
