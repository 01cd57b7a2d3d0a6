'use client';
/**
 * Type-to-add: press a letter on the canvas, type part of a type's name ("mllp", "router",
 * "file out"), Enter adds it at the centre of the view. Arrow keys pick among the matches.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import { useStore } from '@xyflow/react';
import type { PaletteType } from './palette';
import { typeLabel } from './spec';

/** Types matching a query: every word in the label, the type id or the description; label matches first. */
export function matchTypes(types: readonly PaletteType[], query: string): PaletteType[] {
  const words = query.trim().toLowerCase().split(/\s+/).filter(Boolean);
  const score = (t: PaletteType) => {
    const label = typeLabel(t.type).toLowerCase();
    const hay = `${label} ${t.type} ${t.description}`.toLowerCase();
    if (!words.every((w) => hay.includes(w))) return -1;
    return words.every((w) => label.includes(w) || t.type.includes(w)) ? (label.startsWith(words[0] ?? '') ? 3 : 2) : 1;
  };
  return types
    .map((t) => ({ t, s: score(t) }))
    .filter((x) => x.s >= 0)
    .sort((a, b) => b.s - a.s)
    .map((x) => x.t);
}

export function QuickAdd({ types, initial, onAdd, onClose }: { types: readonly PaletteType[]; initial: string; onAdd: (type: string) => void; onClose: () => void }) {
  const [query, setQuery] = useState(initial);
  const [index, setIndex] = useState(0);
  const input = useRef<HTMLInputElement>(null);
  const matches = useMemo(() => matchTypes(types, query), [types, query]);
  useEffect(() => input.current?.focus(), []);
  const pick = (t: PaletteType | undefined) => {
    if (!t) return;
    onAdd(t.type);
    onClose();
  };
  return (
    <div className="quick-add" role="dialog" aria-label="Add an item" data-testid="quick-add">
      <input
        ref={input}
        aria-label="Item type to add"
        placeholder="Type a type name: mllp, router, file out…"
        value={query}
        onChange={(e) => {
          setQuery(e.target.value);
          setIndex(0);
        }}
        onKeyDown={(e) => {
          if (e.key === 'Escape') onClose();
          else if (e.key === 'ArrowDown') setIndex((i) => Math.min(i + 1, matches.length - 1));
          else if (e.key === 'ArrowUp') setIndex((i) => Math.max(i - 1, 0));
          else if (e.key === 'Enter') {
            e.preventDefault();
            pick(matches[index]);
          } else return;
          e.stopPropagation();
        }}
        onBlur={onClose}
      />
      <ul role="listbox" aria-label="Matching item types">
        {matches.length === 0 ? <li className="muted small">No type matches “{query}”.</li> : null}
        {matches.slice(0, 8).map((t, i) => (
          <li
            key={t.type}
            role="option"
            aria-selected={i === index}
            className={i === index ? 'active' : undefined}
            onMouseDown={(e) => {
              e.preventDefault();
              pick(t);
            }}
          >
            <strong>{typeLabel(t.type)}</strong> <code className="small">{t.type}</code>
            <div className="muted small">{t.description}</div>
          </li>
        ))}
      </ul>
    </div>
  );
}

/** Tells the canvas its zoom (a CSS variable and a `data-zoom` of near/far) so node text stays readable when zoomed out. */
export function ZoomLevel({ target }: { target: React.RefObject<HTMLDivElement | null> }) {
  const zoom = useStore((s) => s.transform[2]);
  useEffect(() => {
    const el = target.current;
    if (!el) return;
    el.style.setProperty('--zoom', String(zoom));
    el.dataset.zoom = zoom < 0.6 ? 'far' : 'near';
  }, [zoom, target]);
  return null;
}
