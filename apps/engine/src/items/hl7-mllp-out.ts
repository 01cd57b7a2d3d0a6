import net from 'node:net';
import tls from 'node:tls';
import { hl7MllpOutSettings, type Hl7MllpOutSettings } from '@hie/config';
import { MessageEnvelope } from '@hie/envelope';
import { MllpDecoder, encodeMllp, type Hl7Message } from '@hie/hl7';
import { assertEgressAllowed } from '@hie/policy';
import { defineItemType, type ItemContext } from '../item-type';
import { type AckSummary, ackSummary } from '../runtime/envelopes';
import { EngineError } from '../runtime/errors';
import { loadTls } from './tls-options';

type Waiter = { resolve: (frame: Uint8Array) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };

/** One MLLP client connection: one message in flight at a time (request/ACK). */
class MllpConnection {
  private socket?: net.Socket;
  private connecting?: Promise<net.Socket>;
  private waiter?: Waiter;
  private readonly decoder: MllpDecoder;
  private failures = 0;
  private nextAttemptAt = 0;

  constructor(
    private readonly settings: Hl7MllpOutSettings,
    private readonly pem: ReturnType<typeof loadTls> | undefined,
    private readonly ctx: ItemContext,
  ) {
    this.decoder = new MllpDecoder({ maxFrameBytes: settings.maxMessageBytes });
  }

  private async connect(): Promise<net.Socket> {
    if (this.socket && !this.socket.destroyed) return this.socket;
    if (this.connecting) return this.connecting;
    const wait = this.nextAttemptAt - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const { host, port, connectTimeoutMs } = this.settings;
    // Egress policy on every connect, after DNS; the socket goes to the address that was checked
    // (a second lookup could answer differently). TLS still verifies the certificate against `host`.
    let address: string | undefined;
    try {
      address = (await assertEgressAllowed(host, port, this.ctx.policy))[0]?.address;
    } catch (e) {
      if ((e as { kind?: string }).kind === 'user') throw e; // refused: not retried
      throw new EngineError('mllp.connection', `cannot connect to ${host}:${port}: ${(e as Error).message}`, 'operational');
    }
    // Never fall back to `host`: the socket would resolve it again, unchecked.
    if (!address) throw new EngineError('mllp.connection', `cannot connect to ${host}:${port}: no checked address`, 'operational');
    this.connecting = new Promise<net.Socket>((resolve, reject) => {
      const socket = this.pem
        ? tls.connect({ host: address, port, ...this.pem, rejectUnauthorized: this.settings.tls.rejectUnauthorized, servername: net.isIP(host) ? undefined : host })
        : net.connect({ host: address, port });
      const timer = setTimeout(() => socket.destroy(new EngineError('mllp.connect_timeout', `connect to ${host}:${port} timed out`, 'operational')), connectTimeoutMs);
      socket.once(this.pem ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        socket.setNoDelay(true);
        this.failures = 0;
        resolve(socket);
      });
      socket.on('data', (chunk: Buffer) => {
        for (const ev of this.decoder.push(chunk)) {
          if (ev.kind === 'frame') {
            const w = this.waiter;
            this.waiter = undefined;
            if (w) {
              clearTimeout(w.timer);
              w.resolve(ev.payload);
            }
          }
        }
      });
      socket.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
        this.fail(new EngineError('mllp.connection', `connection to ${host}:${port} failed: ${e.message}`, 'operational'));
      });
      socket.on('close', () => {
        if (this.socket === socket) this.socket = undefined;
        this.fail(new EngineError('mllp.connection', `connection to ${host}:${port} closed before the ACK`, 'operational'));
      });
    });
    try {
      this.socket = await this.connecting;
      return this.socket;
    } catch (e) {
      this.failures++;
      const delay = Math.min(this.settings.reconnectMaxDelayMs, this.settings.reconnectDelayMs * 2 ** (this.failures - 1));
      this.nextAttemptAt = Date.now() + delay;
      this.ctx.log.warn({ host, port, failures: this.failures, retryInMs: delay }, 'MLLP connect failed');
      throw new EngineError('mllp.connection', `cannot connect to ${host}:${port}: ${(e as Error).message}`, 'operational');
    } finally {
      this.connecting = undefined;
    }
  }

  private fail(err: Error) {
    const w = this.waiter;
    this.waiter = undefined;
    if (w) {
      clearTimeout(w.timer);
      w.reject(err);
    }
  }

  async send(payload: Uint8Array): Promise<Uint8Array> {
    const socket = await this.connect();
    this.decoder.reset();
    return new Promise<Uint8Array>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        // A late ACK would be taken for the next message's: drop the connection.
        socket.destroy();
        reject(new EngineError('mllp.timeout', `no ACK within ${this.settings.ackTimeoutMs} ms`, 'operational'));
      }, this.settings.ackTimeoutMs);
      this.waiter = { resolve, reject, timer };
      socket.write(encodeMllp(payload));
    });
  }

  close() {
    this.fail(new EngineError('mllp.closed', 'sender stopped', 'operational'));
    this.socket?.end();
    this.socket = undefined;
  }
}

