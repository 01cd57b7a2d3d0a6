'use client';
/**
 * Groups and notes on the designer canvas: React Flow nodes drawn from `spec.canvas`. A group is
 * a labelled box behind the items (membership is geometric: see `inGroup` in @hie/config); a
 * note is free text. Both resize with React Flow's NodeResizer and edit inline on double-click;
 * every change goes back to the spec through {@link CanvasEditContext}, so undo/redo and saving
 * treat them like item positions.
 */
import { createContext, memo, useContext, useState, type KeyboardEvent } from 'react';
import { NodeResizer, type Node, type NodeProps, type ResizeParams } from '@xyflow/react';
import type { CanvasColour } from '@hie/config';

export interface GroupNodeData extends Record<string, unknown> {
  label: string;
  colour?: CanvasColour;
}
export interface NoteNodeData extends Record<string, unknown> {
  text: string;
}
export type GroupNode = Node<GroupNodeData, 'canvasGroup'>;
export type NoteNode = Node<NoteNodeData, 'canvasNote'>;
export type CanvasNode = GroupNode | NoteNode;

/** Below the edges even when selected (React Flow lifts a selected node by 1000). */
export const GROUP_Z = -1001;
/** A note's width when it has none of its own. */
export const NOTE_W = 200;

/** How canvas nodes write back to the spec (by node id). */
export interface CanvasEdit {
  readOnly: boolean;
  onLabel: (nodeId: string, label: string) => void;
  onText: (nodeId: string, text: string) => void;
  onResize: (nodeId: string, box: ResizeParams) => void;
}

export const CanvasEditContext = createContext<CanvasEdit>({ readOnly: true, onLabel: () => undefined, onText: () => undefined, onResize: () => undefined });

/**
 * Text edited in place: shown as text, a field on double-click; Enter (Ctrl+Enter in a
 * multi-line note) or leaving the field keeps it, Escape drops the change.
 */
function InlineText({ value, multiline, placeholder, label, onCommit, readOnly }: { value: string; multiline: boolean; placeholder: string; label: string; onCommit: (v: string) => void; readOnly: boolean }) {
  const [draft, setDraft] = useState<string | null>(null);
  if (draft === null || readOnly) {
    return (
      <span
        className={value ? 'canvas-text' : 'canvas-text muted'}
        onDoubleClick={readOnly ? undefined : () => setDraft(value)}
        title={readOnly ? undefined : 'Double-click to edit'}
        data-testid="canvas-text"
      >
        {value || placeholder}
      </span>
    );
  }
  const commit = () => {
    if (draft !== value) onCommit(draft);
    setDraft(null);
  };
  const onKeyDown = (e: KeyboardEvent) => {
    e.stopPropagation();
    if (e.key === 'Escape') setDraft(null);
    else if (e.key === 'Enter' && (!multiline || e.ctrlKey || e.metaKey)) commit();
  };
  const common = {
    // Mounted by the double-click that asked for it: focus goes there, the text selected.
    autoFocus: true,
    onFocus: (e: { currentTarget: { select: () => void } }) => e.currentTarget.select(),
    className: 'nodrag nowheel',
    'aria-label': label,
    value: draft,
    onChange: (e: { target: { value: string } }) => setDraft(e.target.value),
    onBlur: commit,
    onKeyDown,
  };
  return multiline ? <textarea {...common} maxLength={2000} rows={4} /> : <input {...common} maxLength={200} />;
}

function GroupNodeView({ id, data, selected }: NodeProps<GroupNode>) {
  const edit = useContext(CanvasEditContext);
  return (
    <>
      <NodeResizer isVisible={selected && !edit.readOnly} minWidth={80} minHeight={60} onResizeEnd={(_e, box) => edit.onResize(id, box)} />
      <div className={`hie-group ${data.colour ?? 'grey'}`} data-testid={`group-${data.label || 'unnamed'}`}>
        <div className="hie-group-label">
          <InlineText value={data.label} multiline={false} placeholder="Group (double-click to name)" label="Group label" readOnly={edit.readOnly} onCommit={(v) => edit.onLabel(id, v)} />
        </div>
      </div>
    </>
  );
}

function NoteNodeView({ id, data, selected }: NodeProps<NoteNode>) {
  const edit = useContext(CanvasEditContext);
  return (
    <>
      <NodeResizer isVisible={selected && !edit.readOnly} minWidth={80} minHeight={24} onResizeEnd={(_e, box) => edit.onResize(id, box)} />
      <div className="hie-note" data-testid="note">
        <InlineText value={data.text} multiline placeholder="Note (double-click to write)" label="Note text" readOnly={edit.readOnly} onCommit={(v) => edit.onText(id, v)} />
      </div>
    </>
  );
}

export const canvasNodeTypes = { canvasGroup: memo(GroupNodeView), canvasNote: memo(NoteNodeView) };
