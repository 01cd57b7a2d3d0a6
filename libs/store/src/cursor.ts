/** Opaque keyset cursors: base64url of a small JSON array. */
import { StoreError } from './errors.js';

export function encodeCursor(parts: (string | number)[]): string {
  return Buffer.from(JSON.stringify(parts), 'utf8').toString('base64url');
}

/** Decodes a cursor made by {@link encodeCursor} with the given shape, or throws `store.invalid`. */
export function decodeCursor<T extends readonly ('string' | 'number')[]>(
  cursor: string,
  shape: T,
): { [K in keyof T]: T[K] extends 'number' ? number : string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (!Array.isArray(parsed) || parsed.length !== shape.length || !shape.every((t, i) => typeof parsed[i] === t)) {
    throw new StoreError('store.invalid', 'invalid cursor', { details: { field: 'cursor' } });
  }
  return parsed as { [K in keyof T]: T[K] extends 'number' ? number : string };
}
