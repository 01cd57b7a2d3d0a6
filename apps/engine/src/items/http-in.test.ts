import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bearerMatches } from './http-in';

const expected = createHash('sha256').update('Bearer s3cret-token').digest();

describe('http.in bearer token check', () => {
  it('accepts exactly "Bearer <token>"; every other header is refused, whatever its length', () => {
    expect(bearerMatches('Bearer s3cret-token', expected)).toBe(true);
    for (const wrong of [undefined, '', 'Bearer', 'Bearer s3cret-toke', 'Bearer s3cret-tokeN', 'Bearer s3cret-token ', 'bearer s3cret-token', 's3cret-token', 'Basic s3cret-token', `Bearer ${'x'.repeat(10_000)}`]) {
      expect(bearerMatches(wrong, expected)).toBe(false);
    }
  });
});
