import { z } from 'zod';
import { transformOperation } from './hl7-transform';
import { checkUserRegex } from './user-regex';

const comparison = z
  .object({
    path: z.string().min(1).describe('HL7 path to read, e.g. MSH-9.1'),
    op: z.enum(['=', '!=', 'in', 'contains', 'startsWith', 'matches', 'exists']).describe('Comparison'),
    value: z.string().optional().describe('Value to compare with (for =, !=, contains, startsWith, matches)'),
    values: z.array(z.string()).optional().describe('Values for "in"'),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.op === 'matches') {
      const problem = checkUserRegex(c.value ?? '');
      if (problem) ctx.addIssue({ code: 'custom', path: ['value'], message: `invalid regex (RE2 syntax): ${problem}` });
    }
    if (c.op === 'in' && !c.values && c.value === undefined) ctx.addIssue({ code: 'custom', path: ['values'], message: '"in" needs values' });
  });

/** A rule condition: a comparison on an HL7 path, or and/or/not of conditions. Data, never code. */
export type Condition =
  | z.output<typeof comparison>
  | { and: Condition[] }
  | { or: Condition[] }
  | { not: Condition };

export const condition: z.ZodType<Condition> = z.lazy(() =>
  z.union([
    comparison,
    z.object({ and: z.array(condition).min(1) }).strict(),
    z.object({ or: z.array(condition).min(1) }).strict(),
    z.object({ not: condition }).strict(),
  ]),
);

const rulePriority = z
  .int()
  .min(0)
  .max(9)
  .optional()
  .describe("Envelope priority (0 lowest … 9 highest) of what this rule sends; priority queues serve 9 first. Unset: the item's priority settings, else the message's own.");

export const routeAction = z.discriminatedUnion('action', [
  z.object({ action: z.literal('send'), to: z.array(z.string().min(1)).min(1).describe('Target item names (each needs a connection from this router)'), priority: rulePriority }).strict(),
  z
    .object({
      action: z.literal('transform'),
      operations: z.array(transformOperation).describe('Transform operations, then send'),
      to: z.array(z.string().min(1)).min(1).describe('Target item names (each needs a connection from this router)'),
      priority: rulePriority,
    })
    .strict(),
  z.object({ action: z.literal('discard'), reason: z.string().default('discarded by rule') }).strict(),
]);
export type RouteAction = z.output<typeof routeAction>;

export const routeRule = z
  .object({
    name: z.string().min(1).describe('Rule name (shown in traces)'),
    when: condition.optional().describe('Condition; a rule without one always matches'),
    then: routeAction,
    stop: z.boolean().optional().describe('Stop here when this rule matches (all_match mode; first_match always stops at the first match)'),
  })
  .strict();
export type RouteRule = z.output<typeof routeRule>;

/** Settings of `hl7.router`. */
export const hl7RouterSettings = z
  .object({
    mode: z.enum(['first_match', 'all_match']).default('first_match').describe('Stop at the first matching rule, or apply every matching rule'),
    rules: z.array(routeRule).default([]).describe('Rules, in order'),
    otherwise: z.enum(['discard', 'send_all', 'fail']).default('discard').describe('When no rule matches: discard, send to every connected item, or fail the message'),
  })
  .strict();
export type Hl7RouterSettings = z.output<typeof hl7RouterSettings>;

/** One item name a router rule sends to, and where it sits in the router's settings. */
export interface RouterRuleTarget {
  /** Path inside the settings: `['rules', 0, 'then', 'to', 1]`. */
  path: (string | number)[];
  /** The rule's name (empty when the rule has none). */
  rule: string;
  /** The item name the rule sends to. */
  to: string;
}

/**
 * Every target named by the rules of `hl7.router` settings, read from the raw (unparsed)
 * value so a production with other problems is still checked; malformed parts are skipped
 * (the schema reports them).
 */
export function routerRuleTargets(settings: unknown): RouterRuleTarget[] {
  const targets: RouterRuleTarget[] = [];
  const rules = isObject(settings) ? settings.rules : undefined;
  if (!Array.isArray(rules)) return targets;
  rules.forEach((rule: unknown, r) => {
    if (!isObject(rule) || !isObject(rule.then) || !Array.isArray(rule.then.to)) return;
    const name = typeof rule.name === 'string' ? rule.name : '';
    rule.then.to.forEach((to: unknown, t) => {
      if (typeof to === 'string' && to !== '') targets.push({ path: ['rules', r, 'then', 'to', t], rule: name, to });
    });
  });
  return targets;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
