import { describe, expect, it } from 'vitest';
import { connectionId, removeElements, removeRuleTargets, ruleReferences, type Spec } from './spec';
import { validateSpec } from './validation';

/** In → Router → (ADT Out, Lab Out); rule "adt" sends to ADT Out, rule "both" to both. */
function spec(): Spec {
  return {
    name: 'routing',
    items: [
      { name: 'In', type: 'hl7.mllp.in', settings: { port: 0 } },
      {
        name: 'Router',
        type: 'hl7.router',
        settings: {
          rules: [
            { name: 'adt', when: { path: 'MSH-9.1', op: '=', value: 'ADT' }, then: { action: 'send', to: ['ADT Out'] } },
            { name: 'both', then: { action: 'send', to: ['ADT Out', 'Lab Out'] } },
          ],
        },
      },
      { name: 'ADT Out', type: 'file.out', settings: { directory: './out/adt' } },
      { name: 'Lab Out', type: 'file.out', settings: { directory: './out/lab' } },
    ],
    connections: [
      { from: 'In', to: 'Router' },
      { from: 'Router', to: 'ADT Out' },
      { from: 'Router', to: 'Lab Out' },
    ],
  };
}
const adtWire = new Set([connectionId({ from: 'Router', to: 'ADT Out' })]);

describe('routing truth in the designer', () => {
  it('shows a rule sending to an unconnected item as a problem on the router, at the rule target', () => {
    expect(validateSpec(spec(), undefined)).toEqual([]);
    const cut = removeElements(spec(), new Set(), adtWire);
    expect(validateSpec(cut, undefined)).toEqual([
      { item: 'Router', path: 'settings.rules[0].then.to[0]', message: 'rule "adt" sends to "ADT Out", but there is no connection "Router" → "ADT Out"', source: 'client' },
      { item: 'Router', path: 'settings.rules[1].then.to[0]', message: 'rule "both" sends to "ADT Out", but there is no connection "Router" → "ADT Out"', source: 'client' },
    ]);
  });

  it('names the rules a connection deletion would leave dangling, also when an item takes its connections with it', () => {
    expect(ruleReferences(spec(), new Set(), adtWire)).toEqual([
      { router: 'Router', rule: 'adt', to: 'ADT Out' },
      { router: 'Router', rule: 'both', to: 'ADT Out' },
    ]);
    expect(ruleReferences(spec(), new Set(['Lab Out']), new Set())).toEqual([{ router: 'Router', rule: 'both', to: 'Lab Out' }]);
    // Deleting the router itself, or a wire no rule names, asks nothing.
    expect(ruleReferences(spec(), new Set(['Router']), new Set())).toEqual([]);
    expect(ruleReferences(spec(), new Set(), new Set([connectionId({ from: 'In', to: 'Router' })]))).toEqual([]);
  });

  it('removing the target from the rules leaves a valid production that runs what the canvas shows', () => {
    const s = spec();
    const refs = ruleReferences(s, new Set(), adtWire);
    const next = removeRuleTargets(removeElements(s, new Set(), adtWire), refs);
    expect(next.items[1]!.settings!.rules).toEqual([{ name: 'both', then: { action: 'send', to: ['Lab Out'] } }]);
    expect(validateSpec(next, undefined)).toEqual([]);
  });
});
