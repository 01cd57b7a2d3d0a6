import { describe, expect, it } from 'vitest';
import { readEnv, sessionSettings } from './env.js';

describe('readEnv', () => {
  it('defaults', () => {
    expect(readEnv({})).toEqual({
      HIE_DATA_DIR: './.hie/data',
      HIE_PORT: 8080,
      HIE_HOST: '0.0.0.0',
      HIE_SESSION_TTL_HOURS: 12,
      HIE_SESSION_MAX_HOURS: 168,
      HIE_TRUST_PROXY: 0,
      HIE_SELF_SERVICE_WORKSPACES: false,
      HIE_DEMO: true,
      HIE_LOG_LEVEL: 'info',
      HIE_FILE_ROOTS: [],
      HIE_EGRESS_ALLOW: [],
      ETCD_ENDPOINTS: [],
      HIE_CLUSTER_PREFIX: 'hie',
      HIE_ALERT_INTERVAL_MS: 30_000,
    });
  });

  it('parses numbers and refuses bad values, naming them but not echoing them', () => {
    expect(readEnv({ HIE_STORE_PIPELINES: '2' })).toMatchObject({ HIE_STORE_PIPELINES: 2 });
    expect(() => readEnv({ HIE_STORE_PIPELINES: '0' })).toThrow(/HIE_STORE_PIPELINES/);
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

describe('readEnv: sign-in settings', () => {
  it('HIE_ADMIN_PASSWORD needs 12 characters; the error names the variable, never the value', () => {
    expect(() => readEnv({ HIE_ADMIN_PASSWORD: 'short-pw-11' })).toThrow(/HIE_ADMIN_PASSWORD: must be at least 12 characters/);
    expect(() => readEnv({ HIE_ADMIN_PASSWORD: 'short-pw-11' })).not.toThrow(/short-pw-11/);
    expect(readEnv({ HIE_ADMIN_PASSWORD: 'long-enough-12' }).HIE_ADMIN_PASSWORD).toBe('long-enough-12');
  });

  it('HIE_TRUST_PROXY: off by default; true, on, yes = one proxy; or a hop count', () => {
    expect(readEnv({ HIE_TRUST_PROXY: 'true' }).HIE_TRUST_PROXY).toBe(1);
    expect(readEnv({ HIE_TRUST_PROXY: 'ON' }).HIE_TRUST_PROXY).toBe(1);
    expect(readEnv({ HIE_TRUST_PROXY: 'false' }).HIE_TRUST_PROXY).toBe(0);
    expect(readEnv({ HIE_TRUST_PROXY: '2' }).HIE_TRUST_PROXY).toBe(2);
    expect(() => readEnv({ HIE_TRUST_PROXY: 'maybe' })).toThrow(/HIE_TRUST_PROXY/);
  });

  it('HIE_SELF_SERVICE_WORKSPACES: off unless 1 or true; anything else is refused by name', () => {
    expect(readEnv({}).HIE_SELF_SERVICE_WORKSPACES).toBe(false);
    expect(readEnv({ HIE_SELF_SERVICE_WORKSPACES: '1' }).HIE_SELF_SERVICE_WORKSPACES).toBe(true);
    expect(readEnv({ HIE_SELF_SERVICE_WORKSPACES: 'true' }).HIE_SELF_SERVICE_WORKSPACES).toBe(true);
    expect(readEnv({ HIE_SELF_SERVICE_WORKSPACES: '0' }).HIE_SELF_SERVICE_WORKSPACES).toBe(false);
    expect(() => readEnv({ HIE_SELF_SERVICE_WORKSPACES: 'yes please' })).toThrow(/HIE_SELF_SERVICE_WORKSPACES/);
  });

  it('sessionSettings hands the session and proxy settings to createManagerServer', () => {
    expect(sessionSettings(readEnv({ HIE_SESSION_TTL_HOURS: '2', HIE_SESSION_MAX_HOURS: '24', HIE_TRUST_PROXY: 'true' }))).toEqual({
      sessionTtlHours: 2,
      sessionMaxHours: 24,
      trustProxy: 1,
    });
  });

  it('HIE_SESSION_MAX_HOURS', () => {
    expect(readEnv({ HIE_SESSION_MAX_HOURS: '24' }).HIE_SESSION_MAX_HOURS).toBe(24);
    expect(() => readEnv({ HIE_SESSION_MAX_HOURS: '0' })).toThrow(/HIE_SESSION_MAX_HOURS/);
  });
});
