/**
 * The one database type every query in this lib is written against: Drizzle's `PgDatabase`,
 * whichever driver (node-postgres or PGlite) is underneath. Raw SQL goes through
 * `db.execute(sql…)` on both, so there is one code path.
 */
import type { ExtractTablesWithRelations, SQL } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import type { Schema } from './schema.js';

export type StoreDb = PgDatabase<PgQueryResultHKT, Schema>;
export type StoreTx = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;
export type StoreExecutor = StoreDb | StoreTx;

/** Rows of a raw query. Both drivers return `{ rows }`; timestamps arrive as text, int8 as text (pg) or number (PGlite). */
export async function queryRows<T extends Record<string, unknown>>(db: StoreExecutor, query: SQL): Promise<T[]> {
  const result: unknown = await db.execute(query);
  const rows: unknown = result !== null && typeof result === 'object' ? Reflect.get(result, 'rows') : undefined;
  if (!Array.isArray(rows)) return [];
  return rows as T[];
}

/** A timestamptz from a raw row (text) as a `Date`. */
export function toDate(v: unknown): Date {
  if (v instanceof Date) return v;
  if (typeof v === 'string' || typeof v === 'number') return new Date(v);
  throw new TypeError(`not a timestamp: ${typeof v}`);
}

/** A bytea from either driver (`Buffer` or `Uint8Array`) as a plain `Uint8Array` view (no copy). */
export function toBytes(v: unknown): Uint8Array | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Uint8Array) {
    return v.constructor === Uint8Array ? v : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  }
  throw new TypeError(`not bytea: ${typeof v}`);
}

export function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint' || typeof v === 'string') return Number(v);
  throw new TypeError(`not a number: ${typeof v}`);
}

export function toStr(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
}

/**
 * Runs one statement of the hot path straight on the driver: on PostgreSQL as a named prepared
 * statement (parsed and planned once per connection), on PGlite as a plain parameterised query.
 * The SQL text is the same on both.
 */
export type RunStatement = (name: string, text: string, params: unknown[]) => Promise<void>;
