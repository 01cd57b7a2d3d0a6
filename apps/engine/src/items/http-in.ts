import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { UNEXPECTED_ERROR_CODE, httpInSettings } from '@hie/config';
import { defineItemType } from '../item-type';
import { parseTraceparent } from '@hie/envelope';
import { envelopeFor } from '../runtime/envelopes';
import { codeOf, ensureError, kindOf } from '../runtime/errors';

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** What {@link bearerMatches} compares with: the digest of `Bearer <token>`, or undefined when no token is set. */
export function bearerDigest(token: string): Buffer | undefined {
  return token ? digest(`Bearer ${token}`) : undefined;
}

/**
 * Whether the request's Authorization header carries `Bearer <token>`. Compared as SHA-256
 * digests with `timingSafeEqual`: equal lengths whatever was sent, and no early exit on the
 * first differing byte, so response times tell nothing about the token.
 */
export function bearerMatches(authorization: string | undefined, expected: Buffer): boolean {
  return timingSafeEqual(digest(authorization ?? ''), expected);
}

function reply(res: http.ServerResponse, status: number, body: unknown) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * `http.in`: accepts POSTs. The Content-Type picks the codec (HL7 v2 types fill the header from
 * MSH). Answers 202 with the message id once handed on (or stored), or — `respond: sync` — the
 * downstream response body.
 */
export const httpIn = defineItemType({
  type: 'http.in',
  version: 1,
  kind: 'service',
  description: 'Receive messages by HTTP POST',
  settings: httpInSettings,
  module: import.meta.url,
  create(settings, ctx) {
    let server: http.Server | undefined;
    let port = settings.port;
    let received = 0;
    const expectedAuth = bearerDigest(settings.bearerToken);

    async function handle(req: http.IncomingMessage, res: http.ServerResponse) {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname !== settings.path) return reply(res, 404, { error: { code: 'http.not_found', message: `POST to ${settings.path}` } });
      if (req.method !== 'POST') return reply(res, 405, { error: { code: 'http.method', message: 'only POST is accepted' } });
      if (expectedAuth && !bearerMatches(req.headers.authorization, expectedAuth)) {
        return reply(res, 401, { error: { code: 'http.unauthorized', message: 'missing or wrong bearer token' } });
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of req as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > settings.maxBodyBytes) {
          reply(res, 413, { error: { code: 'http.too_large', message: `body larger than ${settings.maxBodyBytes} bytes` } });
          req.destroy();
          return;
        }
        chunks.push(chunk);
      }
      if (size === 0) return reply(res, 400, { error: { code: 'http.empty', message: 'empty body' } });
      const raw = new Uint8Array(Buffer.concat(chunks));
      const contentType = (req.headers['content-type'] ?? 'application/octet-stream').split(';')[0].trim().toLowerCase();
      const envelope = envelopeFor(raw, contentType, ctx.itemName);
      // A caller's W3C trace context: the message's trace continues it (tracing on; kept, well-formed only).
      const traceparent = req.headers.traceparent;
      if (typeof traceparent === 'string' && parseTraceparent(traceparent)) envelope.header.customProperties['traceparent'] = traceparent.trim().toLowerCase();
      try {
        const result = await ctx.submit(envelope, { wait: settings.respond === 'sync' ? 'response' : ctx.hasStore ? 'stored' : 'queued' });
        received++;
        if (settings.respond === 'sync' && result.response) {
          const body = result.response.body.raw;
          res.writeHead(200, { 'content-type': result.response.header.contentType, 'x-message-id': result.messageId, 'content-length': body.byteLength });
          res.end(body);
          return;
        }
        reply(res, settings.respond === 'sync' ? 200 : 202, { messageId: result.messageId });
      } catch (e) {
        const err = ensureError(e);
        reply(res, kindOf(err) === 'user' ? 422 : 503, { error: { code: codeOf(err), message: err.message } });
      }
    }

    return {
      async onStart() {
        server = http.createServer((req, res) => {
          handle(req, res).catch((e: unknown) => {
            ctx.log.error({ err: ensureError(e) }, 'http.in request failed');
            if (!res.headersSent) reply(res, 500, { error: { code: UNEXPECTED_ERROR_CODE, message: 'internal error' } });
          });
        });
        await new Promise<void>((resolve, reject) => {
          server!.once('error', reject);
          server!.listen(settings.port, settings.host, () => resolve());
        });
        port = (server.address() as AddressInfo).port;
        ctx.log.info({ port, path: settings.path }, 'HTTP listener ready');
      },
      async onStop() {
        const s = server;
        server = undefined;
        if (s) await new Promise<void>((r) => s.close(() => r()));
      },
      info() {
        return { port, received };
      },
    };
  },
});
