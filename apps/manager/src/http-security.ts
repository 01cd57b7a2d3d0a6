/**
 * Browser-facing protections of the manager's HTTP surface: which requests came over HTTPS, the
 * security headers every response carries, the cross-site check on mutations and the bearer
 * token of `/metrics`. Pure functions of the request, so the server and the context share them.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { TRPCError } from '@trpc/server';

/**
 * CSP of the manager's own responses (JSON, Prometheus text): they are never documents, so they
 * may load nothing and be framed by nobody. The portal sends its own policy (with nonces).
 */
export const API_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'";

/** HSTS under TLS: one year. Not `includeSubDomains`: other hosts of the domain are not ours to pin. */
export const HSTS = 'max-age=31536000';

/**
 * How many proxies in front of us are trusted (`trustProxy`, as HIE_TRUST_PROXY: `true` = one).
 * @defaultValue 0
 */
export type TrustProxy = boolean | number;

/**
 * The value of an `X-Forwarded-*` header that our outermost trusted proxy wrote: each proxy
 * appends, so it is the `hops`-th entry from the right; entries further left came from the
 * client and are never believed. Undefined when no proxy is trusted.
 */
export function forwarded(v: string | string[] | undefined, trustProxy: TrustProxy): string | undefined {
  const hops = trustProxy === true ? 1 : trustProxy === false ? 0 : Math.max(0, Math.floor(trustProxy));
  if (hops === 0 || v === undefined) return undefined;
  const entries = (Array.isArray(v) ? v.join(',') : v).split(',').map((e) => e.trim()).filter((e) => e !== '');
  return entries.length === 0 ? undefined : entries[Math.max(0, entries.length - hops)];
}

/**
 * Whether the browser reached us over HTTPS: TLS on our own socket, or `X-Forwarded-Proto: https`
 * from a proxy we were told to trust (never believed otherwise: any client can send it).
 */
export function isHttps(req: IncomingMessage, trustProxy: TrustProxy): boolean {
  if ((req.socket as Partial<TLSSocket>).encrypted === true) return true;
  return forwarded(req.headers['x-forwarded-proto'], trustProxy)?.toLowerCase() === 'https';
}

/** This server's origin as the browser sees it: the scheme and `Host` (`X-Forwarded-Host` behind a trusted proxy). */
export function ownOrigin(req: IncomingMessage, trustProxy: TrustProxy): string | undefined {
  const host = forwarded(req.headers['x-forwarded-host'], trustProxy) ?? req.headers.host;
  if (!host) return undefined;
  try {
    return new URL(`${isHttps(req, trustProxy) ? 'https' : 'http'}://${host}`).origin;
  } catch {
    return undefined;
  }
}

/** Headers on every response, the portal's pages included: no sniffing, no framing, no referrer; HSTS under TLS. */
export function setSecurityHeaders(res: ServerResponse, https: boolean): void {
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('x-frame-options', 'DENY');
  // URLs may carry a patient id (message search): never leak them to another site.
  res.setHeader('referrer-policy', 'no-referrer');
  if (https) res.setHeader('strict-transport-security', HSTS);
}

/**
 * Refuses an API mutation (a POST) that a page on another site could have made the browser send
 * with the user's cookie: a body that is not JSON (a plain HTML form can post multipart, urlencoded
 * or text bodies without a CORS preflight; tRPC would accept multipart), an `Origin` that is not
 * ours, or `Sec-Fetch-Site: cross-site`. Requests without those headers (curl, CI with an API
 * token, server-side clients) are not browsers driven by another site and pass.
 * @throws TRPCError `UNSUPPORTED_MEDIA_TYPE` (415) or `FORBIDDEN` (403)
 */
export function checkMutationRequest(req: IncomingMessage, trustProxy: TrustProxy): void {
  const type = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') {
    throw new TRPCError({ code: 'UNSUPPORTED_MEDIA_TYPE', message: `API calls take a JSON body (content-type: application/json), not ${type ?? 'no content-type'}` });
  }
  if (req.headers['sec-fetch-site'] === 'cross-site') {
    throw new TRPCError({ code: 'FORBIDDEN', message: 'cross-site request refused' });
  }
  const origin = req.headers.origin;
  if (origin === undefined) return;
  const own = ownOrigin(req, trustProxy);
  let theirs: string | undefined;
  try {
    theirs = new URL(origin).origin;
  } catch {
    theirs = undefined;
  }
  if (!own || theirs !== own) {
    // Behind a proxy that rewrites Host or ends TLS, the origins differ until HIE_TRUST_PROXY is set.
    throw new TRPCError({ code: 'FORBIDDEN', message: `cross-origin request refused: Origin ${origin} is not this server (${own ?? 'unknown host'})` });
  }
}

/** Whether an `Authorization` header carries `Bearer <token>`, compared in constant time. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!m) return false;
  // Equal-length digests: timingSafeEqual needs equal lengths, and the length must not leak either.
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(m[1]), digest(token));
}
