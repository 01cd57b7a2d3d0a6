import { describe, expect, it } from 'vitest';
import { safeNextPath } from './safe-next';

const origin = 'https://hie.example:8443';

describe('safeNextPath (the post-login next= redirect)', () => {
  it('keeps a path on this origin, with its query and hash', () => {
    expect(safeNextPath('/p/123/messages?patientId=42#m1', origin)).toBe('/p/123/messages?patientId=42#m1');
    expect(safeNextPath('/', origin)).toBe('/');
  });

  it.each([
    ['protocol-relative', '//evil.example/login'],
    ['backslash, which browsers read as a slash', '/\\evil.example'],
    ['backslash after the slash, twice', '/\\/evil.example'],
    ['a tab the URL parser strips', '/\t/evil.example'],
    ['a newline the URL parser strips', '/\n/evil.example'],
    ['an absolute URL', 'https://evil.example/'],
    ['javascript:', 'javascript:alert(1)'],
    ['a relative path', 'p/123'],
    ['empty', ''],
  ])('sends %s home', (_what, next) => {
    expect(safeNextPath(next, origin)).toBe('/');
  });

  it('goes home without next', () => {
    expect(safeNextPath(null, origin)).toBe('/');
    expect(safeNextPath(undefined, origin)).toBe('/');
  });

  it('normalises what it keeps into a plain path', () => {
    expect(safeNextPath('/w/../audit', origin)).toBe('/audit');
  });
});
