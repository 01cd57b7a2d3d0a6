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

describe('readEnv: TLS and metrics token', () => {
  it('takes a certificate and key together, never one alone', () => {
    expect(readEnv({ HIE_TLS_CERT: '/etc/hie/cert.pem', HIE_TLS_KEY: '/etc/hie/key.pem' })).toMatchObject({ HIE_TLS_CERT: '/etc/hie/cert.pem', HIE_TLS_KEY: '/etc/hie/key.pem' });
    expect(() => readEnv({ HIE_TLS_CERT: '/etc/hie/cert.pem' })).toThrow(/HIE_TLS_KEY: set both HIE_TLS_CERT and HIE_TLS_KEY/);
    expect(() => readEnv({ HIE_TLS_KEY: '/etc/hie/key.pem' })).toThrow(/HIE_TLS_KEY/);
  });

  it('refuses a short metrics token without echoing it', () => {
    expect(readEnv({ HIE_METRICS_TOKEN: 'a-long-enough-metrics-token' }).HIE_METRICS_TOKEN).toBe('a-long-enough-metrics-token');
    expect(() => readEnv({ HIE_METRICS_TOKEN: 'short-secret' })).toThrow(/HIE_METRICS_TOKEN: must be at least 16 characters/);
    expect(() => readEnv({ HIE_METRICS_TOKEN: 'short-secret' })).not.toThrow(/short-secret/);
  });
});
