'use client';
import { useState } from 'react';

function pretty(v: unknown): string {
  return v === undefined ? '' : JSON.stringify(v, null, 2);
}

function sameJson(text: string, serialized: string): boolean {
  try {
    return pretty(JSON.parse(text)) === serialized;
  } catch {
    return false;
  }
}

/** Position → "line 3, column 7" for JSON.parse errors that only give a position. */
function describeError(text: string, e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  const m = /position (\d+)/.exec(msg);
  if (!m || /line \d+/.test(msg)) return msg;
  const pos = Number(m[1]);
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  const col = pos - before.lastIndexOf('\n');
  return `${msg.replace(/ in JSON at position \d+.*$/, '')} (line ${line}, column ${col})`;
}

interface Props {
  id: string;
  value: unknown;
  onChange: (v: unknown) => void;
  disabled?: boolean;
  example?: unknown;
  invalid?: boolean;
  rows?: number;
  /** Accessible name when the visible label is not unique on the page. */
  ariaLabel?: string;
}

/**
 * A JSON text editor: the value is applied as soon as the text parses; while it does not, the
 * parse error is shown inline and the last valid value stays in place.
 */
export function JsonEditor({ id, value, onChange, disabled, example, invalid, rows = 8, ariaLabel }: Props) {
  const serialized = pretty(value);
  const [draft, setDraft] = useState(serialized);
  const [seen, setSeen] = useState(serialized);
  const [error, setError] = useState<string | null>(null);
  if (serialized !== seen) {
    // The value changed from outside (undo, another control): follow it unless the draft already says so.
    setSeen(serialized);
    if (!sameJson(draft, serialized)) {
      setDraft(serialized);
      setError(null);
    }
  }
  const apply = (text: string) => {
    setDraft(text);
    if (text.trim() === '') {
      setError(null);
      onChange(undefined);
      return;
    }
    try {
      const v: unknown = JSON.parse(text);
      setError(null);
      onChange(v);
    } catch (e) {
      setError(describeError(text, e));
    }
  };
  return (
    <div className="json-editor stack" style={{ gap: 4 }}>
      <textarea
        id={id}
        aria-label={ariaLabel}
        rows={Math.min(24, Math.max(rows, draft.split('\n').length + 1))}
        value={draft}
        spellCheck={false}
        disabled={disabled}
        aria-invalid={!!error || invalid || undefined}
        aria-describedby={error ? `${id}-parse` : undefined}
        onChange={(e) => apply(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Tab' && !e.shiftKey && !e.ctrlKey && !e.metaKey && !e.altKey) {
            // Two spaces instead of leaving the field; Esc then Tab leaves (see help below).
            const el = e.currentTarget;
            if (el.dataset.escape === '1') {
              el.dataset.escape = '';
              return;
            }
            e.preventDefault();
            const { selectionStart: a, selectionEnd: b } = el;
            const text = draft.slice(0, a) + '  ' + draft.slice(b);
            apply(text);
            requestAnimationFrame(() => el.setSelectionRange(a + 2, a + 2));
          } else if (e.key === 'Escape') {
            e.currentTarget.dataset.escape = '1';
          }
        }}
      />
      {error ? (
        <div id={`${id}-parse`} className="error-text" role="alert">
          JSON error: {error} — the last valid value is kept.
        </div>
      ) : null}
      <div className="row">
        <button type="button" className="small" disabled={disabled || !!error || draft.trim() === ''} onClick={() => setDraft(serialized)}>
          Format
        </button>
        {example !== undefined ? (
          <button type="button" className="small" disabled={disabled} onClick={() => apply(pretty(example))} title="Replace with an example you can adapt">
            Insert example
          </button>
        ) : null}
        <span className="muted small">Tab indents; Esc then Tab leaves the editor.</span>
      </div>
    </div>
  );
}
