/**
 * A small EventSource for Node 20 (which has none), for tests: a GET with the cookie jar's
 * cookies, the `text/event-stream` parsed per the HTML spec (event, data, id; blank line
 * dispatches). No reconnection: when the stream ends it reports an error and closes.
 */
import type { CookieJar } from './cookie-jar.js';

type Listener = (event: { data?: string; lastEventId?: string; type: string }) => void;

export function cookieEventSource(jar: CookieJar) {
  return class CookieEventSource {
    readonly CONNECTING = 0;
    readonly OPEN = 1;
    readonly CLOSED = 2;
    readyState = 0;
    private readonly listeners = new Map<string, Set<Listener>>();
    private readonly abort = new AbortController();

    constructor(readonly url: string, _init?: { withCredentials?: boolean }) {
      void this.run();
    }

    addEventListener(type: string, listener: Listener): void {
      const set = this.listeners.get(type) ?? new Set<Listener>();
      set.add(listener);
      this.listeners.set(type, set);
    }

    removeEventListener(type: string, listener: Listener): void {
      this.listeners.get(type)?.delete(listener);
    }

    close(): void {
      this.readyState = this.CLOSED;
      this.abort.abort();
    }

    private emit(type: string, event: { data?: string; lastEventId?: string }): void {
      for (const l of this.listeners.get(type) ?? []) l({ ...event, type });
    }

    private async run(): Promise<void> {
      try {
        const res = await fetch(this.url, {
          headers: { accept: 'text/event-stream', cookie: jar.header() },
          signal: this.abort.signal,
        });
        if (!res.ok || !res.body) throw new Error(`SSE request failed: ${res.status}`);
        this.readyState = this.OPEN;
        this.emit('open', {});
        const decoder = new TextDecoder();
        let buffer = '';
        let event = '';
        let data: string[] = [];
        let id = '';
        for await (const chunk of res.body) {
          buffer += decoder.decode(chunk, { stream: true });
          let nl: number;
          while ((nl = buffer.search(/\r\n|\n|\r/)) >= 0) {
            const line = buffer.slice(0, nl);
            buffer = buffer.slice(nl + (buffer.startsWith('\r\n', nl) ? 2 : 1));
            if (line === '') {
              if (data.length > 0) this.emit(event || 'message', { data: data.join('\n'), lastEventId: id });
              event = '';
              data = [];
              continue;
            }
            if (line.startsWith(':')) continue;
            const colon = line.indexOf(':');
            const field = colon < 0 ? line : line.slice(0, colon);
            const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (field === 'event') event = value;
            else if (field === 'data') data.push(value);
            else if (field === 'id') id = value;
          }
        }
        if (this.readyState !== this.CLOSED) {
          this.readyState = this.CLOSED;
          this.emit('error', {});
        }
      } catch {
        if (this.readyState !== this.CLOSED) {
          this.readyState = this.CLOSED;
          this.emit('error', {});
        }
      }
    }
  };
}
