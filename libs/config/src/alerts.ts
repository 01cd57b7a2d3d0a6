/**
 * Alert rules (issue 13 point 3): what to watch in a running production and whom to tell. One zod
 * schema for the manager's API input and the portal's form. Rules are data, never code.
 */
import { z } from 'zod';

const itemName = z.string().min(1).max(200);
const anyItem = itemName.optional().describe('the item to watch; every item of the project when empty');
const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time as HH:MM (24 h)');

/** Checks an IANA time zone name (`Europe/London`) with the runtime's own list. */
function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone: tz });
    return true;
  } catch (_e) {
    return false;
  }
}

/** When a silence counts: between two times of day, on some days, in a time zone. */
export const alertWindowSchema = z
  .object({
    from: hhmm.default('00:00').describe('start of the window (local time, HH:MM)'),
    to: hhmm.default('23:59').describe('end of the window (local time, HH:MM, exclusive)'),
    days: z
      .array(z.int().min(1).max(7))
      .min(1)
      .default([1, 2, 3, 4, 5, 6, 7])
      .describe('ISO weekdays: 1 = Monday … 7 = Sunday'),
    timeZone: z.string().min(1).default('UTC').refine(isTimeZone, 'an IANA time zone such as Europe/London').describe('IANA time zone of the window'),
  })
  .refine((w) => w.from < w.to, { message: 'the window must end after it starts', path: ['to'] });
export type AlertWindow = z.infer<typeof alertWindowSchema>;

/** The conditions an alert can watch, each with its parameters. */
export const alertConditionSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('item_down'), item: anyItem }).describe('an item failed, restarting, or retrying deliveries (its downstream away)'),
  z.object({ kind: z.literal('error_rate'), item: anyItem, perMinute: z.number().positive().describe('errors per minute above which it fires') }),
  z.object({
    kind: z.literal('queue_depth'),
    item: anyItem,
    over: z.int().min(0).describe('queue depth above which it counts'),
    forMinutes: z.number().min(0).default(0).describe('for at least this many minutes'),
  }),
  z.object({
    kind: z.literal('silence'),
    item: itemName.describe('the inbound item (service) to watch'),
    minutes: z.number().positive().describe('no message received for this many minutes'),
    window: alertWindowSchema.optional().describe('only within this window; always when absent'),
  }),
  z.object({ kind: z.literal('suspended'), item: anyItem, over: z.int().min(0).describe('suspended messages above which it fires') }),
  z.object({ kind: z.literal('cert_expiry'), item: anyItem, days: z.int().min(1).max(3650).describe('a TLS certificate of the item expires within this many days') }),
  z.object({ kind: z.literal('store_backlog'), over: z.int().min(0).describe('entries waiting for the message store above which it fires') }),
]);
export type AlertCondition = z.infer<typeof alertConditionSchema>;
export type AlertConditionKind = AlertCondition['kind'];

/** Human labels of the conditions (the portal's select). */
export const alertConditionLabels: Record<AlertConditionKind, string> = {
  item_down: 'Item failed, restarting or retrying',
  error_rate: 'Errors per minute over N',
  queue_depth: 'Queue depth over N for M minutes',
  silence: 'No message received for M minutes',
  suspended: 'Suspended messages over N',
  cert_expiry: 'Certificate expiring within D days',
  store_backlog: 'Message store backlog over N',
};

/** A channel as saved; an e-mail password is write-only (see {@link alertChannelViewSchema}). */
export const alertChannelSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('webhook'),
    url: z
      .url({ protocol: /^https?$/ })
      .max(2000)
      .describe('receives a JSON POST per notice (the egress policy applies)'),
  }),
  z.object({
    kind: z.literal('email'),
    host: z.string().min(1).max(255).describe('SMTP server'),
    port: z.int().min(1).max(65535).default(587),
    secure: z.boolean().default(false).describe('TLS from the start (port 465); otherwise STARTTLS when offered'),
    from: z.email(),
    to: z.array(z.email()).min(1).max(50),
    user: z.string().max(200).optional(),
    /** Write-only: omitted on update keeps the saved one; `null` removes it. */
    password: z.string().max(500).nullable().optional(),
  }),
]);
export type AlertChannel = z.infer<typeof alertChannelSchema>;

/** A rule as the API takes it. */
export const alertRuleInputSchema = z.object({
  name: z.string().min(1).max(200),
  condition: alertConditionSchema,
  channels: z.array(alertChannelSchema).min(1).max(10),
  repeatMinutes: z.int().min(0).max(10_080).default(60).describe('repeat while firing, every this many minutes (0: never)'),
  enabled: z.boolean().default(true),
});
export type AlertRuleInput = z.input<typeof alertRuleInputSchema>;
