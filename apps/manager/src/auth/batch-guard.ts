import type { IncomingMessage, ServerResponse } from 'node:http';
import { TRPC_ERROR_CODES_BY_KEY } from '@trpc/server/rpc';

/**
 * Most calls in one tRPC batch (`?batch=1`). A page of the portal batches a dozen queries at most;
 * without a bound one request could queue thousands of calls (each `auth.login` a bcrypt hash).
 * The portal's `httpBatchLink` uses the same `maxItems`.
 */
export const MAX_BATCH_SIZE = 50;

/**
 * Procedures refused inside a batch of several calls: each checks a password, and the login
 * rate limit must see one attempt per request. A batch of one (what `httpBatchLink` sends for a
 * lone call) is allowed.
 */
const UNBATCHABLE = new Set(['auth.login', 'auth.changePassword']);

/** Why a batch is refused, as a tRPC error. */
export interface BatchRefusal {
  code: 'BAD_REQUEST' | 'PAYLOAD_TOO_LARGE';
  message: string;
}

/**
 * Checks a tRPC request before any procedure runs (so before any context, store query or hash).
 * @param path the procedure path(s) after `/api/trpc/`, decoded (`a.b,c.d` in a batch)
 * @param search the query string, with or without its `?`
 */
export function checkBatch(path: string, search: string, max = MAX_BATCH_SIZE): BatchRefusal | undefined {
  if (new URLSearchParams(search).get('batch') !== '1') return undefined;
  const paths = path.split(',');
  if (paths.length > max) {
    return { code: 'PAYLOAD_TOO_LARGE', message: `a batch may hold at most ${max} calls (this one has ${paths.length})` };
  }
  const alone = paths.length > 1 ? paths.find((p) => UNBATCHABLE.has(p)) : undefined;
  if (alone) return { code: 'BAD_REQUEST', message: `${alone} cannot be batched with other calls: send it on its own` };
  return undefined;
}

const HTTP_STATUS: Record<BatchRefusal['code'], number> = { BAD_REQUEST: 400, PAYLOAD_TOO_LARGE: 413 };

/**
 * Answers a refused batch with a tRPC error envelope (one for the whole request: the client's
 * batch link hands it to every call) and resolves true; false when the request may go on.
 */
export function refuseBatch(req: IncomingMessage, res: ServerResponse, path: string): boolean {
  const url = req.url ?? '';
  const q = url.indexOf('?');
  const refusal = checkBatch(path, q >= 0 ? url.slice(q + 1) : '');
  if (!refusal) return false;
  const httpStatus = HTTP_STATUS[refusal.code];
  const body = JSON.stringify({
    error: { message: refusal.message, code: TRPC_ERROR_CODES_BY_KEY[refusal.code], data: { code: refusal.code, httpStatus } },
  });
  // The body is never parsed: discard it as it arrives (no buffering), then close the connection.
  req.resume();
  res.writeHead(httpStatus, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    connection: 'close',
  });
  res.end(body);
  return true;
}
