import { NextResponse, type NextRequest } from 'next/server';
import { isDev } from './env';
import { NONCE_HEADER, newNonce, pageSecurityHeaders } from './lib/security-headers';

/** The manager's session cookie (httpOnly, set by auth.login). */
const SESSION_COOKIE = 'hie_session';

/**
 * Runs before every page renders.
 * - Security headers, with a fresh CSP nonce: Next reads it from the request's
 *   `Content-Security-Policy` header and puts it on the scripts it emits.
 * - An optimistic sign-in check: no session cookie → the login page, without a failed API call
 *   first. The manager still checks every request; an expired session is caught client-side
 *   (UNAUTHORIZED → /login).
 */
export function proxy(request: NextRequest) {
  const { pathname } = request.nextUrl;
  const isLogin = pathname === '/login' || pathname.startsWith('/login/');
  // The manual holds no data of anyone's: readable before signing in.
  const isDocs = pathname === '/docs' || pathname.startsWith('/docs/');
  if (!isLogin && !isDocs && !request.cookies.has(SESSION_COOKIE)) {
    const url = request.nextUrl.clone();
    const next = pathname + request.nextUrl.search;
    url.pathname = '/login';
    url.search = next === '/' ? '' : `?next=${encodeURIComponent(next)}`;
    return NextResponse.redirect(url);
  }
  const nonce = newNonce();
  const headers = pageSecurityHeaders({ nonce, dev: isDev });
  const requestHeaders = new Headers(request.headers);
  requestHeaders.set(NONCE_HEADER, nonce);
  requestHeaders.set('content-security-policy', headers['content-security-policy']);
  const response = NextResponse.next({ request: { headers: requestHeaders } });
  for (const [name, value] of Object.entries(headers)) response.headers.set(name, value);
  return response;
}

export const config = {
  // Every page (the login page too), but not the API, Next's assets or public files.
  matcher: ['/((?!api|_next/|favicon\\.svg|.*\\.[a-z0-9]+$).*)'],
};
