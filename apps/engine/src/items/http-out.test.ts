import { describe, expect, it } from 'vitest';
import { pinnedLookup } from './http-out';

/** Calls a LookupFunction and returns what it answered. */
function ask(lookup: ReturnType<typeof pinnedLookup>, host: string, options: { family?: number; all?: boolean }) {
  return new Promise<{ err: unknown; address: unknown; family?: number }>((resolve) => {
    lookup(host, options as never, (err: unknown, address: unknown, family?: number) => resolve({ err, address, family }));
  });
}

describe('http.out pinnedLookup (no second DNS answer: the connection goes where the egress check looked)', () => {
  const checked = [
    { address: '192.0.2.10', family: 4 as const },
    { address: '2001:db8::10', family: 6 as const },
  ];

  it('answers the checked address whatever name is asked, never resolving it again', async () => {
    const lookup = pinnedLookup(checked);
    expect(await ask(lookup, 'rebinding.example', {})).toEqual({ err: null, address: '192.0.2.10', family: 4 });
    expect(await ask(lookup, 'rebinding.example', { family: 6 })).toEqual({ err: null, address: '2001:db8::10', family: 6 });
    expect((await ask(lookup, 'rebinding.example', { all: true })).address).toEqual(checked);
  });

  it('fails when no checked address fits the family asked for', async () => {
    const r = await ask(pinnedLookup([checked[0]]), 'x.example', { family: 6 });
    expect(r.err).toMatchObject({ code: 'ENOTFOUND' });
  });
});
