import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type Condition, HL7_FIELDS, compileCondition, compileRouter, explainCondition, findConditionTraps, hl7RouterSettings, replaceCondition } from '@hie/config';
import { parseMessage } from '@hie/hl7';

/** A real v2.4 ADT^A01 (MSH-9 = ADT^A01^ADT_A01; PID-11 has two repetitions: H and M addresses). */
const adt = parseMessage(readFileSync(new URL('../../../../testdata/hl7/hapi__ADT_A01__2.4__01.hl7', import.meta.url)));
/** A literal fixture with two identifiers in PID-3 (hospital MRN, then NHS number). */
const twoIds = parseMessage(
  'MSH|^~\\&|PAS|RFH|RIS|RFH|20240101120000||ADT^A08^ADT_A01|M1|P|2.5\rPID|1||123^^^HOSP^MR~9434765919^^^NHS^NH||DOE^JANE||19800101|F\r',
);

const matches = (c: Condition, m = adt) => compileCondition(c, HL7_FIELDS)(m);

describe('router rule evaluation (the code the engine routes with and the portal tests with)', () => {
  it('AND / OR groups, nested, with not', () => {
    const adtA01: Condition = { and: [{ path: 'MSH-9.1', op: '=', value: 'ADT' }, { path: 'MSH-9.2', op: '=', value: 'A01' }] };
    expect(matches(adtA01)).toBe(true);
    expect(matches({ and: [{ path: 'MSH-9.1', op: '=', value: 'ADT' }, { path: 'MSH-9.2', op: '=', value: 'A04' }] })).toBe(false);
    expect(matches({ or: [{ path: 'MSH-9.2', op: '=', value: 'A04' }, adtA01] })).toBe(true);
    expect(matches({ and: [adtA01, { or: [{ path: 'PID-8', op: '=', value: 'F' }, { not: { path: 'PV1-3', op: 'exists' } }] }] })).toBe(false);
    expect(matches({ and: [adtA01, { or: [{ path: 'PID-8', op: '=', value: 'M' }, { not: { path: 'PV1-3', op: 'exists' } }] }] })).toBe(true);
  });

  it('"in" lists, and the older comma-separated value', () => {
    expect(matches({ path: 'MSH-9.2', op: 'in', values: ['A04', 'A01', 'A08'] })).toBe(true);
    expect(matches({ path: 'MSH-9.2', op: 'in', values: ['A04', 'A08'] })).toBe(false);
    expect(matches({ path: 'MSH-9.2', op: 'in', value: 'A04, A01' })).toBe(true);
  });

  it('field repetitions and components: PID-3[2].1, PID-11[2].7', () => {
    expect(matches({ path: 'PID-3[2].1', op: '=', value: '9434765919' }, twoIds)).toBe(true);
    expect(matches({ path: 'PID-3[2].4', op: '=', value: 'NHS' }, twoIds)).toBe(true);
    expect(matches({ path: 'PID-3.4', op: '=', value: 'NHS' }, twoIds)).toBe(false); // no repetition: the first
    expect(matches({ path: 'PID-11[2].7', op: '=', value: 'M' })).toBe(true);
    expect(matches({ path: 'PID-11.7', op: '=', value: 'M' })).toBe(false);
  });

  it('explains every node of a group with the value it read', () => {
    const r = explainCondition({ and: [{ path: 'MSH-9.1', op: '=', value: 'ADT' }, { path: 'PID-3[2].1', op: 'startsWith', value: '943' }] }, twoIds, HL7_FIELDS);
    expect(r.matched).toBe(true);
    expect(r.parts?.map((p) => [p.path, p.actual, p.matched])).toEqual([
      ['MSH-9.1', 'ADT', true],
      ['PID-3[2].1', '9434765919', true],
    ]);
    const bad = explainCondition({ path: 'PID-x', op: '=', value: '1' }, twoIds, HL7_FIELDS);
    expect(bad.matched).toBe(false);
    expect(bad.error).toMatch(/Invalid HL7 path/);
  });

  it('first_match stops at the first rule; all_match applies each, until a rule marked stop', () => {
    const rules = hl7RouterSettings.parse({
      mode: 'all_match',
      rules: [
        { name: 'adt', when: { path: 'MSH-9.1', op: '=', value: 'ADT' }, then: { action: 'send', to: ['A'] } },
        { name: 'a01', when: { path: 'MSH-9.2', op: '=', value: 'A01' }, then: { action: 'send', to: ['B'] }, stop: true },
        { name: 'all', then: { action: 'discard' } },
      ],
    });
    expect(compileRouter(rules, HL7_FIELDS)(adt).matched.map((r) => r.name)).toEqual(['adt', 'a01']);
    expect(compileRouter(rules, HL7_FIELDS)(twoIds).matched.map((r) => r.name)).toEqual(['adt', 'all']);
    expect(compileRouter({ ...rules, mode: 'first_match' }, HL7_FIELDS)(adt).matched.map((r) => r.name)).toEqual(['adt']);
    const none = compileRouter({ ...rules, rules: rules.rules.slice(1, 2) }, HL7_FIELDS)(twoIds);
    expect(none).toEqual({ matched: [], otherwise: 'discard' });
  });
});

