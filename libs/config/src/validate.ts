import type { z } from 'zod';
import { HieError } from './errors';
import { ROUTER_ITEM_TYPES, routerRuleTargets } from './item-types/hl7-router';
import { ITEM_TYPE_PATTERN, productionSchema, type Production } from './production';
import { mapSettingsSecrets, SECRET_PLACEHOLDER, secretPathsOfSchema } from './secrets';

/** One thing wrong with a production spec. */
export interface ConfigProblem {
  /** Where, as keys and indexes from the spec's root: `['items', 1, 'queue', 'overflow']`. */
  path: (string | number)[];
  /** The same path as text: `items[1].queue.overflow` (empty for the root). */
  pathText: string;
  /**
   * What is wrong, machine-readable: a zod issue code (`invalid_type`, `invalid_value`,
   * `unrecognized_keys`, `too_small`, …) or one of the semantic codes
   * `duplicate_item_name`, `dangling_connection`, `self_connection`, `duplicate_connection`,
   * `unknown_item_type`, `service_execution_mode`, `duplicate_canvas_id`.
   */
  code: string;
  /** What is wrong, for people. */
  message: string;
}

/** What `validateProduction` needs to know about an item type. */
export interface ItemTypeInfo {
  /** The zod schema of the type's `settings`. */
  settings: z.ZodType;
  /** The type's kind; when given, a service with an execution mode other than `async` is refused. */
  kind?: 'service' | 'process' | 'operation';
}

/** Looks an item type up by name; `undefined` when no such type is registered. */
export type ItemTypeLookup = (type: string) => ItemTypeInfo | undefined;

/** Options of {@link validateProduction} and {@link parseProduction}. */
export interface ValidateProductionOptions {
  /**
   * When given, every item's type must be known and its `settings` must pass the type's
   * schema (and come back parsed, defaults filled).
   * @defaultValue undefined (item types and their settings are not checked)
   */
  itemTypes?: ItemTypeLookup;
}

/** Result of {@link validateProduction}. */
export type ValidationResult = { ok: true; value: Production } | { ok: false; problems: ConfigProblem[] };


const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** Formats a path as `items[1].queue.overflow` (keys that are not identifiers are quoted). */
export function formatPath(path: readonly (string | number)[]): string {
  let text = '';
  for (const key of path) {
    if (typeof key === 'number') text += `[${key}]`;
    else if (IDENTIFIER.test(key)) text += text === '' ? key : `.${key}`;
    else text += `[${JSON.stringify(key)}]`;
  }
  return text;
}

function problem(path: (string | number)[], code: string, message: string): ConfigProblem {
  return { path, pathText: formatPath(path), code, message };
}

/**
 * Turns zod issues into problems, `prefix` prepended to each path. An `unrecognized_keys`
 * issue becomes one problem per key, pointing at the key.
 */
export function problemsFromZodIssues(
  issues: readonly z.core.$ZodIssue[],
  prefix: readonly (string | number)[] = [],
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path.map((key) => (typeof key === 'symbol' ? String(key) : key))];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) problems.push(problem([...path, key], issue.code, `unknown key "${key}"`));
    } else {
      problems.push(problem(path, issue.code, issue.message));
    }
  }
  return problems;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks a production spec completely and reports EVERY problem found, never only the first:
 * schema problems (unknown keys, wrong types, bad enum values, out-of-range numbers) plus
 * semantic ones (duplicate item names, connections to missing items, self-connections,
 * duplicate connections, `hl7.router`/`fhir.router` rules that send to an item the router has no connection
 * to) and, when `opts.itemTypes` is given, unknown item types and each
 * item's `settings` checked against its type's schema (paths `items[i].settings.…`).
 *
 * Semantic checks run on the raw spec even when the schema check fails, so one pass shows
 * everything. On success the value has every default filled, type settings included.
 */
