import { NextResponse, type NextRequest } from 'next/server';

/** The manager's session cookie (httpOnly, set by auth.login). */
const SESSION_COOKIE = 'hie_session';

/**
 * An optimistic check before any page renders: no session cookie → the login page, without a
 * failed API call first. The manager still checks every request; an expired session is caught
 * client-side (UNAUTHORIZED → /login).
 */
export function proxy(request: NextRequest) {
  if (request.cookies.has(SESSION_COOKIE)) return NextResponse.next();
  const url = request.nextUrl.clone();
  const next = request.nextUrl.pathname + request.nextUrl.search;
  url.pathname = '/login';
  url.search = next === '/' ? '' : `?next=${encodeURIComponent(next)}`;
  return NextResponse.redirect(url);
}

export const config = {
  // Every page except the login page, the API, Next's assets and public files.
  matcher: ['/((?!login|api|_next/|favicon\\.svg|.*\\.[a-z0-9]+$).*)'],
};
