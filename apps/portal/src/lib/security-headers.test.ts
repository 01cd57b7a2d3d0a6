import { describe, expect, it } from 'vitest';
import { contentSecurityPolicy, newNonce } from './security-headers';

function directives(csp: string): Map<string, string> {
  return new Map(csp.split('; ').map((d) => [d.split(' ')[0], d.slice(d.indexOf(' ') + 1)]));
}

describe('contentSecurityPolicy', () => {
  it('production: scripts only with the nonce, no unsafe-inline/eval for scripts, no framing, no plugins', () => {
    const d = directives(contentSecurityPolicy({ nonce: 'abc123==' }));
    expect(d.get('script-src')).toBe("'self' 'nonce-abc123==' 'strict-dynamic'");
    expect(d.get('style-src')).toBe("'self' 'nonce-abc123=='");
    expect(d.get('style-src-attr')).toBe("'unsafe-inline'");
    expect(d.get('frame-ancestors')).toBe("'none'");
    expect(d.get('object-src')).toBe("'none'");
    expect(d.get('base-uri')).toBe("'none'");
    expect(d.get('default-src')).toBe("'self'");
    expect(d.get('connect-src')).toBe("'self'");
  });

  it('next dev: eval for React debug stacks and inline styles for the dev overlay', () => {
    const d = directives(contentSecurityPolicy({ nonce: 'n', dev: true }));
    expect(d.get('script-src')).toBe("'self' 'nonce-n' 'strict-dynamic' 'unsafe-eval'");
    expect(d.get('style-src')).toBe("'self' 'unsafe-inline'");
  });
});

describe('newNonce', () => {
  it('16 random bytes in base64, different every time', () => {
    const seen = new Set(Array.from({ length: 100 }, () => newNonce()));
    expect(seen.size).toBe(100);
    for (const n of seen) expect(n).toMatch(/^[A-Za-z0-9+/]{22}==$/);
  });
});