describe('the MSH-9 trap', () => {
  it('"MSH-9 equals ADT^A01" does not match ADT^A01^ADT_A01, is flagged, and both fixes match', () => {
    const trapped: Condition = { path: 'MSH-9', op: '=', value: 'ADT^A01' };
    expect(matches(trapped)).toBe(false);
    const [trap, ...more] = findConditionTraps(trapped, adt);
    expect(more).toEqual([]);
    expect(trap!.message).toContain('ADT^A01^ADT_A01');
    expect(trap!.fixes.map((f) => f.label)).toEqual(['Compare MSH-9.1 and MSH-9.2', 'Starts with ADT^A01']);
    for (const fix of trap!.fixes) expect(matches(replaceCondition(trapped, trap!.at, fix.condition))).toBe(true);
    expect(trap!.fixes[0]!.condition).toEqual({ and: [{ path: 'MSH-9.1', op: '=', value: 'ADT' }, { path: 'MSH-9.2', op: '=', value: 'A01' }] });
  });

  it('is found inside groups, for "in" and "!=", and without a sample', () => {
    const c: Condition = { or: [{ path: 'PID-8', op: '=', value: 'M' }, { and: [{ path: 'MSH-9', op: 'in', values: ['ADT^A01', 'ADT^A04'] }] }] };
    const [trap] = findConditionTraps(c);
    expect(trap!.at).toEqual([1, 0]);
    const fixed = replaceCondition(c, trap!.at, trap!.fixes[0]!.condition);
    expect(fixed).toEqual({
      or: [{ path: 'PID-8', op: '=', value: 'M' }, { and: [{ and: [{ path: 'MSH-9.1', op: '=', value: 'ADT' }, { path: 'MSH-9.2', op: 'in', values: ['A01', 'A04'] }] }] }],
    });
    expect(matches(fixed)).toBe(true);
    const ne: Condition = { path: 'MSH-9', op: '!=', value: 'ADT^A01' };
    expect(matches(ne)).toBe(true); // the trap: "not ADT^A01" lets ADT^A01 through
    for (const fix of findConditionTraps(ne)[0]!.fixes) expect(matches(fix.condition)).toBe(false);
  });

  it('with a sample, "MSH-9 equals ADT" is flagged too; component paths and other operators are not', () => {
    const [trap] = findConditionTraps({ path: 'MSH-9', op: '=', value: 'ADT' }, adt);
    expect(trap!.fixes.map((f) => f.label)).toEqual(['Compare MSH-9.1', 'Starts with ADT^']);
    expect(trap!.fixes.every((f) => matches(f.condition))).toBe(true);
    expect(findConditionTraps({ path: 'MSH-9', op: '=', value: 'ADT' })).toEqual([]);
    expect(findConditionTraps({ path: 'MSH-9.1', op: '=', value: 'ADT' }, adt)).toEqual([]);
    expect(findConditionTraps({ path: 'MSH-9', op: 'startsWith', value: 'ADT^A01' }, adt)).toEqual([]);
    expect(findConditionTraps({ path: 'PID-8', op: '=', value: 'M' }, adt)).toEqual([]);
  });
});
