import { describe, expect, it } from 'vitest';
import { encodeCursor, decodeCursor } from './cursor.js';
import { StoreError, ensureError, toStoreError } from './errors.js';
import { bodyPattern } from './messages.js';

const pgError = (code: string, extra: Record<string, string> = {}) => Object.assign(new Error(`pg ${code}`), { code, ...extra });

describe('toStoreError', () => {
  it.each([
    ['23505', 'store.conflict', 'user'],
    ['23503', 'store.invalid', 'user'],
    ['22P05', 'store.invalid', 'user'],
    ['HIE01', 'store.immutable', 'user'],
    ['40001', 'store.busy', 'operational'],
    ['57P01', 'store.unavailable', 'operational'],
    ['08006', 'store.unavailable', 'operational'],
    ['ECONNREFUSED', 'store.unavailable', 'operational'],
    ['42P01', 'store.query', 'unexpected'],
  ])('maps SQLSTATE %s to %s', (sqlstate, code, kind) => {
    expect(toStoreError(pgError(sqlstate))).toMatchObject({ code, kind, details: { sqlstate } });
  });

  it('unwraps the driver error from a Drizzle wrapper and never copies query parameters', () => {
    const inner = pgError('23505', { constraint: 'users_username_unique', table: 'users' });
    const wrapped = Object.assign(new Error('Failed query: insert … params: secret-patient'), { cause: inner, params: ['secret-patient'] });
    const e = toStoreError(wrapped, 'users.create');
    expect(e.toJSON()).toEqual({
      name: 'StoreError',
      code: 'store.conflict',
      kind: 'user',
      message: 'pg 23505',
      details: { sqlstate: '23505', constraint: 'users_username_unique', table: 'users', operation: 'users.create' },
    });
    expect(JSON.stringify(e)).not.toContain('secret-patient');
  });

  it('passes StoreErrors through and wraps non-errors', () => {
    const se = new StoreError('store.not_found', 'nope');
    expect(toStoreError(se)).toBe(se);
    expect(se.kind).toBe('user');
    expect(ensureError('boom').message).toBe('boom');
    expect(toStoreError({ weird: true }).code).toBe('store.query');
  });
});

describe('cursors and body patterns', () => {
  it('round-trips a cursor and refuses a forged one', () => {
    const c = encodeCursor(['1714521600000123', 'abc']);
    expect(c).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(c, ['string', 'string'] as const)).toEqual(['1714521600000123', 'abc']);
    expect(() => decodeCursor(c, ['number'] as const)).toThrow(StoreError);
    expect(() => decodeCursor('%%%', ['string'] as const)).toThrow(/invalid cursor/);
  });

  it('encodes a search term the way encode(raw, escape) encodes the body', () => {
    expect(bodyPattern('PID|1')).toBe('%PID|1%');
    expect(bodyPattern('é')).toBe('%\\\\303\\\\251%');
    expect(bodyPattern('50%_')).toBe('%50\\%\\_%');
  });
});
