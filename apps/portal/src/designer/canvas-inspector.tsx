'use client';
import { canvasColours, type CanvasColour } from '@hie/config';
import type { SpecGroup, SpecNote } from './spec';

interface GroupProps {
  group: SpecGroup;
  members: string[];
  readOnly: boolean;
  onChange: (patch: Partial<Omit<SpecGroup, 'id'>>, key?: string) => void;
  onDelete: () => void;
}

/** One group selected: its label, colour, the items inside it, delete (the items stay). */
export function GroupInspector({ group, members, readOnly, onChange, onDelete }: GroupProps) {
  return (
    <div className="inspector" data-testid="inspector" aria-label="Group">
      <div className="inspector-head">
        <h2 style={{ margin: 0 }}>Group</h2>
        <div className="muted small">Moving the group moves the items and notes inside it.</div>
      </div>
      <div className="inspector-body">
        <fieldset className="plain" disabled={readOnly}>
          <div className="field">
            <label htmlFor="group-label">Label</label>
            <input id="group-label" maxLength={200} value={group.label} onChange={(e) => onChange({ label: e.target.value }, `group:${group.id}:label`)} />
          </div>
          <div className="field">
            <label htmlFor="group-colour">Colour</label>
            <select id="group-colour" value={group.colour ?? 'grey'} onChange={(e) => onChange({ colour: e.target.value === 'grey' ? undefined : (e.target.value as CanvasColour) })}>
              {canvasColours.map((c) => (
                <option key={c} value={c}>
                  {c}
                </option>
              ))}
            </select>
          </div>
        </fieldset>
        <section aria-label="Items in the group">
          <h3>Inside</h3>
          {members.length > 0 ? (
            <ul className="small" style={{ margin: 0, paddingLeft: 18 }} data-testid="group-members">
              {members.map((n) => (
                <li key={n}>{n}</li>
              ))}
            </ul>
          ) : (
            <p className="muted small">No items yet: drag items into the box.</p>
          )}
        </section>
        {!readOnly ? (
          <div>
            <button type="button" className="danger" onClick={onDelete}>
              Delete group
            </button>
            <p className="muted small">Deletes the box only; the items inside it stay.</p>
          </div>
        ) : null}
      </div>
    </div>
  );
}

interface NoteProps {
  note: SpecNote;
  readOnly: boolean;
  onText: (text: string) => void;
  onDelete: () => void;
}

/** One note selected: its text, delete. */
export function NoteInspector({ note, readOnly, onText, onDelete }: NoteProps) {
  return (
    <div className="inspector" data-testid="inspector" aria-label="Note">
      <div className="inspector-head">
        <h2 style={{ margin: 0 }}>Note</h2>
        <div className="muted small">Free text on the canvas; the engine ignores it.</div>
      </div>
      <div className="inspector-body">
        <fieldset className="plain" disabled={readOnly}>
          <div className="field">
            <label htmlFor="note-text">Text</label>
            <textarea id="note-text" rows={6} maxLength={2000} style={{ fontFamily: 'inherit', fontSize: 'inherit' }} value={note.text} onChange={(e) => onText(e.target.value)} />
            <span className="help">Up to 2000 characters.</span>
          </div>
        </fieldset>
        {!readOnly ? (
          <div>
            <button type="button" className="danger" onClick={onDelete}>
              Delete note
            </button>
          </div>
        ) : null}
      </div>
    </div>
  );
}
