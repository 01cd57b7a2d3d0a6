import { describe, expect, it } from 'vitest';
import { checkBatch, MAX_BATCH_SIZE } from './batch-guard.js';

describe('checkBatch', () => {
  it('lets single calls and batches up to the limit through', () => {
    expect(checkBatch('auth.login', '')).toBeUndefined();
    expect(checkBatch('auth.login', 'batch=1')).toBeUndefined();
    expect(checkBatch(Array(MAX_BATCH_SIZE).fill('health').join(','), '?batch=1')).toBeUndefined();
    // Without batch=1 a comma is just part of an (unknown) path: tRPC answers NOT_FOUND.
    expect(checkBatch('auth.login,auth.login', '')).toBeUndefined();
  });

  it('refuses oversized batches and password checks batched with anything', () => {
    expect(checkBatch(Array(MAX_BATCH_SIZE + 1).fill('health').join(','), 'batch=1')).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect(checkBatch('health,auth.login', 'batch=1&input=%7B%7D')).toEqual({
      code: 'BAD_REQUEST',
      message: 'auth.login cannot be batched with other calls: send it on its own',
    });
    expect(checkBatch('auth.me,auth.changePassword', 'batch=1')).toMatchObject({ code: 'BAD_REQUEST' });
  });
});
