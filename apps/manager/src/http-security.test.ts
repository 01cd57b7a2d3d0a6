import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { bearerMatches, checkMutationRequest, isHttps, ownOrigin } from './http-security.js';

function req(headers: Record<string, string>, encrypted = false): IncomingMessage {
  return { headers, socket: { encrypted } } as unknown as IncomingMessage;
}

describe('isHttps / ownOrigin behind proxies', () => {
  it('our own TLS socket is HTTPS whatever the headers say', () => {
    expect(isHttps(req({}, true), false)).toBe(true);
  });

  it('X-Forwarded-* count only from trusted proxies', () => {
    const r = req({ host: '10.0.0.5:8080', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'hie.example' });
    expect(isHttps(r, false)).toBe(false);
    expect(ownOrigin(r, false)).toBe('http://10.0.0.5:8080');
    expect(isHttps(r, true)).toBe(true);
    expect(ownOrigin(r, 1)).toBe('https://hie.example');
  });

  it('with N trusted hops, the entry the outermost trusted proxy appended wins, not what the client wrote', () => {
    // The client wrote "https"; the one trusted proxy appended what it saw: plain http.
    expect(isHttps(req({ 'x-forwarded-proto': 'https, http' }), 1)).toBe(false);
    // Two trusted proxies: the outer one saw https, the inner one appended http.
    expect(isHttps(req({ 'x-forwarded-proto': 'https, http' }), 2)).toBe(true);
    expect(ownOrigin(req({ host: 'inner:8080', 'x-forwarded-host': 'evil.example, hie.example' }), 1)).toBe('http://hie.example');
  });
});

describe('checkMutationRequest', () => {
  const json = { 'content-type': 'application/json; charset=utf-8', host: 'hie.example' };
  it('passes JSON from this origin or with no Origin at all', () => {
    expect(() => checkMutationRequest(req({ ...json, origin: 'http://hie.example' }), false)).not.toThrow();
    expect(() => checkMutationRequest(req(json), false)).not.toThrow();
  });

  it('refuses other bodies (415) and other origins (403)', () => {
    expect(() => checkMutationRequest(req({ host: 'hie.example', 'content-type': 'multipart/form-data; boundary=x' }), false)).toThrow(
      expect.objectContaining({ code: 'UNSUPPORTED_MEDIA_TYPE' }),
    );
    expect(() => checkMutationRequest(req({ host: 'hie.example' }), false)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_MEDIA_TYPE' }));
    expect(() => checkMutationRequest(req({ ...json, origin: 'https://hie.example' }), false)).toThrow(expect.objectContaining({ code: 'FORBIDDEN' }));
    expect(() => checkMutationRequest(req({ ...json, origin: 'not a url' }), false)).toThrow(expect.objectContaining({ code: 'FORBIDDEN' }));
    expect(() => checkMutationRequest(req({ ...json, 'sec-fetch-site': 'cross-site' }), false)).toThrow(expect.objectContaining({ code: 'FORBIDDEN' }));
  });
});

describe('bearerMatches', () => {
  it('only the exact token, as a Bearer credential', () => {
    const token = 'metrics-token-0123456789';
    expect(bearerMatches(`Bearer ${token}`, token)).toBe(true);
    expect(bearerMatches(`bearer ${token}`, token)).toBe(true);
    expect(bearerMatches(`Bearer ${token}x`, token)).toBe(false);
    expect(bearerMatches(`Bearer ${token.slice(1)}`, token)).toBe(false);
    expect(bearerMatches(token, token)).toBe(false);
    expect(bearerMatches(undefined, token)).toBe(false);
  });
});
