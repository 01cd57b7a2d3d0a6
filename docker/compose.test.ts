import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

// Shipped deployment files must not carry passwords: every credential is a required variable
// (`${VAR:?message}`), so compose refuses to start without it instead of using a known value.

const read = (name: string) => readFileSync(fileURLToPath(new URL(name, import.meta.url)), 'utf8');

/** `${NAME:?message}` and nothing else. */
const REQUIRED = /^\$\{([A-Z][A-Z0-9_]*):\?[^}]+\}$/;
const CREDENTIAL_NAME = /PASSWORD|PASSWD|SECRET|TOKEN|AUTH|(^|_)KEY$/i;

type Service = { environment?: Record<string, unknown> | string[]; command?: string | string[] };

/** Every `KEY=value` of a service's environment, in either compose syntax. */
function envOf(service: Service): [string, string][] {
  const env = service.environment ?? {};
  if (Array.isArray(env)) return env.map((e) => [e.split('=')[0], e.slice(e.indexOf('=') + 1)]);
  return Object.entries(env).map(([k, v]) => [k, String(v)]);
}

/** Where the file puts a credential: env values by name, URL userinfo, `--requirepass`-style flags. */
function credentials(doc: { services: Record<string, Service> }): { where: string; value: string }[] {
  const found: { where: string; value: string }[] = [];
  for (const [name, service] of Object.entries(doc.services)) {
    for (const [key, value] of envOf(service)) {
      if (CREDENTIAL_NAME.test(key)) found.push({ where: `${name}.environment.${key}`, value });
      const userinfo = /^[a-z][a-z0-9+.-]*:\/\/[^/@]*?:(.+)@/i.exec(value);
      if (userinfo) found.push({ where: `${name}.environment.${key} (URL password)`, value: userinfo[1] });
    }
    const args = typeof service.command === 'string' ? service.command.split(/\s+/) : (service.command ?? []);
    args.forEach((arg, i) => {
      if (/^--?\w*pass/i.test(arg) && i + 1 < args.length) found.push({ where: `${name}.command ${arg}`, value: args[i + 1] });
    });
  }
  return found;
}

describe('docker/compose.yaml', () => {
  const text = read('./compose.yaml');
  const doc = parse(text) as { services: Record<string, Service> };

  it('has no literal password: every credential is a required ${VAR:?message}', () => {
    const creds = credentials(doc);
    expect(creds.map((c) => c.where)).toEqual(
      expect.arrayContaining(['postgres.environment.POSTGRES_PASSWORD', 'manager.environment.HIE_ADMIN_PASSWORD', 'manager.environment.DATABASE_URL (URL password)', 'redis.command --requirepass']),
    );
    const notRequired = creds.filter((c) => !REQUIRED.test(c.value)).map((c) => `${c.where} = ${c.value}`);
    expect(notRequired).toEqual([]);
  });

  it('never gives a credential variable a default (${VAR:-…}, ${VAR-…}) or leaves it optional (${VAR})', () => {
    const uses = [...text.matchAll(/\$\{([A-Z][A-Z0-9_]*)([^}]*)\}/g)].filter(([, name]) => CREDENTIAL_NAME.test(name));
    expect(uses.length).toBeGreaterThan(0);
    expect(uses.filter(([, , rest]) => !rest.startsWith(':?')).map(([m]) => m)).toEqual([]);
    expect([...new Set(uses.map(([, name]) => name))].sort()).toEqual(['HIE_ADMIN_PASSWORD', 'POSTGRES_PASSWORD', 'REDIS_PASSWORD']);
  });

  it('names each required variable in the header, where a user looks first', () => {
    const header = text.slice(0, text.indexOf('services:'));
    for (const name of ['POSTGRES_PASSWORD', 'REDIS_PASSWORD', 'HIE_ADMIN_PASSWORD']) expect(header).toContain(name);
  });
});

describe('.dockerignore', () => {
  it('keeps local data, dependencies and build output out of the image', () => {
    const patterns = read('../.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const p of ['**/.hie', '**/out', '**/node_modules', '**/.next', '**/.env']) expect(patterns).toContain(p);
  });
});
