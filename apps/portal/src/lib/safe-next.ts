/**
 * Where to go after signing in. `next` (set by the proxy or by an expired session) is followed
 * only when it resolves to a path on this very origin; anything else goes home. Resolving it the
 * way the browser will (rather than looking at its first characters) catches `//evil.example`,
 * `/\evil.example`, `/<tab>/evil.example` and `javascript:` alike.
 * @returns a path (with query and hash) on `origin`, or `/`
 */
export function safeNextPath(next: string | null | undefined, origin: string): string {
  if (!next || !next.startsWith('/')) return '/';
  let url: URL;
  try {
    url = new URL(next, origin);
  } catch {
    return '/';
  }
  if (url.origin !== new URL(origin).origin) return '/';
  return `${url.pathname}${url.search}${url.hash}`;
}
