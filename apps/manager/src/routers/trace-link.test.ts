import { describe, expect, it } from 'vitest';
import { traceLink } from './messages.js';

describe('the message viewer’s trace link', () => {
  const id = '01938f3e-1b2c-7d4e-8f90-a1b2c3d4e5f6';
  it('derives the trace id from the message id, and fills HIE_TRACE_URL’s {traceId}', () => {
    expect(traceLink(id, { customProperties: {} }, undefined)).toEqual({ traceId: '01938f3e1b2c7d4e8f90a1b2c3d4e5f6', traceUrl: null });
    expect(traceLink(id, {}, 'http://jaeger:16686/trace/{traceId}').traceUrl).toBe('http://jaeger:16686/trace/01938f3e1b2c7d4e8f90a1b2c3d4e5f6');
  });
  it('prefers the trace the stored header names (an http.in caller’s trace it continued)', () => {
    const header = { customProperties: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' } };
    expect(traceLink(id, header, undefined).traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(traceLink(id, { customProperties: { traceparent: 'garbage' } }, undefined).traceId).toBe('01938f3e1b2c7d4e8f90a1b2c3d4e5f6');
    expect(traceLink('not-a-uuid', null, 'http://x/{traceId}')).toEqual({ traceId: null, traceUrl: null });
  });
});
