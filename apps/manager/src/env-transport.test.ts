import { describe, expect, it } from 'vitest';
import { readEnv } from './env.js';

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
