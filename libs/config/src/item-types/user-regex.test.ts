import { describe, expect, it } from 'vitest';
import { validateProduction } from '../validate';
import { builtinItemTypes } from './index';
import { compileUserRegex } from './user-regex';

const lookup = (type: string) => builtinItemTypes.find((t) => t.type === type);

function routerWith(value: string) {
  return {
    name: 'p',
    items: [{ name: 'R', type: 'hl7.router', settings: { rules: [{ name: 'r', when: { path: 'PID-5', op: 'matches', value }, then: { action: 'discard' } }] } }],
    connections: [],
  };
}

describe('user patterns (router "matches")', () => {
  it('compiles patterns a backtracking engine would choke on, and runs them in linear time', () => {
    // The patterns of issue 9: a heuristic let these through; on RE2 they are simply safe.
    for (const pattern of ['((a+))+$', '(?:(?:a+))+$', '(a+)+$', '\\d+\\d+\\d+\\d+\\d+$']) {
      const r = compileUserRegex(pattern);
      expect(r.ok, pattern).toBe(true);
      if (r.ok) expect(r.regex.test(`${'a'.repeat(5000)}${'1'.repeat(50)}!`)).toBe(false);
    }
    expect(validateProduction(routerWith('(a+)+$'), { itemTypes: lookup }).ok).toBe(true);
  });

  it('finds a match anywhere in the input, like RegExp.test', () => {
    const r = compileUserRegex('^A0[148]$');
    expect(r.ok && r.regex.test('A04')).toBe(true);
    expect(r.ok && r.regex.test('A05')).toBe(false);
    const anywhere = compileUserRegex('SMITH');
    expect(anywhere.ok && anywhere.regex.test('JOHN SMITHSON')).toBe(true);
  });

  it('refuses what RE2 cannot run (back-references, lookarounds) with the field path', () => {
    for (const value of ['(a)\\1', '(?=a)b', 'x'.repeat(513)]) {
      const r = validateProduction(routerWith(value), { itemTypes: lookup });
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.problems.map((p) => p.pathText)).toEqual(['items[0].settings.rules[0].when.value']);
    }
  });
});
