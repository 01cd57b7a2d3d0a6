/**
 * The sandbox (`production.test`): a message run through a saved production with every item's
 * real code, where operations render what they would send instead of sending it. These are the
 * shapes the manager's API returns and the engine's sandbox produces (they meet only here).
 */

/** What happened to the message at one item. */
export const sandboxOutcomes = [
  /** A service took it (parsed and, when the service validates, valid). */
  'received',
  /** A service refused it (not HL7, or invalid with `validate` on): nothing goes further. */
  'refused',
  /** A process handed it (or a changed copy) on to `targets`. */
  'sent',
  /** Dropped on purpose (a router's discard action, no rule matched, no connected target). */
  'discarded',
  /** An operation rendered what it would send (`wouldSend`); nothing was sent. */
  'would_send',
  /** The item's code threw: `problems` says why. */
  'failed',
  /** Not run: a disabled item, or an operation type without a dry-run path. */
  'skipped',
] as const;
export type SandboxOutcome = (typeof sandboxOutcomes)[number];

/** One item's work on one arrival of the message. */
export interface SandboxStep {
  /** Item name. */
  item: string;
  /** Item type, e.g. `hl7.router`. */
  type: string;
  /** The item the message came from (absent at the entry item). */
  from?: string;
  outcome: SandboxOutcome;
  /** A router: the first rule that matched (all of them in `matchedRules` in all_match mode). */
  matchedRule?: string;
  matchedRules?: string[];
  /** A router found no rule: what `otherwise` did. */
  otherwise?: string;
  /** The message as the item received it (text). */
  input?: string;
  /** What the item handed on when it differs from its input (a transform's output), as text. */
  output?: string;
  /** Items the message went to next. */
  targets?: string[];
  /** An operation: where it would send and exactly what (bytes as text; `size` in bytes). */
  wouldSend?: { to: string; bytes: string; size: number };
  /** Validation issues, errors, reasons (one line each). */
  problems?: string[];
}

/** The answer of a sandbox run. */
export interface SandboxResult {
  steps: SandboxStep[];
  /** Set when a cap stopped the run (steps, time): the steps are what ran before it. */
  truncated?: string;
}

/** What to run through the sandbox. */
export interface SandboxInput {
  /** The message, as text (HL7 segments separated by CR or newlines). */
  raw: string;
  /** @defaultValue `application/hl7-v2+er7` */
  contentType?: string;
  /** Item the message enters at. @defaultValue the first enabled service */
  item?: string;
}

/** Caps of one sandbox run, so a test cannot take the engine's time or memory. */
export interface SandboxLimits {
  /** @defaultValue 200 */
  maxSteps: number;
  /** Longest text kept per input/output/wouldSend, in characters. @defaultValue 262144 */
  maxTextChars: number;
  /** @defaultValue 5000 */
  timeoutMs: number;
}

export const DEFAULT_SANDBOX_LIMITS: SandboxLimits = { maxSteps: 200, maxTextChars: 256 * 1024, timeoutMs: 5000 };

/** Largest sample message a sandbox run takes (characters). */
export const MAX_SANDBOX_INPUT_CHARS = 1024 * 1024;
