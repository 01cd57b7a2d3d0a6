import { describe, expect, it } from 'vitest';
import {
  HieError,
  ensureError,
  errorCodeOf,
  errorKindOf,
  hasErrorCode,
  isRetryable,
  kindOfCode,
  operationalError,
  toAckCode,
  toTrpcCode,
  userError,
} from './errors';

describe('HieError', () => {
  it('takes its kind from the code table unless given', () => {
    expect(new HieError('config.invalid', 'x').kind).toBe('user');
    expect(new HieError('engine.circuit_open', 'x').kind).toBe('operational');
    expect(new HieError('mllp.timeout', 'x').kind).toBe('operational');
    expect(new HieError('item.not_found', 'x').kind).toBe('user');
    expect(new HieError('something.odd', 'x').kind).toBe('unexpected');
    expect(new HieError('something.odd', 'x', { kind: 'operational' }).kind).toBe('operational');
  });

  it('is an Error with name, message and cause', () => {
    const cause = new Error('low');
    const e = new HieError('store.write', 'high', { kind: 'operational', cause, details: { table: 'm' } });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('HieError');
    expect(e.message).toBe('high');
    expect(e.cause).toBe(cause);
    expect(e.details).toEqual({ table: 'm' });
    expect('cause' in new HieError('a.b', 'no cause')).toBe(false);
  });

  it('round-trips through JSON, cause chain included', () => {
    const inner = new HieError('hl7.parse', 'bad MSH', { details: { segment: 1 } });
    const outer = new HieError('engine.process', 'failed', { kind: 'operational', cause: inner, retryable: false });
    const wire: unknown = JSON.parse(JSON.stringify(outer));
    const back = HieError.fromJSON(wire);
    expect(back).toBeInstanceOf(HieError);
    expect(back.code).toBe('engine.process');
    expect(back.kind).toBe('operational');
    expect(back.retryable).toBe(false);
    expect(back.message).toBe('failed');
    expect(back.stack).toBe(outer.stack);
    const cause = back.cause as HieError;
    expect(cause).toBeInstanceOf(HieError);
    expect(cause.code).toBe('hl7.parse');
    expect(cause.details).toEqual({ segment: 1 });
  });

  it('serialises plain Error causes and survives cyclic causes', () => {
    const plain = Object.assign(new Error('refused'), { code: 'ECONNREFUSED' });
    const json = new HieError('mllp.connection', 'x', { cause: plain }).toJSON();
    expect(json.cause).toMatchObject({ name: 'Error', message: 'refused', code: 'ECONNREFUSED' });

    const a = new HieError('a.loop', 'a');
    const b = new HieError('b.loop', 'b', { cause: a });
    Object.defineProperty(a, 'cause', { value: b });
    expect(() => JSON.stringify(a)).not.toThrow();
  });

  it('fromJSON never throws on garbage', () => {
    for (const junk of [null, undefined, 42, 'text', [], {}, { code: 7 }, { message: 5, kind: 'nope' }]) {
      const e = HieError.fromJSON(junk);
      expect(e).toBeInstanceOf(HieError);
      expect(typeof e.code).toBe('string');
    }
  });
});

describe('ensureError', () => {
  it('returns an HieError unchanged', () => {
    const e = new HieError('a.b', 'x');
    expect(ensureError(e)).toBe(e);
  });

  it('wraps an Error, keeping message, stack and a string code', () => {
    const raw = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const e = ensureError(raw);
    expect(e.code).toBe('ECONNREFUSED');
    expect(e.kind).toBe('operational');
    expect(e.message).toBe('connect ECONNREFUSED');
    expect(e.stack).toBe(raw.stack);
    expect(e.cause).toBe(raw);
    expect(ensureError(new TypeError('boom')).code).toBe('internal.unexpected');
    expect(ensureError(new TypeError('boom')).kind).toBe('unexpected');
  });

  it('rebuilds errors that crossed a thread as plain objects', () => {
    const wire = { code: 'engine.circuit_open', message: 'open', kind: 'operational' };
    const e = ensureError(wire);
    expect(e.code).toBe('engine.circuit_open');
    expect(e.kind).toBe('operational');
    expect(e.message).toBe('open');
  });

  it('wraps non-errors', () => {
    expect(ensureError('oops').message).toBe('oops');
    expect(ensureError(undefined).code).toBe('internal.unexpected');
    expect(ensureError({ message: 'no code' }).code).toBe('internal.unexpected');
    expect(ensureError(42, 'custom.code').code).toBe('custom.code');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => ensureError(cyclic)).not.toThrow();
  });
});

