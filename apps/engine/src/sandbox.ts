/**
 * The sandbox behind `production.test`: runs one message through a production with every item's
 * real code (router rules, transforms, codecs' validation), and nothing leaves it. Services do not
 * listen: the message enters as if the service had received it (parsed and validated as it would).
 * Processes start, run their `onMessage` with a context that records what they send, discard and
 * note, and stop.
 * Operations run with a {@link DryRun} hook: they render what they would deliver and where, and
 * deliver nothing; an operation type without a dry-run path is not run at all. Nothing is stored:
 * there is no tracker, no queue, no bus.
 */
import pino, { type Logger } from 'pino';
import {
  DEFAULT_SANDBOX_LIMITS,
  parseProduction,
  type Item,
  type SandboxInput,
  type SandboxLimits,
  type SandboxResult,
  type SandboxStep,
} from '@hie/config';
import { CONTENT_TYPES, MessageEnvelope } from '@hie/envelope';
import { decodeHl7Bytes, holdsSeveralMessages, parseBatchBytes, startsWithBatchHeader, validateMessage, type Hl7Message } from '@hie/hl7';
import { createHostPolicy, type HostPolicy } from '@hie/policy';
import { createRegistry } from './engine-node';
import type { CreateContext, DryRun, ItemContext, ItemTypeDefinition } from './item-type';
import { registerBuiltinCodecs } from './runtime/codecs';
import { isHl7 } from './runtime/envelopes';
import { codeOf, EngineError, ensureError } from './runtime/errors';
import type { ItemTypeRegistry } from './runtime/registry';

export interface SandboxOptions {
  /** Item types (built-ins and plugins). @defaultValue the built-ins */
  registry?: ItemTypeRegistry;
  /** The host policy the items check folders and hosts against (as when they run). */
  policy?: HostPolicy;
  log?: Logger;
  limits?: Partial<SandboxLimits>;
}

/** Runs messages through productions without delivering anything (see the file's comment). */
export interface EngineSandbox {
  /**
   * @param spec - a production spec as saved (secrets in plaintext, as the engine gets them)
   * @throws EngineError `config.invalid` for an invalid spec, `sandbox.bad_input` for an unknown entry item
   */
  run(spec: unknown, input: SandboxInput): Promise<SandboxResult>;
}

interface Arrival {
  item: Item;
  envelope: MessageEnvelope;
  from?: string;
}

interface Captured {
  sends: { envelope: MessageEnvelope; to?: readonly string[] }[];
  discarded?: string;
  notes: Record<string, unknown>;
  wouldSend?: { to: string; bytes: Uint8Array; problems?: string[] };
}

const utf8 = new TextDecoder();

/** Bytes as text: HL7 in its own charset, anything else as UTF-8. */
function textOf(envelope: MessageEnvelope): string {
  const raw = envelope.body.raw;
  return isHl7(envelope.header.contentType) ? decodeHl7Bytes(raw).text : utf8.decode(raw);
}

/** Validation issues of an HL7 message as `path: message` lines (warnings marked). */
function hl7Problems(msg: Hl7Message): { errors: number; lines: string[] } {
  const problems = validateMessage(msg);
  return {
    errors: problems.filter((p) => p.severity === 'error').length,
    lines: problems.map((p) => `${p.severity === 'error' ? '' : 'warning: '}${p.path}: ${p.message}`),
  };
}

