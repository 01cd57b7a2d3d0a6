/**
 * How `hl7.transform` operations (and a router's transform action) change a message: pure and
 * isomorphic, so the engine transforms with it and the portal's transform editor previews with
 * the very same code in the browser.
 */
import type { TransformOperation } from '../item-types/hl7-transform';

/** What operations change: a parsed HL7 message (`Hl7Message` of @hie/hl7 fits). */
export interface TransformTarget {
  get(path: string): string | undefined;
  getRaw(path: string): string | undefined;
  set(path: string, value: string, options?: { raw?: boolean }): void;
  delete(path: string): unknown;
  addSegment(text: string, options?: { after?: string }): unknown;
  removeSegments(name: string): unknown;
}

const TOKENS = ['YYYY', 'MM', 'DD', 'HH', 'mm', 'ss'] as const;
type Token = (typeof TOKENS)[number];

/** Reformat a date by token patterns (YYYY MM DD HH mm ss); returns the input when it does not fit. */
export function reformatDate(value: string, from: string, to: string): string {
  const parts: Partial<Record<Token, string>> = {};
  let vi = 0;
  for (let pi = 0; pi < from.length; ) {
    const tok = TOKENS.find((t) => from.startsWith(t, pi));
    if (tok) {
      const chunk = value.slice(vi, vi + tok.length);
      if (chunk.length === 0) break; // shorter precision (e.g. date only) is fine
      if (!/^\d+$/.test(chunk) || chunk.length !== tok.length) return value;
      parts[tok] = chunk;
      vi += tok.length;
      pi += tok.length;
    } else {
      if (value[vi] !== from[pi]) return value;
      vi++;
      pi++;
    }
  }
  if (!parts.YYYY) return value;
  let out = '';
  for (let i = 0; i < to.length; ) {
    const tok = TOKENS.find((t) => to.startsWith(t, i));
    if (tok) {
      out += parts[tok] ?? '0'.repeat(tok.length);
      i += tok.length;
    } else out += to[i++];
  }
  return out;
}

/** Apply transform operations in order to a message (mutates it). Operations are data, never code. */
export function applyOperations(msg: TransformTarget, ops: readonly TransformOperation[]): void {
  for (const op of ops) {
    switch (op.op) {
      case 'set':
        msg.set(op.path, op.value);
        break;
      case 'copy':
        // Raw copy: components and escapes move exactly as they are.
        msg.set(op.to, msg.getRaw(op.from) ?? '', { raw: true });
        break;
      case 'move':
        msg.set(op.to, msg.getRaw(op.from) ?? '', { raw: true });
        msg.delete(op.from);
        break;
      case 'delete':
        msg.delete(op.path);
        break;
      case 'map': {
        const v = msg.get(op.path);
        if (v === undefined) break;
        const mapped = Object.prototype.hasOwnProperty.call(op.table, v) ? op.table[v] : op.default;
        if (mapped !== undefined) msg.set(op.path, mapped);
        break;
      }
      case 'upper':
      case 'lower': {
        const v = msg.get(op.path);
        if (v !== undefined) msg.set(op.path, op.op === 'upper' ? v.toUpperCase() : v.toLowerCase());
        break;
      }
      case 'date': {
        const v = msg.get(op.path);
        if (v) msg.set(op.path, reformatDate(v, op.from, op.to));
        break;
      }
      case 'addSegment':
        msg.addSegment(op.segment, op.after ? { after: op.after } : undefined);
        break;
      case 'removeSegment':
        msg.removeSegments(op.name);
        break;
      case 'setVersion':
        msg.set('MSH-12', op.version);
        break;
    }
  }
}
