import { httpOutSettings } from '@hie/config';
import { MessageEnvelope } from '@hie/envelope';
import { defineItemType } from '../item-type';
import { EngineError } from '../runtime/errors';

/**
 * `http.out`: sends the message body. Statuses in `retryOn` and timeouts are retryable
 * (operational); other 4xx fail at once (user). The response body becomes the response envelope.
 * The circuit breaker is the common `circuitBreaker` setting.
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
    return {
      async onMessage(envelope) {
        let res: Response;
        try {
          res = await fetch(settings.url, {
            method: settings.method,
            headers: { 'content-type': envelope.header.contentType, 'x-message-id': envelope.header.messageId, ...settings.headers },
            body: envelope.body.raw,
            signal: AbortSignal.timeout(settings.timeoutMs),
          });
        } catch (e) {
          const err = e as Error;
          const timeout = err.name === 'TimeoutError' || err.name === 'AbortError';
          throw new EngineError(timeout ? 'http.timeout' : 'http.connection', `${settings.method} ${settings.url}: ${timeout ? 'timed out' : err.message}`, 'operational');
        }
        const body = new Uint8Array(await res.arrayBuffer());
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