export function createSandbox(opts: SandboxOptions = {}): EngineSandbox {
  registerBuiltinCodecs();
  const registry = opts.registry ?? createRegistry();
  const policy = opts.policy ?? createHostPolicy();
  const log = opts.log ?? pino({ level: 'silent' });
  const limits: SandboxLimits = { ...DEFAULT_SANDBOX_LIMITS, ...opts.limits };
  const clip = (s: string) => (s.length > limits.maxTextChars ? `${s.slice(0, limits.maxTextChars)}\n… (${s.length - limits.maxTextChars} more characters)` : s);

  return {
    async run(spec, input) {
      const production = parseProduction(spec, { itemTypes: registry.lookup });
      const byName = new Map(production.items.map((i) => [i.name, i]));
      const targets = new Map<string, string[]>();
      for (const c of production.connections) targets.set(c.from, [...(targets.get(c.from) ?? []), c.to]);
      const kindOf = (item: Item) => registry.get(item.type)?.kind;
      const entry = input.item
        ? byName.get(input.item)
        : production.items.find((i) => i.enabled && kindOf(i) === 'service');
      if (!entry) {
        throw new EngineError(
          'sandbox.bad_input',
          input.item ? `no item named "${input.item}"` : 'the production has no enabled service: name the item the message enters at',
          'user',
        );
      }
      const contentType = input.contentType ?? CONTENT_TYPES.hl7v2;
      // Pasted HL7 has newlines where the wire has CR.
      const envelope = isHl7(contentType)
        ? MessageEnvelope.createHl7(input.raw.replace(/\r\n|\n/g, '\r').replace(/\r+$/, '\r'), { source: 'sandbox' })
        : MessageEnvelope.create({ raw: input.raw, contentType, source: 'sandbox' });

      const steps: SandboxStep[] = [];
      const queue: Arrival[] = [{ item: entry, envelope }];
      const deadline = Date.now() + limits.timeoutMs;
      let truncated: string | undefined;

      while (queue.length > 0) {
        if (steps.length >= limits.maxSteps) {
          truncated = `stopped after ${limits.maxSteps} steps`;
          break;
        }
        const remaining = deadline - Date.now();
        if (remaining <= 0) {
          truncated = `stopped after ${limits.timeoutMs} ms`;
          break;
        }
        const arrival = queue.shift()!;
        const { item } = arrival;
        const def = registry.get(item.type)!;
        const step: SandboxStep = { item: item.name, type: item.type, ...(arrival.from ? { from: arrival.from } : {}), outcome: 'sent', input: clip(textOf(arrival.envelope)) };
        steps.push(step);
        const next = targets.get(item.name) ?? [];
        if (!item.enabled) {
          Object.assign(step, { outcome: 'skipped', problems: ['the item is disabled'] });
          continue;
        }
        if (def.kind === 'service') {
          const taken = receive(step, arrival.envelope, item);
          if (taken.length > 0) step.targets = next;
          for (const envelope of taken) for (const to of next) queue.push({ item: byName.get(to)!, envelope, from: item.name });
          continue;
        }
        if (def.kind === 'operation' && !def.dryRun) {
          Object.assign(step, { outcome: 'skipped', problems: [`type ${item.type} has no dry-run path: it was not run (it would deliver)`] });
          continue;
        }
        const captured: Captured = { sends: [], notes: {} };
        try {
          await withTimeout(runItem(def, item, arrival.envelope, next, captured), remaining);
        } catch (e) {
          const err = ensureError(e);
          Object.assign(step, { outcome: 'failed', problems: [`${codeOf(err)}: ${err.message}`] });
          if (err instanceof EngineError && err.code === 'sandbox.timeout') {
            truncated = `stopped after ${limits.timeoutMs} ms`;
            break;
          }
          continue;
        }
        describeNotes(step, captured.notes);
        if (def.kind === 'operation') {
          const w = captured.wouldSend;
          if (w) {
            step.outcome = 'would_send';
            step.wouldSend = { to: w.to, bytes: clip(textOf(arrival.envelope.withBody(w.bytes))), size: w.bytes.byteLength };
            if (w.problems?.length) step.problems = w.problems;
          } else step.outcome = 'sent';
          continue;
        }
        if (captured.sends.length === 0) {
          Object.assign(step, { outcome: 'discarded', problems: [captured.discarded ?? (next.length === 0 ? 'no connected targets' : 'nothing was sent')] });
          continue;
        }
        const went: string[] = [];
        for (const s of captured.sends) {
          if (s.envelope !== arrival.envelope && step.output === undefined) {
            step.output = clip(textOf(s.envelope));
            if (isHl7(s.envelope.header.contentType)) {
              const issues = outputProblems(s.envelope);
              if (issues.length > 0) step.problems = issues;
            }
          }
          for (const to of s.to ?? next) {
            const target = byName.get(to);
            if (!target) continue;
            went.push(to);
            queue.push({ item: target, envelope: s.envelope, from: item.name });
          }
        }
        step.targets = [...new Set(went)];
      }
      return truncated ? { steps, truncated } : { steps };
    },
  };

  /**
   * A service's part: the message parsed and, when the service validates, checked; refused as the
   * service would. A batch (FHS/BHS, or several MSH) is split as the listeners split it: each
   * message goes on by itself. Returns what goes on.
   */
  function receive(step: SandboxStep, envelope: MessageEnvelope, item: Item): MessageEnvelope[] {
    step.outcome = 'received';
    if (!isHl7(envelope.header.contentType)) return [envelope];
    const raw = envelope.body.raw;
    let parts = [envelope];
    try {
      if (startsWithBatchHeader(raw) || holdsSeveralMessages(envelope.parse<Hl7Message>())) {
        parts = parseBatchBytes(raw).messages.map((m) => MessageEnvelope.createHl7(m, { source: 'sandbox' }));
      }
    } catch {
      /* not HL7: reported below */
    }
    const problems: string[] = [];
    const taken: MessageEnvelope[] = [];
    parts.forEach((part, i) => {
      const where = parts.length > 1 ? `message ${i + 1} of ${parts.length}: ` : '';
      let msg: Hl7Message;
      try {
        msg = part.parse<Hl7Message>();
        msg.get('MSH-9');
      } catch (e) {
        problems.push(`${where}not HL7: ${ensureError(e).message}`);
        return;
      }
      const { errors, lines } = hl7Problems(msg);
      problems.push(...lines.map((l) => where + l));
      if (errors > 0 && item.settings['validate'] === true) return;
      taken.push(part);
    });
    if (problems.length > 0) step.problems = problems;
    if (taken.length === 0) step.outcome = 'refused';
    return taken;
  }

  function outputProblems(envelope: MessageEnvelope): string[] {
    try {
      return hl7Problems(envelope.parse<Hl7Message>()).lines;
    } catch (e) {
      return [`the output is not HL7: ${ensureError(e).message}`];
    }
  }

  async function runItem(
    def: ItemTypeDefinition,
    item: Item,
    envelope: MessageEnvelope,
    next: readonly string[],
    captured: Captured,
  ): Promise<void> {
    const dryRun: DryRun = {
      wouldSend(to, bytes, problems) {
        captured.wouldSend = { to, bytes, problems };
      },
    };
    // A handler per arrival, with this arrival's context: items keep their create context for onMessage.
    const ctx = sandboxContext(item.name, next, captured, dryRun);
    const h = await def.create(def.settings.parse(item.settings), ctx);
    // A process starts and stops around the message, as when it runs: what its onStart sets up
    // (a table, a compiled map) is there. Services and operations do not: they would listen or
    // connect.
    const lifecycle = def.kind === 'process';
    if (lifecycle) await h.onStart?.(ctx);
    try {
      const before = (await h.onBeforeProcess?.(envelope, ctx)) ?? envelope;
      await h.onMessage?.(before, ctx);
    } finally {
      if (lifecycle) await h.onStop?.(ctx);
    }
  }

  /** The context an item sees in the sandbox: sends and notes are recorded, nothing else happens. */
  function sandboxContext(itemName: string, targets: readonly string[], captured: Captured, dryRun: DryRun): CreateContext & ItemContext {
    const misuse = (what: string) => () => {
      throw new EngineError('sandbox.unsupported', `${what} is not available in the sandbox`, 'user');
    };
    return {
      itemName,
      production: 'sandbox',
      targets,
      log,
      policy,
      dryRun,
      hasStore: false,
      send(envelope, o) {
        captured.sends.push({ envelope, to: o?.to });
      },
      discard(reason) {
        captured.discarded = reason;
      },
      note(detail) {
        Object.assign(captured.notes, detail);
      },
      submit: misuse('ctx.submit'),
      refuse: () => Promise.resolve(undefined),
      exit: misuse('ctx.exit'),
    };
  }
}

/** A router's notes (`rule`, `rules`, `otherwise`) on the step. */
function describeNotes(step: SandboxStep, notes: Record<string, unknown>): void {
  if (typeof notes['rule'] === 'string') step.matchedRule = notes['rule'];
  if (Array.isArray(notes['rules'])) step.matchedRules = notes['rules'].map(String);
  if (typeof notes['otherwise'] === 'string') step.otherwise = notes['otherwise'];
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_r, reject) => {
    timer = setTimeout(() => reject(new EngineError('sandbox.timeout', `the item did not finish within the sandbox's time`, 'user')), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
