import net from 'node:net';
import { MllpDecoder, buildAckText, encodeMllp, parseMessage, type Hl7AckCode, type Hl7Message } from '@hie/hl7';

/** How a fake downstream system answers one message: an ACK code, with an optional ERR. */
export type DownstreamAnswer = Hl7AckCode | { code: Hl7AckCode; text?: string; error?: { code: string; message: string } };

/**
 * A downstream MLLP system on a real socket, for delivery tests: records the control ids it
 * received (in order), answers each by `answer`, and can go down and come back on the same port.
 */
export class MllpDownstream {
  readonly received: string[] = [];
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();

  constructor(
    readonly port: number,
    private readonly answer: (msg: Hl7Message, nth: number) => DownstreamAnswer = () => 'AA',
    /** The loopback address to listen on (127.0.0.2 is a second host on Linux). */
    readonly host = '127.0.0.1',
  ) {}

  /** Listen (again) on the port. */
  async up(): Promise<void> {
    const server = net.createServer((s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      s.on('error', () => undefined);
      const d = new MllpDecoder();
      s.on('data', (c: Buffer) => {
        for (const ev of d.push(c)) {
          if (ev.kind !== 'frame') continue;
          const m = parseMessage(ev.payload);
          this.received.push(m.get('MSH-10') ?? '');
          const a = this.answer(m, this.received.length);
          const { code, ...opts } = typeof a === 'string' ? { code: a } : a;
          s.write(encodeMllp(buildAckText(m, code, opts)));
        }
      });
    });
    await new Promise<void>((r, j) => {
      server.once('error', j);
      server.listen(this.port, this.host, () => r());
    });
    this.server = server;
  }

  /** Go down: stop listening and cut every open connection (an outage, not a clean shutdown). */
  async down(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    for (const sk of this.sockets) sk.destroy();
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }
}
