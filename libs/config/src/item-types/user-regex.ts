import { RE2JS } from 're2js';

/** Longest user pattern accepted: keeps compiled programs (and their memory) small. */
export const MAX_USER_PATTERN_LENGTH = 512;

/** A compiled user pattern: `test` finds a match anywhere in the input, like `RegExp.test`. */
export interface UserRegex {
  test(input: string): boolean;
  /** `input` with every match replaced by `replacement` (`$1` for a group, as in JavaScript). */
  replaceAll(input: string, replacement: string): string;
}

/**
 * Compiles a user-supplied pattern (a router `matches` rule, FHIRPath's `matches()`, …) with
 * RE2JS, a linear-time engine: no input can make it backtrack, so one message cannot stall a
 * router (or the process). RE2 syntax has no back-references or lookarounds; such patterns are refused.
 * @returns the compiled pattern, or the reason it is refused.
 * @see https://github.com/google/re2/wiki/Syntax
 */
export function compileUserRegex(pattern: string, options: { dotAll?: boolean } = {}): { ok: true; regex: UserRegex } | { ok: false; reason: string } {
  if (pattern.length > MAX_USER_PATTERN_LENGTH) return { ok: false, reason: `pattern longer than ${MAX_USER_PATTERN_LENGTH} characters` };
  try {
    const re = RE2JS.compile(pattern, options.dotAll ? RE2JS.DOTALL : 0);
    return { ok: true, regex: { test: (input) => re.test(input), replaceAll: (input, replacement) => re.matcher(input).replaceAll(replacement) } };
  } catch (e) {
    // RE2JSSyntaxException: "error parsing regexp: invalid escape sequence: `\1`".
    return { ok: false, reason: e instanceof Error ? e.message : String(e) };
  }
}

/** The reason a user pattern is refused, or undefined when it compiles (see {@link compileUserRegex}). */
export function checkUserRegex(pattern: string): string | undefined {
  const r = compileUserRegex(pattern);
  return r.ok ? undefined : r.reason;
}
