import { describe, expect, it } from 'vitest';
import { readEnv } from './env.js';

describe('readEnv', () => {
  it('defaults', () => {
    expect(readEnv({})).toEqual({ HIE_DATA_DIR: './.hie/data', HIE_PORT: 8080, HIE_HOST: '0.0.0.0', HIE_SESSION_TTL_HOURS: 12, HIE_LOG_LEVEL: 'info', HIE_FILE_ROOTS: [], HIE_EGRESS_ALLOW: [] });
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

describe('readEnv: host policy', () => {
  it('splits HIE_FILE_ROOTS and HIE_EGRESS_ALLOW and refuses an allow-list entry it cannot parse', () => {
    expect(readEnv({ HIE_FILE_ROOTS: '/data/in:/data/out', HIE_EGRESS_ALLOW: 'lab.example.org:2575, 10.0.0.0/8' })).toMatchObject({
      HIE_FILE_ROOTS: ['/data/in', '/data/out'],
      HIE_EGRESS_ALLOW: ['lab.example.org:2575', '10.0.0.0/8'],
    });
    expect(() => readEnv({ HIE_EGRESS_ALLOW: 'ok.example, not ok' })).toThrow(/HIE_EGRESS_ALLOW/);
  });
});
