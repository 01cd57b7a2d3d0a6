import { describe, expect, it } from 'vitest';
import { readEnv } from './env.js';

describe('readEnv', () => {
  it('defaults', () => {
    expect(readEnv({})).toEqual({ HIE_DATA_DIR: './.hie/data', HIE_PORT: 8080, HIE_HOST: '0.0.0.0', HIE_SESSION_TTL_HOURS: 12, HIE_LOG_LEVEL: 'info' });
  });

  it('parses numbers and refuses bad values, naming them but not echoing them', () => {
    expect(readEnv({ HIE_PORT: '9000', DATABASE_URL: 'postgres://u@h/db' })).toMatchObject({ HIE_PORT: 9000, DATABASE_URL: 'postgres://u@h/db' });
    expect(() => readEnv({ HIE_PORT: 'eighty' })).toThrow(/HIE_PORT/);
    expect(() => readEnv({ DATABASE_URL: 'mysql://secret@h/db' })).toThrow(/DATABASE_URL/);
    expect(() => readEnv({ DATABASE_URL: 'mysql://secret@h/db' })).not.toThrow(/secret/);
  });
});

describe('readEnv: empty values', () => {
  it('treats an empty variable as unset', () => {
    expect(readEnv({ DATABASE_URL: '', HIE_PORT: '' })).toMatchObject({ HIE_PORT: 8080 });
    expect(readEnv({ DATABASE_URL: '' }).DATABASE_URL).toBeUndefined();
  });
});
