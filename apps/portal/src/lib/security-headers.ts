/**
 * Security headers of the portal's pages, built here (pure, unit-tested) and sent by `src/proxy.ts`.
 * The CSP allows no inline script but what Next.js emits itself, which carries the per-request
 * nonce: Next reads the nonce from the request's `Content-Security-Policy` header and puts it on
 * its framework, page and inline scripts (pages are rendered per request for that: see the root
 * layout). `'strict-dynamic'` lets those scripts load their own chunks.
 * @see https://nextjs.org/docs/app/guides/content-security-policy
 */

/** The request header carrying the nonce to server components. */
export const NONCE_HEADER = 'x-nonce';

/** A fresh nonce: 16 random bytes, base64 (the `nonce-source` grammar). One per request, never reused. */
export function newNonce(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes));
}

/**
 * The Content-Security-Policy of a page.
 * @param opts.dev `next dev`: React needs `eval` for its debug stacks and the dev overlay injects
 *   styles without a nonce. Never in production.
 */
export function contentSecurityPolicy(opts: { nonce: string; dev?: boolean }): string {
  const nonce = `'nonce-${opts.nonce}'`;
  const directives = [
    "default-src 'self'",
    `script-src 'self' ${nonce} 'strict-dynamic'${opts.dev ? " 'unsafe-eval'" : ''}`,
    // <style> elements need the nonce; style="…" attributes (React Flow positions nodes with them) may stay inline: they cannot run code.
    `style-src 'self' ${opts.dev ? "'unsafe-inline'" : nonce}`,
    "style-src-attr 'unsafe-inline'",
    "img-src 'self' blob: data:",
    "font-src 'self'",
    // The API and its SSE streams are on this origin.
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ];
  return directives.join('; ');
}

/**
 * Every security header of a page response. `hie start` adds the same nosniff / referrer / framing
 * headers (and HSTS under TLS) to everything it serves; here they cover the portal run on its own.
 */
export function pageSecurityHeaders(opts: { nonce: string; dev?: boolean }): Record<string, string> {
  return {
    'content-security-policy': contentSecurityPolicy(opts),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  };
}
