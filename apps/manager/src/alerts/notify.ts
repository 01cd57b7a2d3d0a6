/**
 * Sending alert notices: a JSON POST to a webhook (retried with backoff) and an e-mail over SMTP
 * (nodemailer). Both go only where the egress policy allows, to the address the check approved.
 */
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import nodemailer from 'nodemailer';
import type { AlertChannel } from '@hie/config';
import { assertEgressAllowed, urlTarget, type EgressAddress, type HostPolicy } from '@hie/policy';
import { ensureError } from '@hie/store';

/** What a notice says: figures and names, never message content. */
export interface AlertNotice {
  event: 'fired' | 'repeated' | 'resolved' | 'test';
  rule: { id: string; name: string; condition: string };
  project: { id: string; name: string };
  /** What it is about: an item's name, or `store`. */
  subject: string;
  /** ISO time. */
  at: string;
  summary: string;
  details: Record<string, unknown>;
}

/** One channel's outcome, kept in the history (never a password). */
export interface ChannelOutcome {
  channel: 'webhook' | 'email';
  /** The URL's host, or the e-mail recipients. */
  target: string;
  ok: boolean;
  attempts: number;
  error?: string;
}

export interface NotifyOptions {
  policy: HostPolicy;
  /** Opens a sealed e-mail password. */
  openSecret: (sealed: string) => string | undefined;
  /** Webhook attempts in all. @defaultValue 4 */
  webhookAttempts?: number;
  /** First backoff, doubled each retry. @defaultValue 1000 */
  webhookBackoffMs?: number;
  /** Per request / SMTP step. @defaultValue 10000 */
  timeoutMs?: number;
}

/** A `lookup` that answers with the addresses the egress check approved, whatever the name. */
function pinnedLookup(addresses: EgressAddress[]): LookupFunction {
  return ((_host: string, opts: { all?: boolean }, cb: (err: Error | null, address: unknown, family?: number) => void) => {
    if (opts?.all) cb(null, addresses);
    else cb(null, addresses[0].address, addresses[0].family);
  }) as unknown as LookupFunction;
}

function post(url: string, body: string, lookup: LookupFunction, timeoutMs: number): Promise<number> {
  const u = new URL(url);
  const request = u.protocol === 'https:' ? https.request : http.request;
  return new Promise((resolve, reject) => {
    const req = request(
      u,
      { method: 'POST', lookup, timeout: timeoutMs, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'user-agent': 'hie-alerts' } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

async function sendWebhook(url: string, notice: AlertNotice, opts: NotifyOptions): Promise<ChannelOutcome> {
  const target = urlTarget(url);
  const out: ChannelOutcome = { channel: 'webhook', target: target ? `${target.host}:${target.port}` : url, ok: false, attempts: 0 };
  if (!target) return { ...out, error: 'only http:// and https:// URLs' };
  const attempts = opts.webhookAttempts ?? 4;
  let delay = opts.webhookBackoffMs ?? 1000;
  const body = JSON.stringify(notice);
  for (;;) {
    out.attempts++;
    try {
      // Checked before every attempt: DNS may have changed; a refusal is final.
      const addresses = await assertEgressAllowed(target.host, target.port, opts.policy);
      const status = await post(url, body, pinnedLookup(addresses), opts.timeoutMs ?? 10_000);
      if (status >= 200 && status < 300) return { ...out, ok: true, error: undefined };
      out.error = `HTTP ${status}`;
      // 4xx other than 408/429: the receiver refuses this notice; retrying will not help.
      if (status >= 400 && status < 500 && status !== 408 && status !== 429) return out;
    } catch (e) {
      const err = ensureError(e);
      out.error = err.message;
      if ((err as { code?: unknown }).code === 'policy.egress_refused') return out;
    }
    if (out.attempts >= attempts) return out;
    await new Promise((r) => setTimeout(r, delay));
    delay *= 2;
  }
}

function mailText(n: AlertNotice): { subject: string; text: string } {
  const head = n.event === 'resolved' ? 'RESOLVED' : n.event === 'test' ? 'TEST' : n.event === 'repeated' ? 'STILL FIRING' : 'FIRING';
  return {
    subject: `[HIE ${head}] ${n.project.name}: ${n.rule.name} (${n.subject})`,
    text: [`${n.summary}`, '', `Project: ${n.project.name}`, `Rule: ${n.rule.name} (${n.rule.condition})`, `Subject: ${n.subject}`, `At: ${n.at}`, '', JSON.stringify(n.details, null, 2)].join('\n'),
  };
}

async function sendEmail(ch: Extract<AlertChannel, { kind: 'email' }>, notice: AlertNotice, opts: NotifyOptions): Promise<ChannelOutcome> {
  const out: ChannelOutcome = { channel: 'email', target: ch.to.join(', '), ok: false, attempts: 1 };
  try {
    const addresses = await assertEgressAllowed(ch.host, ch.port, opts.policy);
    const password = ch.password ? opts.openSecret(ch.password) : undefined;
    if (ch.password && password === undefined) return { ...out, error: 'the saved SMTP password cannot be decrypted (HIE_SECRET_KEY changed?)' };
    const t = opts.timeoutMs ?? 10_000;
    const transport = nodemailer.createTransport({
      host: addresses[0].address,
      port: ch.port,
      secure: ch.secure,
      // Certificates are checked against the configured name, not the address we connect to.
      tls: { servername: ch.host },
      connectionTimeout: t,
      greetingTimeout: t,
      socketTimeout: t,
      ...(ch.user ? { auth: { user: ch.user, pass: password ?? '' } } : {}),
    });
    try {
      await transport.sendMail({ from: ch.from, to: ch.to, ...mailText(notice) });
    } finally {
      transport.close();
    }
    return { ...out, ok: true };
  } catch (e) {
    return { ...out, error: ensureError(e).message };
  }
}

/** Sends a notice to every channel (at once); resolves with each outcome, never rejects. */
export async function notifyAll(channels: readonly AlertChannel[], notice: AlertNotice, opts: NotifyOptions): Promise<ChannelOutcome[]> {
  return Promise.all(channels.map((ch) => (ch.kind === 'webhook' ? sendWebhook(ch.url, notice, opts) : sendEmail(ch, notice, opts))));
}
