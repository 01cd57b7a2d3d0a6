import { describe, expect, it } from 'vitest';
import { resolveForHint } from './variable-hint-model';

const prod = {
  name: 'prod',
  variables: [
    { name: 'LAB_HOST', secret: false, value: 'lab.example.org', hosts: [] },
    { name: 'LAB_TOKEN', secret: true, value: '', hosts: ['lab.example.org', '*.partner.example.net'] },
    { name: 'OLD_TOKEN', secret: true, value: '', hosts: [] },
  ],
};

describe('the resolved value on hover', () => {
  it('shows plain values, a secret as ••• with the hosts it may be sent to, and names what is missing', () => {
    expect(resolveForHint('Bearer ${secret:LAB_TOKEN} for ${LAB_HOST}', prod)).toEqual({
      env: 'prod',
      text: 'Bearer ••• for lab.example.org',
      missing: false,
      hostsOf: [{ name: 'LAB_TOKEN', hosts: ['lab.example.org', '*.partner.example.net'] }],
    });
    expect(resolveForHint('${secret:OLD_TOKEN}', prod).hostsOf).toEqual([{ name: 'OLD_TOKEN', hosts: [] }]);
    expect(resolveForHint('${secret:NOPE} ${MISSING}', prod)).toEqual({ env: 'prod', text: '${secret:NOPE} ${MISSING}', missing: true, hostsOf: [] });
  });
});
