import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinItemTypes, secretPathsOfSchema, type SecretPathLookup } from '@hie/config';
import { readEnv } from './env.js';
import { loadSecretKey, parseSecretKey, resolveSecrets, revealSecrets, sealSecrets, SecretBox } from './secrets.js';

const secretsOf: SecretPathLookup = (type) => {
  const d = builtinItemTypes.find((t) => t.type === type);
  return d ? secretPathsOfSchema(d.settings) : undefined;
};

const spec = (token: string) => ({ name: 'p', items: [{ name: 'In', type: 'http.in', settings: { bearerToken: token } }] });

describe('SecretBox', () => {
  it('opens what it sealed, only with the same place and key; tampering is detected', () => {
    const box = SecretBox.random();
    const sealed = box.seal('tok-1', 'p1\0In\0bearerToken');
    expect(sealed).toMatch(/^hie:enc:v1:/);
    expect(sealed).not.toContain('tok-1');
    expect(box.seal('tok-1', 'p1\0In\0bearerToken')).not.toBe(sealed); // a fresh IV each time
    expect(box.open(sealed, 'p1\0In\0bearerToken')).toBe('tok-1');
    expect(box.open(sealed, 'p2\0In\0bearerToken')).toBeUndefined();
    expect(box.open(sealed, 'p1\0Other\0bearerToken')).toBeUndefined();
    expect(SecretBox.random().open(sealed, 'p1\0In\0bearerToken')).toBeUndefined();
    const ct = sealed.split(':').at(-1)!;
    const flipped = Buffer.from(ct, 'base64');
    flipped[0] ^= 1;
    expect(box.open(sealed.slice(0, -ct.length) + flipped.toString('base64'), 'p1\0In\0bearerToken')).toBeUndefined();
    expect(box.open('hie:enc:v1:garbage', 'x')).toBeUndefined();
    expect(() => new SecretBox(randomBytes(16))).toThrow(/32 bytes/);
  });
});

describe('the secret key', () => {
  it('HIE_SECRET_KEY: 64 hex digits or base64 of 32 bytes; anything else is refused without echoing it', () => {
    const key = randomBytes(32);
    expect(parseSecretKey(key.toString('hex'))).toEqual(key);
    expect(parseSecretKey(key.toString('base64'))).toEqual(key);
    expect(parseSecretKey(key.toString('base64url'))).toEqual(key);
    expect(() => parseSecretKey('correct horse battery staple')).toThrow(/HIE_SECRET_KEY must be 32 bytes/);
    expect(() => parseSecretKey(randomBytes(16).toString('hex'))).toThrow(/32 bytes/);
    let message = '';
    try {
      parseSecretKey('my-secret-key-text');
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^HIE_SECRET_KEY must be/);
    expect(message).not.toContain('my-secret-key-text');
    expect(readEnv({ HIE_SECRET_KEY: key.toString('hex') }).HIE_SECRET_KEY).toBe(key.toString('hex'));
    expect(readEnv({}).HIE_SECRET_KEY).toBeUndefined();
  });

  it('unset: generated into <data dir>/secret.key (0600) on the first start, the same key read afterwards', () => {
    const dataDir = path.join(mkdtempSync(path.join(tmpdir(), 'hie-key-')), 'data');
    const first = loadSecretKey({ dataDir });
    expect(first.source).toBe('generated');
    expect(first.file).toBe(path.join(dataDir, 'secret.key'));
    expect(statSync(first.file!).mode & 0o777).toBe(0o600);
    const again = loadSecretKey({ dataDir });
    expect(again).toMatchObject({ source: 'file' });
    expect(again.key).toEqual(first.key);
    expect(readFileSync(first.file!, 'utf8').trim()).toBe(first.key.toString('base64'));
    // The variable wins over the file.
    const env = randomBytes(32);
    expect(loadSecretKey({ key: env.toString('hex'), dataDir })).toEqual({ key: env, source: 'env' });
    writeFileSync(first.file!, 'not a key\n');
    expect(() => loadSecretKey({ dataDir })).toThrow(/secret\.key: not a valid secret key/);
  });
});

describe('secrets in specs', () => {
  it('sealed for one project, revealed for it; another key fails naming the setting, never the value', () => {
    const box = SecretBox.random();
    const sealed = sealSecrets(box, spec('tok-9'), 'p1', secretsOf);
    expect(JSON.stringify(sealed)).not.toContain('tok-9');
    expect(revealSecrets(sealed, box, 'p1')).toEqual(spec('tok-9'));
    // Plaintext (a version from before encryption) passes through.
    expect(revealSecrets(spec('tok-9'), box, 'p1')).toEqual(spec('tok-9'));
    for (const [other, id] of [[SecretBox.random(), 'p1'], [box, 'p2'], [undefined, 'p1']] as const) {
      try {
        revealSecrets(sealed, other, id);
        expect.unreachable();
      } catch (e) {
        expect(e).toMatchObject({ code: 'secrets.unavailable', kind: 'operational' });
        expect((e as Error).message).toMatch(/items\[0\]\.settings\.bearerToken/);
        expect((e as Error).message).not.toContain('hie:enc');
      }
    }
  });

  it('resolves "••• set" from the stored spec and reports every misplaced value at once', () => {
    const box = SecretBox.random();
    const stored = sealSecrets(box, spec('tok-9'), 'p1', secretsOf);
    const { resolved, plain } = resolveSecrets(box, spec('••• set'), { projectId: 'p1', current: stored, secretsOf });
    expect(resolved).toEqual(stored);
    expect(plain).toEqual(spec('tok-9'));
    expect(() => resolveSecrets(box, spec('••• set'), { projectId: undefined, current: undefined, secretsOf })).toThrow(
      /items\[0\]\.settings\.bearerToken: "••• set" keeps a stored secret/,
    );
  });
});
