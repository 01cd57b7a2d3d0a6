/**
 * Refuse regexes that can backtrack catastrophically: back-references, lookarounds, and a
 * quantified group that itself contains a quantifier or alternation (`(a+)+`, `(a|aa)*`).
 * User rules are data; this keeps one message from stalling a router.
 * @returns the reason the pattern is refused, or undefined when it is acceptable.
 */
export function checkSafeRegex(pattern: string): string | undefined {
  if (pattern.length > 512) return 'pattern longer than 512 characters';
  if (/\\[1-9]|\\k</.test(pattern)) return 'back-references are not allowed';
  if (/\(\?<?[=!]/.test(pattern)) return 'lookarounds are not allowed';
  if (/\((?:[^()\\]|\\.)*[+*}|](?:[^()\\]|\\.)*\)\s*(?:[+*]|\{\d*,?\d*\})/.test(pattern)) return 'nested quantifiers are not allowed';
  try {
    new RegExp(pattern);
  } catch (e) {
    return (e as Error).message;
  }
  return undefined;
}
