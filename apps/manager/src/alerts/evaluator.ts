/**
 * The alert evaluator (issue 13 point 3): on an interval, walks every enabled rule, reads what the
 * nodes report (through the coordinator) and what the message store holds, and keeps per rule and
 * subject a small state in the store: breaching since, firing since, last notice. An alert fires
 * once, repeats every `repeatMinutes` while it holds, and resolves with a notice. Several control
 * planes of a cluster share the store; one of them evaluates at a time (an advisory lock), and the
 * state in the store keeps notices from being sent twice.
 */
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { Coordinator } from '@hie/cluster';
import { alertChannelSchema, alertConditionSchema, type AlertChannel, type AlertCondition } from '@hie/config';
import { resolveInsideRoots, type HostPolicy } from '@hie/policy';
import { ensureError, type AlertRule, type AlertStateRow, type Store } from '@hie/store';
import { runningOf, type ItemStatus, type RunningView } from '../status.js';
import type { SecretBox } from '../secrets.js';
import { notifyAll, type AlertNotice, type ChannelOutcome, type NotifyOptions } from './notify.js';
import { windowOpenedAt } from './window.js';

/** A subject in breach, with what was seen. */
interface Breach {
  subject: string;
  summary: string;
  details: Record<string, unknown>;
  /** How long it must hold before it fires, in ms (queue depth "for M minutes"). */
  holdMs?: number;
}

/** What the evaluator reads once per project per tick. */
interface ProjectFacts {
  name: string;
  running?: RunningView;
}

export interface AlertEvaluatorOptions {
  store: Store;
  coordinator: Coordinator;
  secrets: SecretBox;
  policy: HostPolicy;
  log: Logger;
  /** @defaultValue 30000 */
  intervalMs?: number;
  /** The evaluator's clock (tests move it; node freshness stays on the real clock). @defaultValue Date.now */
  now?: () => number;
  /** Webhook retries and timeouts (tests shorten them). */
  notify?: Pick<NotifyOptions, 'webhookAttempts' | 'webhookBackoffMs' | 'timeoutMs'>;
}

/** The AAD an e-mail password of a rule is sealed with: it opens for this project only. */
export function alertSecretAad(projectId: string): string {
  return `alert:${projectId}`;
}

/** The channels of a stored rule (a row that no longer parses has none, and is logged). */
export function channelsOf(rule: AlertRule): AlertChannel[] {
  return rule.channels.flatMap((c) => {
    const parsed = alertChannelSchema.safeParse(c);
    return parsed.success ? [parsed.data] : [];
  });
}

/** The condition of a stored rule, or undefined when it no longer parses. */
export function conditionOf(rule: AlertRule): AlertCondition | undefined {
  const parsed = alertConditionSchema.safeParse({ ...rule.params, kind: rule.condition });
  return parsed.success ? parsed.data : undefined;
}

const MINUTE = 60_000;

export class AlertEvaluator {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  /** Error counters seen at the last tick, per rule and item (errors per minute). */
  private readonly lastErrors = new Map<string, { errors: number; at: number }>();
  private readonly now: () => number;

