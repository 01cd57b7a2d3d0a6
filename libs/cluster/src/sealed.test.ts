import { describe, expect, it } from 'vitest';
import { etcdCipher, isSealedValue } from './sealed';

describe('etcdCipher', () => {
  const c = etcdCipher('a'.repeat(64));
  it('seals to an opaque value and opens it again at the same key', () => {
    const sealed = c.seal('{"password":"s3cret"}', 'hie/desired/p1');
    expect(isSealedValue(sealed)).toBe(true);
    expect(sealed).not.toContain('s3cret');
    expect(c.open(sealed, 'hie/desired/p1')).toBe('{"password":"s3cret"}');
  });

  it('refuses a value moved to another key, or sealed with another secret', () => {
    const sealed = c.seal('x', 'hie/desired/p1');
    expect(() => c.open(sealed, 'hie/desired/p2')).toThrow(expect.objectContaining({ code: 'cluster.sealed' }));
    expect(() => etcdCipher('b'.repeat(64)).open(sealed, 'hie/desired/p1')).toThrow('HIE_SECRET_KEY differs');
  });
});
