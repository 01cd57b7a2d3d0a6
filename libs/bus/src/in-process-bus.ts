import type { MessageEnvelope } from '@hie/envelope';
import { type Bus, BusError, type BusReceiver, type DeliverOptions } from './bus';

/**
 * The single-node bus: a map from item name to receiver, and a direct call. Envelopes are not
 * copied: the in-process engine hands the same object along (items never mutate a received
 * envelope in place; they derive a new one).
 *
 * While an item is being replaced (hot reload) its name stays registered to the engine's slot,
 * so senders never see a gap.
 */
export class InProcessBus implements Bus {
  private readonly receivers = new Map<string, BusReceiver>();
  private closed = false;

  register(item: string, receiver: BusReceiver): () => void {
    this.receivers.set(item, receiver);
    return () => {
      if (this.receivers.get(item) === receiver) this.receivers.delete(item);
    };
  }

  has(item: string): boolean {
    return this.receivers.has(item);
  }

  async deliver(to: string, envelope: MessageEnvelope, opts: DeliverOptions = {}): Promise<MessageEnvelope | undefined> {
    if (this.closed) throw new BusError('bus.closed', 'the bus is closed');
    const receiver = this.receivers.get(to);
    if (!receiver) throw new BusError('bus.no_receiver', `no item named "${to}" is running`, { to });
    if (!opts.expectResponse) {
      await receiver.accept(envelope);
      opts.onQueued?.();
      return undefined;
    }
    return new Promise<MessageEnvelope | undefined>((resolve, reject) => {
      let settled = false;
      const timer =
        opts.timeoutMs && opts.timeoutMs > 0
          ? setTimeout(() => {
              if (settled) return;
              settled = true;
              reject(new BusError('bus.timeout', `no response from "${to}" within ${opts.timeoutMs} ms`, { to, timeoutMs: opts.timeoutMs }));
            }, opts.timeoutMs)
          : undefined;
      let queued = false;
      const noteQueued = () => {
        if (queued) return;
        queued = true;
        opts.onQueued?.();
      };
      receiver
        .accept(envelope, (result) => {
          noteQueued(); // a reply proves it was queued, even if it came before accept resolved
          if (settled) return;
          settled = true;
          if (timer) clearTimeout(timer);
          if (result.error) reject(result.error);
          else resolve(result.response);
        })
        .then(noteQueued, (e: unknown) => {
          if (settled) return;
          settled = true;
          if (timer) clearTimeout(timer);
          reject(e instanceof Error ? e : new Error(String(e)));
        });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.receivers.clear();
  }
}