  constructor(private readonly opts: AlertEvaluatorOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** Evaluates every `intervalMs` until {@link stop}. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.opts.intervalMs ?? 30_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One evaluation of every enabled rule (skipped while another control plane evaluates). */
  tick(): Promise<void> {
    this.running ??= this.opts.store
      .runExclusive('hie:alerts:evaluator', () => this.evaluateAll())
      .then(() => undefined)
      .catch((e: unknown) => this.opts.log.warn({ err: ensureError(e) }, 'alert evaluation failed'))
      .finally(() => (this.running = undefined));
    return this.running;
  }

  /** Sends a test notice of a rule to its channels (the API's `alerts.test`), recorded in the history. */
  async test(rule: AlertRule, projectName: string): Promise<ChannelOutcome[]> {
    const notice = this.notice(rule, projectName, 'test', 'rule', 'A test notice: the channel works.', {});
    const outcomes = await notifyAll(channelsOf(rule), notice, this.notifyOptions(rule));
    await this.opts.store.alerts.addHistory({ ruleId: rule.id, projectId: rule.projectId, workspaceId: rule.workspaceId, subject: 'rule', event: 'test', at: new Date(this.now()), details: { summary: notice.summary, outcomes } });
    return outcomes;
  }

  private async evaluateAll(): Promise<void> {
    const rules = await this.opts.store.alerts.listEnabled();
    if (rules.length === 0) return;
    const nodes = await this.opts.coordinator.listStatus();
    const facts = new Map<string, ProjectFacts>();
    for (const rule of rules) {
      try {
        let f = facts.get(rule.projectId);
        if (!f) {
          const project = await this.opts.store.projects.get(rule.projectId);
          f = { name: project?.name ?? rule.projectId, running: runningOf(nodes, rule.projectId) };
          facts.set(rule.projectId, f);
        }
        await this.evaluate(rule, f);
      } catch (e) {
        this.opts.log.warn({ err: ensureError(e), rule: rule.id }, 'alert rule evaluation failed');
      }
    }
  }

  private async evaluate(rule: AlertRule, facts: ProjectFacts): Promise<void> {
    const condition = conditionOf(rule);
    if (!condition) {
      this.opts.log.warn({ rule: rule.id }, 'alert rule no longer valid: skipped');
      return;
    }
    const now = this.now();
    const breaches = await this.breaches(rule, condition, facts, now);
    const states = new Map((await this.opts.store.alerts.states(rule.id)).map((s) => [s.subject, s]));
    for (const b of breaches) {
      const prev = states.get(b.subject);
      states.delete(b.subject);
      const breachSince = prev?.breachSince ?? new Date(now);
      const state: AlertStateRow = { ruleId: rule.id, subject: b.subject, breachSince, firingSince: prev?.firingSince ?? null, lastNotifiedAt: prev?.lastNotifiedAt ?? null, details: b.details };
      if (!state.firingSince) {
        if (now - breachSince.getTime() >= (b.holdMs ?? 0)) {
          await this.send(rule, facts.name, 'fired', b);
          state.firingSince = new Date(now);
          state.lastNotifiedAt = new Date(now);
        }
      } else if (rule.repeatMinutes > 0 && state.lastNotifiedAt && now - state.lastNotifiedAt.getTime() >= rule.repeatMinutes * MINUTE) {
        await this.send(rule, facts.name, 'repeated', b);
        state.lastNotifiedAt = new Date(now);
      }
      await this.opts.store.alerts.putState(state);
    }
    // Subjects no longer in breach: resolve those that fired, forget the others.
    for (const s of states.values()) {
      if (s.firingSince) {
        await this.send(rule, facts.name, 'resolved', { subject: s.subject, summary: `${s.subject}: back to normal`, details: { firingSince: s.firingSince.toISOString(), was: s.details ?? {} } });
      }
      await this.opts.store.alerts.deleteState(rule.id, s.subject);
    }
  }

  private async send(rule: AlertRule, projectName: string, event: 'fired' | 'repeated' | 'resolved', b: Breach): Promise<void> {
    const notice = this.notice(rule, projectName, event, b.subject, b.summary, b.details);
    const outcomes = await notifyAll(channelsOf(rule), notice, this.notifyOptions(rule));
    const failed = outcomes.filter((o) => !o.ok);
    if (failed.length > 0) this.opts.log.warn({ rule: rule.id, event, failed: failed.map((o) => ({ channel: o.channel, error: o.error })) }, 'alert notice not delivered');
    await this.opts.store.alerts.addHistory({
      ruleId: rule.id,
      projectId: rule.projectId,
      workspaceId: rule.workspaceId,
      subject: b.subject,
      event,
      at: new Date(this.now()),
      details: { summary: b.summary, ...b.details, outcomes },
    });
  }

  private notice(rule: AlertRule, projectName: string, event: AlertNotice['event'], subject: string, summary: string, details: Record<string, unknown>): AlertNotice {
    return {
      event,
      rule: { id: rule.id, name: rule.name, condition: rule.condition },
      project: { id: rule.projectId, name: projectName },
      subject,
      at: new Date(this.now()).toISOString(),
      summary,
      details,
    };
  }

  private notifyOptions(rule: AlertRule): NotifyOptions {
    return { ...this.opts.notify, policy: this.opts.policy, openSecret: (sealed) => this.opts.secrets.open(sealed, alertSecretAad(rule.projectId)) };
  }

  /** The subjects in breach of a condition now. */
  private async breaches(rule: AlertRule, c: AlertCondition, facts: ProjectFacts, now: number): Promise<Breach[]> {
    const items = (facts.running?.items ?? []).filter((i) => i.enabled && (!('item' in c) || !c.item || i.name === c.item));
    switch (c.kind) {
      case 'item_down':
        return items.flatMap((i) => {
          const why = i.state === 'failed' ? 'failed' : i.state === 'starting' && i.restarts > 0 ? 'restarting' : i.retrying ? 'retrying deliveries' : undefined;
          return why ? [{ subject: i.name, summary: `${i.name} is ${why}${i.lastError ? `: ${i.lastError.message}` : ''}`, details: itemFigures(i, { why }) }] : [];
        });
      case 'error_rate':
        return items.flatMap((i) => {
          const key = `${rule.id}:${i.name}`;
          const prev = this.lastErrors.get(key);
          this.lastErrors.set(key, { errors: i.errors, at: now });
          if (!prev || now <= prev.at || i.errors < prev.errors) return [];
          const perMinute = ((i.errors - prev.errors) * MINUTE) / (now - prev.at);
          return perMinute > c.perMinute ? [{ subject: i.name, summary: `${i.name}: ${perMinute.toFixed(1)} errors per minute (over ${c.perMinute})`, details: itemFigures(i, { perMinute }) }] : [];
        });
      case 'queue_depth':
        return items
          .filter((i) => i.queueDepth > c.over)
          .map((i) => ({ subject: i.name, summary: `${i.name}: ${i.queueDepth} messages queued (over ${c.over})`, details: itemFigures(i, {}), holdMs: c.forMinutes * MINUTE }));
      case 'suspended': {
        const counts = await this.opts.store.messages.suspendedCounts(rule.projectId);
        return counts
          .filter((s) => (!c.item || s.item === c.item) && s.count > c.over)
          .map((s) => ({ subject: s.item, summary: `${s.item}: ${s.count} suspended messages (over ${c.over})`, details: { suspended: s.count } }));
      }
      case 'silence': {
        // Only while the production runs: a stopped production is silent on purpose.
        if (!facts.running || facts.running.state === 'stopped') return [];
        const opened = windowOpenedAt(new Date(now), c.window);
        if (!opened) return [];
        // Count from the latest of: the window opening, the rule's last change, the last message.
        const from = Math.max(opened.getTime(), rule.updatedAt.getTime());
        const last = await this.opts.store.messages.lastReceivedAt(rule.projectId, c.item, new Date(from));
        const silentSince = Math.max(from, last?.getTime() ?? 0);
        const silentMs = now - silentSince;
        if (silentMs < c.minutes * MINUTE) return [];
        return [{ subject: c.item, summary: `${c.item}: no message received for ${Math.floor(silentMs / MINUTE)} minutes`, details: { silentSince: new Date(silentSince).toISOString(), minutes: c.minutes } }];
      }
      case 'cert_expiry':
        return this.certBreaches(rule, c, now);
      case 'store_backlog': {
        const backlog = facts.running?.storeBacklog ?? 0;
        return backlog > c.over ? [{ subject: 'store', summary: `message store backlog: ${backlog} entries (over ${c.over})`, details: { backlog } }] : [];
      }
    }
  }

  /** Certificates named in the deployed items' TLS settings (`settings.tls.certFile`/`caFile`) expiring within `days`. */
  private async certBreaches(rule: AlertRule, c: Extract<AlertCondition, { kind: 'cert_expiry' }>, now: number): Promise<Breach[]> {
    const desired = await this.opts.coordinator.getDesired(rule.projectId);
    const spec = desired?.spec as { items?: { name?: unknown; settings?: { tls?: Record<string, unknown> } }[] } | undefined;
    const out: Breach[] = [];
    for (const item of spec?.items ?? []) {
      const name = typeof item.name === 'string' ? item.name : '';
      if (c.item && name !== c.item) continue;
      const tls = item.settings?.tls;
      if (!tls || tls.enabled === false) continue;
      for (const key of ['certFile', 'caFile'] as const) {
        const file = tls[key];
        if (typeof file !== 'string' || !file) continue;
        try {
          const cert = new X509Certificate(await readFile(await resolveInsideRoots(file, this.opts.policy)));
          const validTo = new Date(cert.validTo).getTime();
          const daysLeft = (validTo - now) / (24 * 3_600_000);
          if (daysLeft <= c.days) {
            out.push({ subject: name, summary: `${name}: TLS ${key === 'certFile' ? 'certificate' : 'CA certificate'} ${daysLeft < 0 ? 'expired' : `expires in ${Math.floor(daysLeft)} days`} (${cert.validTo})`, details: { file, validTo: new Date(validTo).toISOString(), daysLeft: Math.floor(daysLeft) } });
          }
        } catch (e) {
          this.opts.log.warn({ err: ensureError(e), item: name, file }, 'certificate alert: cannot read the certificate');
        }
      }
    }
    return out;
  }
}

function itemFigures(i: ItemStatus, extra: Record<string, unknown>): Record<string, unknown> {
  return { state: i.state, queueDepth: i.queueDepth, errors: i.errors, restarts: i.restarts, ...(i.lastError ? { lastError: i.lastError.code } : {}), ...extra };
}
