import { describe, expect, it } from 'vitest';
import { clearedSessionCookie, hashSessionToken, newSessionToken, readCookie, sessionCookie } from './session.js';

describe('session tokens and cookies', () => {
  it('tokens are 32 random bytes; only a SHA-256 hex hash is stored', () => {
    const t = newSessionToken();
    expect(Buffer.from(t, 'base64url')).toHaveLength(32);
    expect(newSessionToken()).not.toBe(t);
    expect(hashSessionToken(t)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashSessionToken(t)).not.toContain(t);
  });

  it('cookie attributes', () => {
    expect(sessionCookie('tok', 3600, false)).toBe('hie_session=tok; Path=/; HttpOnly; SameSite=Lax; Max-Age=3600');
    expect(sessionCookie('tok', 3600, true)).toContain('; Secure');
    expect(clearedSessionCookie(false)).toContain('Max-Age=0');
  });

  it('reads one cookie from a Cookie header', () => {
    expect(readCookie('a=1; hie_session=abc; b=2', 'hie_session')).toBe('abc');
    expect(readCookie('hie_sessionx=1', 'hie_session')).toBeUndefined();
    expect(readCookie(undefined, 'hie_session')).toBeUndefined();
    expect(readCookie('hie_session=', 'hie_session')).toBeUndefined();
  });
});
