'use client';
import { useState } from 'react';
import { typeLabel, type ItemKind } from './spec';

export interface PaletteType {
  type: string;
  kind: ItemKind;
  description: string;
}

export const DRAG_MIME = 'application/x-hie-item-type';

const GROUPS: { kind: ItemKind; title: string; help: string }[] = [
  { kind: 'service', title: 'Services', help: 'inbound' },
  { kind: 'process', title: 'Processes', help: 'route, transform' },
  { kind: 'operation', title: 'Operations', help: 'outbound' },
];

/** Item types to drag onto the canvas (or press Enter on to add at the centre). */
export function Palette({ types, disabled, onAdd }: { types: PaletteType[]; disabled: boolean; onAdd: (type: string) => void }) {
  const [filter, setFilter] = useState('');
  const f = filter.trim().toLowerCase();
  const shown = types.filter((t) => !f || t.type.includes(f) || t.description.toLowerCase().includes(f) || typeLabel(t.type).toLowerCase().includes(f));
  return (
    <aside className="palette" aria-label="Item palette" data-testid="palette">
      <input
        type="search"
        placeholder="Filter types…"
        aria-label="Filter item types"
        value={filter}
        onChange={(e) => setFilter(e.target.value)}
        style={{ width: '100%', marginBottom: 10 }}
      />
      {GROUPS.map((g) => {
        const list = shown.filter((t) => t.kind === g.kind);
        if (list.length === 0) return null;
        return (
          <section key={g.kind} aria-label={g.title}>
            <h3>
              {g.title} <span style={{ textTransform: 'none', letterSpacing: 0 }}>· {g.help}</span>
            </h3>
            {list.map((t) => (
              <button
                key={t.type}
                type="button"
                className={`palette-item ${t.kind}`}
                draggable={!disabled}
                disabled={disabled}
                data-testid={`palette-${t.type}`}
                aria-label={`Add ${typeLabel(t.type)} (${t.type})`}
                title={`${t.description}\nDrag onto the canvas, or press Enter to add it in the middle.`}
                onDragStart={(e) => {
                  e.dataTransfer.setData(DRAG_MIME, t.type);
                  e.dataTransfer.setData('text/plain', t.type);
                  e.dataTransfer.effectAllowed = 'move';
                }}
                onClick={() => onAdd(t.type)}
              >
                <span className="t">{typeLabel(t.type)}</span>
                <span className="d mono">{t.type}</span>
                <span className="d">{t.description}</span>
              </button>
            ))}
          </section>
        );
      })}
      {shown.length === 0 ? <p className="muted small">No item types match.</p> : null}
      <p className="muted small" style={{ marginTop: 14 }}>
        Drag a type onto the canvas. Connect items by dragging from a node’s right handle to another’s left handle.
      </p>
    </aside>
  );
}