export function validateProduction(spec: unknown, opts: ValidateProductionOptions = {}): ValidationResult {
  const parsed = productionSchema.safeParse(spec);
  const problems = parsed.success ? [] : problemsFromZodIssues(parsed.error.issues);

  const raw = isRecord(spec) ? spec : {};
  const rawItems = raw.items === undefined ? [] : raw.items;
  const rawConnections = raw.connections === undefined ? [] : raw.connections;
  const typedSettings = new Map<number, Record<string, unknown>>();

  // Item names: duplicates, and the set connections are checked against.
  const names = new Map<string, number>();
  if (Array.isArray(rawItems)) {
    rawItems.forEach((item: unknown, i) => {
      if (!isRecord(item) || typeof item.name !== 'string') return;
      const first = names.get(item.name);
      if (first === undefined) names.set(item.name, i);
      else
        problems.push(
          problem(['items', i, 'name'], 'duplicate_item_name', `duplicate item name "${item.name}" (also items[${first}])`),
        );
    });
  }

  if (Array.isArray(rawConnections)) {
    const seen = new Map<string, number>();
    rawConnections.forEach((connection: unknown, i) => {
      if (!isRecord(connection)) return;
      const { from, to } = connection;
      if (Array.isArray(rawItems)) {
        for (const end of ['from', 'to'] as const) {
          const name = connection[end];
          if (typeof name === 'string' && name !== '' && !names.has(name)) {
            problems.push(problem(['connections', i, end], 'dangling_connection', `no item named "${name}"`));
          }
        }
      }
      if (typeof from !== 'string' || typeof to !== 'string') return;
      if (from === to) {
        problems.push(problem(['connections', i], 'self_connection', `item "${from}" is connected to itself`));
      }
      const key = `${from}\u0000${to}`;
      const first = seen.get(key);
      if (first === undefined) seen.set(key, i);
      else
        problems.push(
          problem(
            ['connections', i],
            'duplicate_connection',
            `duplicate connection "${from}" → "${to}" (also connections[${first}])`,
          ),
        );
    });
  }

  problems.push(...unconnectedRuleTargets(rawItems, rawConnections, names));
  problems.push(...duplicateCanvasIds(raw.canvas));

  if (opts.itemTypes && Array.isArray(rawItems)) {
    const lookup = opts.itemTypes;
    rawItems.forEach((item: unknown, i) => {
      // A malformed type or settings value is already reported by the schema check.
      if (!isRecord(item) || typeof item.type !== 'string' || !ITEM_TYPE_PATTERN.test(item.type)) return;
      const settings = item.settings === undefined ? {} : item.settings;
      if (!isRecord(settings)) return;
      const info = lookup(item.type);
      if (!info) {
        problems.push(problem(['items', i, 'type'], 'unknown_item_type', `unknown item type "${item.type}"`));
        return;
      }
      // "••• set" is what an export shows for a secret: running it would make the placeholder
      // the password.
      mapSettingsSecrets(settings, secretPathsOfSchema(info.settings), (v, path) => {
        if (v === SECRET_PLACEHOLDER) {
          problems.push(problem(['items', i, 'settings', ...path], 'secret_missing', `"${SECRET_PLACEHOLDER}" stands for a secret that is not in this spec: enter the value`));
        }
      });
      // A service's handler always runs on the event loop (it owns sockets and timers): a worker
      // mode there would be silently ignored, so it is refused instead.
      const mode = isRecord(item.execution) ? item.execution.mode : undefined;
      if (info.kind === 'service' && typeof mode === 'string' && mode !== 'async') {
        problems.push(problem(['items', i, 'execution', 'mode'], 'service_execution_mode', `a service runs on the event loop: execution mode "${mode}" is not supported (use async)`));
      }
      const result = info.settings.safeParse(settings);
      if (!result.success) problems.push(...problemsFromZodIssues(result.error.issues, ['items', i, 'settings']));
      else if (isRecord(result.data)) typedSettings.set(i, result.data);
      else
        problems.push(
          problem(['items', i, 'settings'], 'invalid_type', `settings schema of type "${item.type}" must produce an object`),
        );
    });
  }

  if (problems.length > 0 || !parsed.success) return { ok: false, problems };
  const value = parsed.data;
  for (const [i, settings] of typedSettings) value.items[i].settings = settings;
  return { ok: true, value };
}

/** Groups and notes share one id space (the designer selects and deletes them by id). */
function duplicateCanvasIds(canvas: unknown): ConfigProblem[] {
  if (!isRecord(canvas)) return [];
  const problems: ConfigProblem[] = [];
  const seen = new Map<string, string>();
  for (const kind of ['groups', 'notes'] as const) {
    const list = canvas[kind];
    if (!Array.isArray(list)) continue;
    list.forEach((entry: unknown, i) => {
      if (!isRecord(entry) || typeof entry.id !== 'string') return;
      const first = seen.get(entry.id);
      const here = `canvas.${kind}[${i}]`;
      if (first === undefined) seen.set(entry.id, here);
      else problems.push(problem(['canvas', kind, i, 'id'], 'duplicate_canvas_id', `duplicate id "${entry.id}" (also ${first})`));
    });
  }
  return problems;
}

/**
 * A router rule sending to an item without a connection from the router: the canvas would
 * show one flow and the engine run another (a message routed nowhere), so it is an error.
 */
function unconnectedRuleTargets(rawItems: unknown, rawConnections: unknown, names: Map<string, number>): ConfigProblem[] {
  if (!Array.isArray(rawItems)) return [];
  const wired = new Set<string>();
  if (Array.isArray(rawConnections)) {
    for (const c of rawConnections as unknown[]) {
      if (isRecord(c) && typeof c.from === 'string' && typeof c.to === 'string') wired.add(`${c.from}\u0000${c.to}`);
    }
  }
  const problems: ConfigProblem[] = [];
  rawItems.forEach((item: unknown, i) => {
    if (!isRecord(item) || typeof item.type !== 'string' || !ROUTER_ITEM_TYPES.includes(item.type) || typeof item.name !== 'string') return;
    for (const target of routerRuleTargets(item.settings)) {
      if (wired.has(`${item.name}\u0000${target.to}`)) continue;
      const why = names.has(target.to) ? `there is no connection "${item.name}" → "${target.to}"` : `there is no item named "${target.to}"`;
      problems.push(
        problem(['items', i, 'settings', ...target.path], 'rule_target_not_connected', `rule "${target.rule}" sends to "${target.to}", but ${why}`),
      );
    }
  });
  return problems;
}

/**
 * Like {@link validateProduction}, but returns the production or throws an `HieError` with
 * code `'config.invalid'` (kind `user`) and `details.problems`.
 *
 * @throws HieError `config.invalid`
 */
export function parseProduction(spec: unknown, opts: ValidateProductionOptions = {}): Production {
  const result = validateProduction(spec, opts);
  if (result.ok) return result.value;
  const count = result.problems.length;
  throw new HieError(
    'config.invalid',
    `invalid production (${count} problem${count === 1 ? '' : 's'}):\n${formatProblems(result.problems)}`,
    { kind: 'user', details: { problems: result.problems } },
  );
}

/** One line per problem: `items[1].queue.overflow: Invalid option: …` (`(root)` for the root). */
export function formatProblems(problems: readonly ConfigProblem[]): string {
  return problems.map((p) => `${p.pathText === '' ? '(root)' : p.pathText}: ${p.message}`).join('\n');
}
