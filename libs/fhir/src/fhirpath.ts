import fhirpath from 'fhirpath';
// The file, not the folder: Node's ES module loader (the build) does not resolve directory imports.
import r4Model from 'fhirpath/fhir-context/r4/index.js';
import { compileUserRegex, MAX_MATCH_INPUT, type UserRegex } from '@hie/config';
import { fhirError } from './errors';

/** Longest FHIRPath expression accepted (rules are data typed by people, not generated programs). */
export const MAX_FHIRPATH_LENGTH = 1000;
/** How many compiled expressions the cache keeps (least recently used go first). */
const CACHE_SIZE = 500;

type Compiled = (resource: unknown, env?: Record<string, unknown>) => unknown[];

const cache = new Map<string, Compiled>();

/** Never let `trace()` in a user's expression write patient data to the console. */
const silentTrace = (): void => undefined;

const patterns = new Map<string, UserRegex>();

/** A FHIRPath pattern on RE2 (linear time; `.` across lines, as FHIRPath says), compiled once. */
function userPattern(pattern: string): UserRegex {
  const hit = patterns.get(pattern);
  if (hit) return hit;
  const compiled = compileUserRegex(pattern, { dotAll: true });
  if (!compiled.ok) throw new Error(`the pattern "${pattern}" cannot run (RE2 syntax: no back-references or lookarounds): ${compiled.reason}`);
  patterns.set(pattern, compiled.regex);
  if (patterns.size > CACHE_SIZE) patterns.delete(patterns.keys().next().value!);
  return compiled.regex;
}

/** The one string a string function works on (`undefined`: empty collection). */
function singleString(coll: readonly unknown[], fn: string): string | undefined {
  if (coll.length === 0) return undefined;
  if (coll.length > 1) throw new Error(`${fn}() needs one item, not ${coll.length}`);
  const item = fhirpath.resolveInternalTypes(coll)[0] as unknown;
  if (typeof item !== 'string') throw new Error(`${fn}() needs a string`);
  return item;
}

/**
 * FHIRPath's pattern functions on RE2 instead of JavaScript's backtracking RegExp: a pattern is
 * user input (a router rule, a map), and `'^(a+)+$'` on a long value would stall the thread.
 */
const RE2_FUNCTIONS = {
  matches: {
    fn: (coll: unknown[], regex: string): boolean | [] => {
      const s = singleString(coll, 'matches');
      return s === undefined || !regex ? [] : userPattern(regex).test(s.slice(0, MAX_MATCH_INPUT));
    },
    arity: { 1: ['String' as const] },
  },
  replaceMatches: {
    fn: (coll: unknown[], regex: string, replacement: string): string | [] => {
      const s = singleString(coll, 'replaceMatches');
      return s === undefined || !regex || replacement === undefined ? [] : userPattern(regex).replaceAll(s.slice(0, MAX_MATCH_INPUT), replacement);
    },
    arity: { 2: ['String' as const, 'String' as const] },
  },
};

/**
 * Compiles a FHIRPath expression against the R4 model, through a small LRU cache: the router and
 * the maps evaluate the same few expressions on every message. Patterns (`matches`,
 * `replaceMatches`) run on RE2, in linear time. Synchronous only: expressions that
 * need a terminology server (`memberOf`) or `resolve()` over HTTP fail instead of blocking.
 *
 * @throws HieError `fhir.path_invalid` when it is empty, longer than {@link MAX_FHIRPATH_LENGTH} or does not compile
 * @see https://hl7.org/fhirpath/N1/
 */
export function compileFhirPath(expression: string): Compiled {
  const hit = cache.get(expression);
  if (hit) {
    cache.delete(expression);
    cache.set(expression, hit);
    return hit;
  }
  if (expression.trim() === '') throw fhirError('fhir.path_invalid', 'a FHIRPath expression is required');
  if (expression.length > MAX_FHIRPATH_LENGTH) {
    throw fhirError('fhir.path_invalid', `a FHIRPath expression is at most ${MAX_FHIRPATH_LENGTH} characters (this one has ${expression.length})`);
  }
  let fn: Compiled;
  try {
    const compiled = fhirpath.compile(expression, r4Model, { async: false, traceFn: silentTrace, userInvocationTable: RE2_FUNCTIONS });
    fn = (resource, env) => compiled(resource, env ?? {}) as unknown[];
  } catch (e) {
    throw fhirError('fhir.path_invalid', `invalid FHIRPath "${expression}": ${e instanceof Error ? e.message : String(e)}`, { expression }, e);
  }
  cache.set(expression, fn);
  if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
  return fn;
}

/**
 * Evaluates a FHIRPath expression (R4 model) on a resource.
 *
 * @returns the result collection (plain JSON values: FHIRPath types such as dates come back as strings)
 * @throws HieError `fhir.path_invalid` (see {@link compileFhirPath}) or `fhir.path_eval` when evaluation fails
 */
export function evaluateFhirPath(resource: unknown, expression: string, env?: Record<string, unknown>): unknown[] {
  const fn = compileFhirPath(expression);
  let result: unknown[];
  try {
    result = fn(resource, env);
  } catch (e) {
    throw fhirError('fhir.path_eval', `FHIRPath "${expression}" failed: ${e instanceof Error ? e.message : String(e)}`, { expression }, e);
  }
  if (!Array.isArray(result)) throw fhirError('fhir.path_eval', `FHIRPath "${expression}" needs asynchronous evaluation, which HIE does not do`, { expression });
  return fhirpath.resolveInternalTypes(result) as unknown[];
}

/**
 * Evaluates a FHIRPath expression as a condition, as FHIRPath's singleton evaluation of
 * collections says: empty → false; one boolean → that boolean; one other item → true.
 *
 * @throws HieError `fhir.path_eval` when the result has several items (write `exists()`,
 * `all()` or a comparison instead), plus what {@link evaluateFhirPath} throws
 * @see https://hl7.org/fhirpath/N1/#singleton-evaluation-of-collections
 */
export function fhirPathIsTrue(resource: unknown, expression: string, env?: Record<string, unknown>): boolean {
  const result = evaluateFhirPath(resource, expression, env);
  if (result.length === 0) return false;
  if (result.length > 1) {
    throw fhirError('fhir.path_eval', `FHIRPath "${expression}" gives ${result.length} items, not one: use exists(), all() or a comparison`, { expression });
  }
  const only = result[0];
  return typeof only === 'boolean' ? only : true;
}
