import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { redactUrl } from '@hie/config';
import { testPolicy } from '../testing/helpers';
import { exchange, pinnedLookup } from './http-out';

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

describe('http.out errors never show the password of a URL with user info', () => {
  it('redactUrl keeps the user and hides the password; a URL without one is unchanged', () => {
    const shown = Object.fromEntries(['https://lab:pw@lab.example.org:8443/r4?x=1', 'http://a:b:c@h/p@q', 'https://token@h/', 'https://h/p?u=a:b@c', 'not a url'].map((u) => [u, redactUrl(u)]));
    expect(shown).toEqual({
      'https://lab:pw@lab.example.org:8443/r4?x=1': 'https://lab:***@lab.example.org:8443/r4?x=1',
      'http://a:b:c@h/p@q': 'http://a:***@h/p@q',
      'https://token@h/': 'https://token@h/',
      'https://h/p?u=a:b@c': 'https://h/p?u=a:b@c',
      'not a url': 'not a url',
    });
  });

  it('a redirect and a refused connection are told without the password', async () => {
    const server = http.createServer((_req, res) => {
      res.writeHead(302, { location: 'http://elsewhere.example/' });
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as AddressInfo).port;
    const opts = { method: 'POST', headers: {}, body: new Uint8Array(1), timeoutMs: 5000, policy: testPolicy() };
    const redirect = await exchange(`http://lab:pw-Zq81-secret@127.0.0.1:${port}/x`, opts).catch((e: Error) => e);
    await new Promise<void>((r) => server.close(() => r()));
    const refused = await exchange(`http://lab:pw-Zq81-secret@127.0.0.1:${port}/x`, opts).catch((e: Error) => e);
    expect(redirect).toMatchObject({ code: 'http.redirect', message: `POST http://lab:***@127.0.0.1:${port}/x answered 302 (redirects are not followed)` });
    expect(refused).toMatchObject({ code: 'http.connection' });
    expect(String((refused as Error).message)).toContain('http://lab:***@127.0.0.1');
    expect(JSON.stringify([String(redirect), String(refused)])).not.toContain('pw-Zq81-secret');
  });
});