/** Why the egress policy would refuse `host:port` (a DNS look-up, no connection), as one problem line; none when allowed. */
export async function egressProblem(host: string, port: number, ctx: ItemContext): Promise<string[] | undefined> {
  try {
    await assertEgressAllowed(host, port, ctx.policy);
    return undefined;
  } catch (e) {
    return [`would not be sent: ${(e as Error).message}`];
  }
}

/** A small pool: callers wait for a free connection. */
class MllpPool {
  private readonly idle: MllpConnection[] = [];
  private readonly waiters: ((c: MllpConnection) => void)[] = [];

  constructor(readonly all: MllpConnection[]) {
    this.idle.push(...all);
  }

  async use<T>(fn: (c: MllpConnection) => Promise<T>): Promise<T> {
    const conn = this.idle.pop() ?? (await new Promise<MllpConnection>((r) => this.waiters.push(r)));
    try {
      return await fn(conn);
    } finally {
      const next = this.waiters.shift();
      if (next) next(conn);
      else this.idle.push(conn);
    }
  }
}

/**
 * `hl7.mllp.out`: sends each message over a pooled MLLP connection and waits for the ACK. The ACK
 * code maps to success / retry / fail by the reply-code settings; the ACK becomes the response
 * (a sync caller, e.g. an MLLP service in `application` ACK mode, relays it).
 */
export const hl7MllpOut = defineItemType({
  type: 'hl7.mllp.out',
  version: 1,
  kind: 'operation',
  description: 'Send HL7 v2 over MLLP and wait for the ACK',
  settings: hl7MllpOutSettings,
  module: import.meta.url,
  dryRun: true,
  create(settings, ctx) {
    const pem = settings.tls.enabled ? loadTls(settings.tls, ctx.policy) : undefined;
    const pool = new MllpPool(Array.from({ length: settings.poolSize }, () => new MllpConnection(settings, pem, ctx)));
    let sent = 0;
    return {
      async onMessage(envelope) {
        if (ctx.dryRun) {
          // Sandbox: where and what, with the egress verdict; no connection is opened.
          const refused = await egressProblem(settings.host, settings.port, ctx);
          return ctx.dryRun.wouldSend(`${settings.tls.enabled ? 'mllp+tls' : 'mllp'}://${settings.host}:${settings.port}`, envelope.body.raw, refused);
        }
        const frame = await pool.use((c) => c.send(envelope.body.raw));
        let summary: AckSummary | undefined;
        let ack: MessageEnvelope | undefined;
        try {
          ack = MessageEnvelope.createHl7(frame, { source: ctx.itemName, correlationId: envelope.header.correlationId });
          // Parsed through the envelope: the parse is cached, so the trace's ACK detail reuses it.
          summary = ackSummary(ack.parse<Hl7Message>());
        } catch (_e) {
          /* answered below as not an ACK */
        }
        if (!summary || !ack) throw new EngineError('mllp.bad_ack', 'the receiver answered with something that is not an HL7 ACK', 'operational');
        const { code } = summary;
        const text = summary.text ?? summary.errors?.[0] ?? '';
        const action = (settings.replyCodes as Record<string, 'success' | 'retry' | 'fail'>)[code];
        if (action === 'success') {
          sent++;
          return ack;
        }
        // The trace keeps what the receiver said (MSA-1, MSA-2, ERR); a sync caller relays its ACK.
        const detail = { ackCode: code, text, ack: summary };
        const err =
          action === 'retry' || action === undefined
            ? new EngineError('mllp.nack', `receiver answered ${code || 'an unknown code'}${text ? `: ${text}` : ''}`, 'operational', { ...detail, maxRetries: settings.nackRetries })
            : new EngineError('mllp.rejected', `receiver rejected the message (${code})${text ? `: ${text}` : ''}`, 'user', detail);
        (err as { response?: MessageEnvelope }).response = ack;
        throw err;
      },
      onStop() {
        for (const c of pool.all) c.close();
      },
      info() {
        return { host: settings.host, port: settings.port, sent };
      },
    };
  },
});
