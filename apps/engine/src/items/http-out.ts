import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { httpOutSettings, redactUrl } from '@hie/config';
import { MessageEnvelope } from '@hie/envelope';
import { assertEgressAllowed, urlTarget, type EgressAddress, type HostPolicy } from '@hie/policy';
import { defineItemType } from '../item-type';
import { EngineError } from '../runtime/errors';
import { egressProblem } from './hl7-mllp-out';

/**
 * `http.out`: sends the message body. Statuses in `retryOn` and timeouts are retryable
 * (operational); other 4xx fail at once (user). The response body becomes the response envelope.
 * The circuit breaker is the common `circuitBreaker` setting.
 *
 * Egress policy: the target is checked (after DNS) before every request, and redirects are never
 * followed — a 3xx is a user error, so a downstream cannot bounce a request (and return the body)
 * to another host, such as the manager's own `/metrics`. The connection goes to an address the
 * check approved ({@link pinnedLookup}): the name is never resolved a second time, so a DNS answer
 * that changes between the check and the connect (rebinding) cannot lead elsewhere.
 */
export const httpOut = defineItemType({
  type: 'http.out',
  version: 1,
  kind: 'operation',
  description: 'Send each message in an HTTP request',
  settings: httpOutSettings,
  module: import.meta.url,
  dryRun: true,
  create(settings, ctx) {
    let sent = 0;
    // What is shown of the URL (sandbox, errors, status): never the password of its user info.
    const shownUrl = redactUrl(settings.url);
    return {
      async onMessage(envelope, hop) {
        // Sandbox: the request it would make, with the egress verdict; no connection is opened.
        if (ctx.dryRun) {
          const target = urlTarget(settings.url);
          const problem = target ? await egressProblem(target.host, target.port, ctx) : [`only http:// and https:// URLs can be sent to (${shownUrl})`];
          return ctx.dryRun.wouldSend(`${settings.method} ${shownUrl}`, envelope.body.raw, problem);
        }
        const res = await exchange(settings.url, {
          method: settings.method,
          headers: {
            'content-type': envelope.header.contentType,
            'content-length': String(envelope.body.raw.byteLength),
            'x-message-id': envelope.header.messageId,
            ...settings.headers,
            // Tracing on: the receiver continues this message's trace (W3C Trace Context).
            ...(hop.traceparent ? { traceparent: hop.traceparent } : {}),
          },
          body: envelope.body.raw,
          timeoutMs: settings.timeoutMs,
          policy: ctx.policy,
        });
        const body = res.body;
        if (res.status < 200 || res.status >= 300) {
          const retry = settings.retryOn.includes(res.status);
          throw new EngineError(`http.status_${res.status}`, `${settings.method} ${shownUrl} answered ${res.status}`, retry ? 'operational' : 'user', { status: res.status });
        }
        sent++;
        const contentType = (res.contentType ?? 'application/octet-stream').split(';')[0].trim();
        return MessageEnvelope.create({ raw: body, contentType, source: ctx.itemName, correlationId: envelope.header.correlationId });
      },
      info() {
        return { url: shownUrl, sent };
      },
    };
  },
});

/**
 * One request under the egress policy, as http.out and fhir.http.out deliver: the target checked
 * (after DNS) and the connection pinned to the checked address; connection failures and timeouts
 * are operational (retried), a response too large and a redirect (never followed) are user errors.
 * Any status comes back: the caller decides what it means.
 */
export async function exchange(
  url: string,
  opts: { method: string; headers: Record<string, string>; body: Uint8Array; timeoutMs: number; policy: HostPolicy },
): Promise<HttpAnswer> {
  const shown = redactUrl(url);
  const addresses = await egressAddresses(urlTarget(url), shown, opts.method, opts.policy);
  let res: HttpAnswer;
  try {
    res = await send(url, { method: opts.method, headers: opts.headers, body: opts.body, timeoutMs: opts.timeoutMs, lookup: pinnedLookup(addresses) });
  } catch (e) {
    const err = e as Error;
    if (err.name === 'ResponseTooLarge') throw new EngineError('http.response_too_large', `${opts.method} ${shown}: ${err.message}`, 'user');
    const timeout = err.name === 'TimeoutError';
    throw new EngineError(timeout ? 'http.timeout' : 'http.connection', `${opts.method} ${shown}: ${timeout ? 'timed out' : err.message}`, 'operational');
  }
  if (res.status >= 300 && res.status < 400) {
    // The body of a redirect is never handed on either: it is the redirecting server's, not the target's.
    throw new EngineError('http.redirect', `${opts.method} ${shown} answered ${res.status} (redirects are not followed)`, 'user', { status: res.status });
  }
  return res;
}

/**
 * The addresses the egress policy allows for a URL's host (checked after DNS). A refusal is a
 * user error (not retried); a DNS failure is operational (retried). `url`: as shown (redacted).
 */
async function egressAddresses(target: ReturnType<typeof urlTarget>, url: string, method: string, policy: HostPolicy): Promise<EgressAddress[]> {
  if (!target) throw new EngineError('policy.egress_refused', `only http:// and https:// URLs can be sent to (${url})`, 'user');
  try {
    return await assertEgressAllowed(target.host, target.port, policy);
  } catch (e) {
    if ((e as { kind?: string }).kind === 'user') throw e; // refused: not retried
    throw new EngineError('http.connection', `${method} ${url}: ${(e as Error).message}`, 'operational');
  }
}

/**
 * A `lookup` for `http.request` that answers only with addresses the egress check approved,
 * whatever name it is asked for: the socket connects where the policy looked.
 */
export function pinnedLookup(addresses: EgressAddress[]): LookupFunction {
  return (hostname, options, callback) => {
    const usable = addresses.filter((a) => !options.family || a.family === options.family);
    if (usable.length === 0) {
      callback(Object.assign(new Error(`no approved address for ${hostname}`), { code: 'ENOTFOUND' }), '', 0);
      return;
    }
    if (options.all) callback(null, usable.map((a) => ({ address: a.address, family: a.family })));
    else callback(null, usable[0].address, usable[0].family);
  };
}

/** The largest response body `http.out` keeps (it becomes the response envelope). */
export const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

export interface HttpAnswer {
  status: number;
  contentType: string | undefined;
  /** The `Location` header, if any. */
  location?: string;
  body: Uint8Array;
}

/** One request with node:http(s): never follows a redirect; `TimeoutError` after `timeoutMs`. */
function send(
  url: string,
  opts: { method: string; headers: Record<string, string>; body: Uint8Array; timeoutMs: number; lookup: LookupFunction },
): Promise<HttpAnswer> {
  const u = new URL(url);
  const request = u.protocol === 'https:' ? https.request : http.request;
  return new Promise((resolve, reject) => {
    const req = request(u, { method: opts.method, headers: opts.headers, lookup: opts.lookup }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.byteLength;
        // A downstream answer is kept in memory: a bounded one, never the engine's whole heap.
        if (size > MAX_RESPONSE_BYTES) {
          req.destroy(Object.assign(new Error(`the response is larger than ${MAX_RESPONSE_BYTES} bytes`), { name: 'ResponseTooLarge' }));
          return;
        }
        chunks.push(c);
      });
      res.on('end', () => {
        clearTimeout(timer);
        const raw = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'], location: res.headers.location, body: new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength) });
      });
      res.on('error', fail);
    });
    const timer = setTimeout(() => req.destroy(Object.assign(new Error('timed out'), { name: 'TimeoutError' })), opts.timeoutMs);
    function fail(e: Error) {
      clearTimeout(timer);
      reject(e);
    }
    req.on('error', fail);
    req.end(opts.body);
  });
}
