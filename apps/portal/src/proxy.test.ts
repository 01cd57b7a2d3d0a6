import { NextRequest } from 'next/server';
import { describe, expect, it } from 'vitest';
import { config, proxy } from './proxy';

function page(path: string, cookie?: string) {
  return proxy(new NextRequest(`http://127.0.0.1:8080${path}`, { headers: cookie ? { cookie } : {} }));
}

/** The request headers the proxy hands on to the page render (Next's `x-middleware-request-*`). */
function forwarded(res: Response, name: string): string | null {
  return res.headers.get(`x-middleware-request-${name}`);
}

describe('portal proxy', () => {
  it('sends every page a CSP with a fresh nonce, and hands the same nonce and policy to the render', () => {
    const a = page('/p/1', 'hie_session=t');
    const b = page('/p/1', 'hie_session=t');
    const csp = a.headers.get('content-security-policy')!;
    const nonce = forwarded(a, 'x-nonce')!;
    expect(nonce).toMatch(/^[A-Za-z0-9+/]{22}==$/);
    expect(csp).toContain(`script-src 'self' 'nonce-${nonce}' 'strict-dynamic'`);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-eval');
    expect(forwarded(a, 'content-security-policy')).toBe(csp);
    expect(a.headers.get('x-content-type-options')).toBe('nosniff');
    expect(a.headers.get('referrer-policy')).toBe('no-referrer');
    expect(forwarded(b, 'x-nonce')).not.toBe(nonce);
  });

  it('the login page gets the CSP too, and no redirect', () => {
    const res = page('/login?next=%2Fp%2F1');
    expect(res.headers.get('location')).toBeNull();
    expect(res.headers.get('content-security-policy')).toContain("'nonce-");
  });

  it('without a session cookie: to the login page, remembering where to', () => {
    const res = page('/p/1/messages?x=1');
    expect(res.status).toBe(307);
    const to = new URL(res.headers.get('location')!);
    expect(to.pathname + to.search).toBe('/login?next=%2Fp%2F1%2Fmessages%3Fx%3D1');
  });

  it('matches pages, the login page included, but not the API or assets', () => {
    const matches = (path: string) => config.matcher.some((m) => new RegExp(`^${m}$`).test(path));
    expect(matches('/')).toBe(true);
    expect(matches('/login')).toBe(true);
    expect(matches('/p/1/messages')).toBe(true);
    expect(matches('/api/trpc/health')).toBe(false);
    expect(matches('/_next/static/chunks/main.js')).toBe(false);
    expect(matches('/favicon.svg')).toBe(false);
  });
});
