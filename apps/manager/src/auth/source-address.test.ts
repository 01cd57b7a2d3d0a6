import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { sourceAddressOf } from '../trpc.js';

/** The two fields sourceAddressOf reads: the peer's address and the proxy header. */
function req(remoteAddress: string, forwardedFor?: string): IncomingMessage {
  return { socket: { remoteAddress }, headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor } } as unknown as IncomingMessage;
}

describe('sourceAddressOf', () => {
  it('without a trusted proxy: the socket, whatever the header says', () => {
    expect(sourceAddressOf(req('10.0.0.5', '1.2.3.4'), false)).toBe('10.0.0.5');
    expect(sourceAddressOf(req('10.0.0.5', '1.2.3.4'), 0)).toBe('10.0.0.5');
  });

  it('behind one proxy: the entry that proxy appended, never one the client wrote', () => {
    // The client sent "X-Forwarded-For: 6.6.6.6"; the proxy appended the address it saw.
    expect(sourceAddressOf(req('10.0.0.1', '6.6.6.6, 203.0.113.7'), true)).toBe('203.0.113.7');
    expect(sourceAddressOf(req('10.0.0.1', '7.7.7.7, 203.0.113.7'), 1)).toBe('203.0.113.7');
    expect(sourceAddressOf(req('10.0.0.1', '203.0.113.7'), true)).toBe('203.0.113.7');
    expect(sourceAddressOf(req('10.0.0.1'), true)).toBe('10.0.0.1');
  });

  it('behind two proxies: the second entry from the right', () => {
    expect(sourceAddressOf(req('10.0.0.1', '6.6.6.6, 203.0.113.7, 10.0.0.2'), 2)).toBe('203.0.113.7');
  });
});
