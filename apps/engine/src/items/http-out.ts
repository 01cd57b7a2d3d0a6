import { httpOutSettings } from '@hie/config';
import { MessageEnvelope } from '@hie/envelope';
import { assertEgressAllowed, urlTarget } from '@hie/policy';
import { defineItemType } from '../item-type';
import { EngineError } from '../runtime/errors';

/**
 * `http.out`: sends the message body. Statuses in `retryOn` and timeouts are retryable
 * (operational); other 4xx fail at once (user). The response body becomes the response envelope.
 * The circuit breaker is the common `circuitBreaker` setting.
 *
 * Egress policy: the target is checked (after DNS) before every request, and redirects are never
 * followed — a 3xx is a user error, so a downstream cannot bounce a request (and return the body)
 * to another host, such as the manager's own `/metrics`. Residual: `fetch` resolves the name again;
 * a DNS answer that changes between the check and the connect is not caught.
 */
export const httpOut = defineItemType({
  type: 'http.out',
  version: 1,
  kind: 'operation',
  description: 'Send each message in an HTTP request',
  settings: httpOutSettings,
  module: import.meta.url,
  create(settings, ctx) {
    let sent = 0;
    const target = urlTarget(settings.url);
    return {
      async onMessage(envelope) {
        if (!target) throw new EngineError('policy.egress_refused', `only http:// and https:// URLs can be sent to (${settings.url})`, 'user');
        try {
          await assertEgressAllowed(target.host, target.port, ctx.policy);
        } catch (e) {
          if ((e as { kind?: string }).kind === 'user') throw e; // refused: not retried
          throw new EngineError('http.connection', `${settings.method} ${settings.url}: ${(e as Error).message}`, 'operational');
        }
        let res: Response;
        try {
          res = await fetch(settings.url, {
            method: settings.method,
            headers: { 'content-type': envelope.header.contentType, 'x-message-id': envelope.header.messageId, ...settings.headers },
            body: envelope.body.raw,
            signal: AbortSignal.timeout(settings.timeoutMs),
            redirect: 'manual',
          });
        } catch (e) {
          const err = e as Error;
          const timeout = err.name === 'TimeoutError' || err.name === 'AbortError';
          throw new EngineError(timeout ? 'http.timeout' : 'http.connection', `${settings.method} ${settings.url}: ${timeout ? 'timed out' : err.message}`, 'operational');
        }
        const body = new Uint8Array(await res.arrayBuffer());
        if (res.status >= 300 && res.status < 400) {
          // The body of a redirect is never handed on either: it is the redirecting server's, not the target's.
          throw new EngineError('http.redirect', `${settings.method} ${settings.url} answered ${res.status} (redirects are not followed)`, 'user', { status: res.status });
        }
        if (!res.ok) {
          const retry = settings.retryOn.includes(res.status);
          throw new EngineError(`http.status_${res.status}`, `${settings.method} ${settings.url} answered ${res.status}`, retry ? 'operational' : 'user', { status: res.status });
        }
        sent++;
        const contentType = (res.headers.get('content-type') ?? 'application/octet-stream').split(';')[0].trim();
        return MessageEnvelope.create({ raw: body, contentType, source: ctx.itemName, correlationId: envelope.header.correlationId });
      },
      info() {
        return { url: settings.url, sent };
      },
    };
  },
});
