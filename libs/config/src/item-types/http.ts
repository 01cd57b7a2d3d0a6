import { z } from 'zod';
import { URL_PASSWORD_MESSAGE, urlHasPassword } from '../redact-url';
import { bindSecretsTo, secret } from '../secrets';

/** Settings of `http.in`: accept messages by HTTP POST. */
export const httpInSettings = z
  .object({
    host: z.string().default('0.0.0.0').describe('Interface to listen on'),
    port: z.number().int().min(0).max(65535).default(8081).describe('TCP port (0 = any free port)'),
    path: z.string().default('/').describe('URL path that accepts POSTs'),
    maxBodyBytes: z.number().int().min(1).default(16 * 1024 * 1024).describe('Largest accepted body'),
    respond: z.enum(['accepted', 'sync']).default('accepted').describe('accepted: 202 with the message id once queued/stored; sync: wait and return the downstream response'),
    bearerToken: secret(z.string().default('')).describe('When set, callers must send Authorization: Bearer <token>'),
  })
  .strict();
export type HttpInSettings = z.output<typeof httpInSettings>;

/** Request headers `http.out` sets itself, never from its settings. */
const RESERVED_REQUEST_HEADERS = new Set(['host', 'content-length', 'transfer-encoding', 'connection']);

/**
 * Settings of `http.out`: send each message in an HTTP request. Its header values are kept only
 * while `url` stays the same.
 */
export const httpOutSettings = bindSecretsTo(
  z.object({
    url: z
      .string()
      .url()
      .refine((u) => !urlHasPassword(u), { message: URL_PASSWORD_MESSAGE })
      .describe('Target URL (no password in it: use a secret header such as Authorization)'),
    method: z.enum(['POST', 'PUT', 'PATCH']).default('POST').describe('HTTP method'),
    // Every header value is secret, not only Authorization: tokens travel under free-form names
    // (X-Api-Key, Ocp-Apim-Subscription-Key, vendor headers) that no list would catch, and
    // hiding a harmless value costs little. The header names stay visible.
    headers: z
      .record(z.string(), secret(z.string()))
      // The connection's own headers stay the engine's: a `Host` of the user's choosing would steer
      // an allowed gateway to another virtual host behind it, past the egress policy.
      .refine((h) => !Object.keys(h).some((k) => RESERVED_REQUEST_HEADERS.has(k.toLowerCase())), {
        message: `these headers are set by the engine: ${[...RESERVED_REQUEST_HEADERS].join(', ')}`,
      })
      .default({})
      .describe('Extra request headers (values are secret: write-only, encrypted at rest); not host, content-length, transfer-encoding or connection'),
    timeoutMs: z.number().int().min(1).default(30_000).describe('Request timeout (a timeout is retryable)'),
    retryOn: z.array(z.number().int()).default([408, 429, 500, 502, 503, 504]).describe('HTTP statuses that are retried; other 4xx fail at once'),
  }).strict(),
  ['url'],
);
export type HttpOutSettings = z.output<typeof httpOutSettings>;
