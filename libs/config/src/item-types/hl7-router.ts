import { z } from 'zod';
import { transformOperation } from './hl7-transform';
import { checkUserRegex } from './user-regex';

/** The comparisons every router rule offers on the value(s) at a path. */
export const COMPARISON_OPS = ['=', '!=', 'in', 'contains', 'startsWith', 'matches', 'exists'] as const;

/**
 * A comparison schema: `{ path, op, value?, values? }` over the given path schema and operators,
 * with `matches` patterns checked as RE2 and `in` needing values (shared by the routers).
 */
export function comparisonOf<const O extends readonly [string, ...string[]]>(path: z.ZodString, ops: O) {
  return z
    .object({
      path,
      op: z.enum(ops).describe('Comparison'),
      value: z.string().optional().describe('Value to compare with (for =, !=, contains, startsWith, matches)'),
      values: z.array(z.string()).optional().describe('Values for "in"'),
    })
    .strict()
    .superRefine((c, ctx) => {
      const op: string = c.op;
      if (op === 'matches') {
        const problem = checkUserRegex(c.value ?? '');
        if (problem) ctx.addIssue({ code: 'custom', path: ['value'], message: `invalid regex (RE2 syntax): ${problem}` });
      }
      if (op === 'in' && !c.values && c.value === undefined) ctx.addIssue({ code: 'custom', path: ['values'], message: '"in" needs values' });
    });
}

const comparison = comparisonOf(z.string().min(1).describe('HL7 path to read, e.g. MSH-9.1'), COMPARISON_OPS);

/** A rule condition over comparisons `C`: a comparison, or and/or/not of conditions. Data, never code. */
export type ConditionOf<C> = C | { and: ConditionOf<C>[] } | { or: ConditionOf<C>[] } | { not: ConditionOf<C> };

/** The schema of {@link ConditionOf} for one comparison schema (shared by `hl7.router` and `fhir.router`). */
export function conditionOf<C>(comparisonSchema: z.ZodType<C>): z.ZodType<ConditionOf<C>> {
  const self: z.ZodType<ConditionOf<C>> = z.lazy(() =>
    z.union([
      comparisonSchema,
      z.object({ and: z.array(self).min(1) }).strict(),
      z.object({ or: z.array(self).min(1) }).strict(),
      z.object({ not: self }).strict(),
    ]),
  );
  return self;
}

/** A rule condition: a comparison on an HL7 path, or and/or/not of conditions. Data, never code. */
export type Condition = ConditionOf<z.output<typeof comparison>>;

export const condition: z.ZodType<Condition> = conditionOf(comparison);

export const rulePriority = z
  .int()
  .min(0)
  .max(9)
  .optional()
  .describe("Envelope priority (0 lowest … 9 highest) of what this rule sends; priority queues serve 9 first. Unset: the item's priority settings, else the message's own.");

/** `send`: pass the message on to named targets. */
export const sendAction = z
  .object({ action: z.literal('send'), to: z.array(z.string().min(1)).min(1).describe('Target item names (each needs a connection from this router)'), priority: rulePriority })
  .strict();
/** `discard`: end the message here, with a reason in its trace. */
export const discardAction = z.object({ action: z.literal('discard'), reason: z.string().default('discarded by rule') }).strict();

export const routeAction = z.discriminatedUnion('action', [
  sendAction,
  z
    .object({
      action: z.literal('transform'),
      operations: z.array(transformOperation).describe('Transform operations, then send'),
      to: z.array(z.string().min(1)).min(1).describe('Target item names (each needs a connection from this router)'),
      priority: rulePriority,
    })
    .strict(),
  discardAction,
]);
export type RouteAction = z.output<typeof routeAction>;

/** `stop` on a rule of either router: ends an `all_match` evaluation at this rule. */
export const ruleStop = z.boolean().optional().describe('Stop here when this rule matches (all_match mode; first_match always stops at the first match)');

export const routeRule = z
  .object({
    name: z.string().min(1).describe('Rule name (shown in traces)'),
    when: condition.optional().describe('Condition; a rule without one always matches'),
    then: routeAction,
    stop: ruleStop,
  })
  .strict();
export type RouteRule = z.output<typeof routeRule>;

/** Router settings around a rule schema: the mode, the rules in order, and what happens when none matches. */
export function routerSettingsOf<R extends z.ZodType>(rule: R) {
  return z
    .object({
      mode: z.enum(['first_match', 'all_match']).default('first_match').describe('Stop at the first matching rule, or apply every matching rule'),
      rules: z.array(rule).default([]).describe('Rules, in order'),
      otherwise: z.enum(['discard', 'send_all', 'fail']).default('discard').describe('When no rule matches: discard, send to every connected item, or fail the message'),
    })
    .strict();
}

/** Settings of `hl7.router`. */
export const hl7RouterSettings = routerSettingsOf(routeRule);
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

/** The item types whose rules name their targets (`then.to`), checked against the connections. */
export const ROUTER_ITEM_TYPES: readonly string[] = ['hl7.router', 'fhir.router'];

/**
 * Every target named by the rules of router settings (`hl7.router`, `fhir.router`), read from the raw (unparsed)
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
