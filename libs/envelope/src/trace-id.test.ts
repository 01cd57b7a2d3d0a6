import { describe, expect, it } from 'vitest';
import { parseTraceparent, rootSpanIdOf, traceIdOf } from './trace-id';
import { uuidv7 } from './uuid';

describe('trace ids from message ids', () => {
  it('a UUID’s 32 hex digits are its trace id, the last 16 its root span id', () => {
    expect(traceIdOf('01938F3E-1B2C-7D4E-8F90-A1B2C3D4E5F6')).toBe('01938f3e1b2c7d4e8f90a1b2c3d4e5f6');
    expect(rootSpanIdOf('01938f3e-1b2c-7d4e-8f90-a1b2c3d4e5f6')).toBe('8f90a1b2c3d4e5f6');
    expect(traceIdOf(uuidv7())).toMatch(/^[0-9a-f]{32}$/);
  });
  it('refuses what is no valid trace id (not hex, wrong length, all zeros)', () => {
    expect(traceIdOf('msg-1')).toBeUndefined();
    expect(traceIdOf('00000000-0000-0000-0000-000000000000')).toBeUndefined();
    expect(rootSpanIdOf('11111111-1111-1111-0000-000000000000')).toBeUndefined();
  });
  it('parses a W3C traceparent, refusing malformed and all-zero ones', () => {
    expect(parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')).toEqual({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', sampled: true });
    expect(parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00')?.sampled).toBe(false);
    for (const bad of ['', 'nope', 42, '00-00000000000000000000000000000000-00f067aa0ba902b7-01', '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01', '01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01']) {
      expect(parseTraceparent(bad)).toBeUndefined();
    }
  });
});