describe('helpers', () => {
  it('errorCodeOf / errorKindOf / hasErrorCode work on plain objects too', () => {
    expect(errorCodeOf(new HieError('x.y', 'm'))).toBe('x.y');
    expect(errorCodeOf({ code: 'x.z' })).toBe('x.z');
    expect(errorCodeOf(new Error('m'))).toBe('internal.unexpected');
    expect(errorCodeOf('str')).toBe('internal.unexpected');
    expect(errorKindOf({ code: 'http.timeout' })).toBe('operational');
    expect(errorKindOf({ code: 'x', kind: 'user' })).toBe('user');
    expect(hasErrorCode({ code: 'a.b' }, 'a.b')).toBe(true);
    expect(kindOfCode('ETIMEDOUT')).toBe('operational');
  });

  it('isRetryable: operational errors only, unless forced', () => {
    expect(isRetryable(operationalError('http.downstream', 'm'))).toBe(true);
    expect(isRetryable(userError('config.invalid', 'm'))).toBe(false);
    expect(isRetryable(new Error('bug'))).toBe(false);
    expect(isRetryable({ code: 'engine.circuit_open' })).toBe(true);
    expect(isRetryable(new HieError('x.y', 'm', { kind: 'operational', retryable: false }))).toBe(false);
    expect(isRetryable(new HieError('x.y', 'm', { kind: 'user', retryable: true }))).toBe(true);
  });

  it('toTrpcCode: one table for codes, kinds and errors', () => {
    expect(toTrpcCode('config.invalid')).toBe('BAD_REQUEST');
    expect(toTrpcCode('project.not_found')).toBe('NOT_FOUND');
    expect(toTrpcCode('project.conflict')).toBe('CONFLICT');
    expect(toTrpcCode('auth.unauthorized')).toBe('UNAUTHORIZED');
    expect(toTrpcCode('auth.forbidden')).toBe('FORBIDDEN');
    expect(toTrpcCode('http.timeout')).toBe('TIMEOUT');
    expect(toTrpcCode('engine.circuit_open')).toBe('INTERNAL_SERVER_ERROR');
    expect(toTrpcCode('user')).toBe('BAD_REQUEST');
    expect(toTrpcCode('operational')).toBe('INTERNAL_SERVER_ERROR');
    expect(toTrpcCode('unexpected')).toBe('INTERNAL_SERVER_ERROR');
    expect(toTrpcCode(new HieError('workspace.not_found', 'm'))).toBe('NOT_FOUND');
    expect(toTrpcCode(new HieError('custom.thing', 'm', { kind: 'user' }))).toBe('BAD_REQUEST');
    expect(toTrpcCode(new Error('bug'))).toBe('INTERNAL_SERVER_ERROR');
    expect(toTrpcCode({ code: 'x.y', kind: 'user' })).toBe('BAD_REQUEST');
  });

  it('toAckCode: user errors reject (AR), others error (AE)', () => {
    expect(toAckCode(new HieError('hl7.parse', 'm'))).toBe('AR');
    expect(toAckCode(new HieError('mllp.timeout', 'm'))).toBe('AE');
    expect(toAckCode(new Error('bug'))).toBe('AE');
    expect(toAckCode({ code: 'x', kind: 'user' })).toBe('AR');
    expect(toAckCode('user')).toBe('AR');
    expect(toAckCode('config.invalid')).toBe('AR');
    expect(toAckCode('operational')).toBe('AE');
  });
});
