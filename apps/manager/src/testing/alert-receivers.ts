/** Real receivers of alert notices for tests: an HTTP webhook receiver and an SMTP server (smtp-server). */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface WebhookReceiver {
  url: string;
  /** Parsed JSON bodies, in arrival order. */
  received: Record<string, unknown>[];
  /** Answer the next `n` requests with this status instead of 200 (retry tests). */
  failNext(n: number, status?: number): void;
  /** Every request's body, those answered with a failure too. */
  requests: Record<string, unknown>[];
  close(): Promise<void>;
}

export async function webhookReceiver(): Promise<WebhookReceiver> {
  let fail = 0;
  let failStatus = 503;
  const r: WebhookReceiver = {
    url: '',
    received: [] as Record<string, unknown>[],
    requests: [],
    failNext(n: number, status = 503) {
      fail = n;
      failStatus = status;
    },
    close: () => Promise.resolve(),
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      r.requests.push(body);
      if (fail > 0) {
        fail--;
        res.writeHead(failStatus).end();
        return;
      }
      r.received.push(body);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  r.close = () => {
    server.closeAllConnections();
    return new Promise<void>((ok) => server.close(() => ok()));
  };
  return r;
}

export interface MailReceiver {
  port: number;
  /** Each message: envelope recipients, the authenticated user, the raw text. */
  received: { to: string[]; user?: string; subject: string; text: string }[];
  close(): Promise<void>;
}

/** An SMTP server on a free port; accepts only `user`/`password` when given (AUTH PLAIN/LOGIN). */
export async function mailReceiver(auth?: { user: string; password: string }): Promise<MailReceiver> {
  const received: MailReceiver['received'] = [];
  const server = new SMTPServer({
    disabledCommands: auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    authOptional: !auth,
    allowInsecureAuth: true,
    logger: false,
    onAuth(a, _session, cb) {
      if (auth && a.username === auth.user && a.password === auth.password) cb(null, { user: a.username });
      else cb(new Error('invalid credentials'));
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const subject = /^Subject: (.*)$/m.exec(text)?.[1]?.trim() ?? '';
        received.push({ to: session.envelope.rcptTo.map((t) => t.address), user: typeof session.user === 'string' ? session.user : undefined, subject, text });
        cb();
      });
    },
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
  const port = (server.server.address() as AddressInfo).port;
  return { port, received, close: () => new Promise<void>((ok) => server.close(() => ok())) };
}
