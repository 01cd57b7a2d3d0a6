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

type Service = {
  environment?: Record<string, unknown> | string[];
  command?: string | string[];
  image?: string;
  build?: unknown;
  deploy?: { replicas?: number };
  ports?: string[];
  container_name?: string;
  depends_on?: Record<string, unknown>;
};

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
      expect.arrayContaining(['postgres.environment.POSTGRES_PASSWORD', 'control.environment.HIE_ADMIN_PASSWORD', 'control.environment.DATABASE_URL (URL password)', 'engine.environment.REDIS_URL (URL password)', 'redis.command --requirepass']),
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

describe('docker/compose.yaml: a real cluster (issue 11 point 7)', () => {
  // `<<: *hie` merges the shared HIE settings (YAML 1.1 merge keys, as compose reads them).
  const doc = parse(read('./compose.yaml'), { merge: true }) as { services: Record<string, Service> };
  const { services } = doc;
  const env = (name: string) => Object.fromEntries(envOf(services[name]));

  it('runs PostgreSQL, Redis, etcd, one control plane (`hie start --no-engine`) and `hie engine` nodes', () => {
    expect(Object.keys(services).sort()).toEqual(['control', 'engine', 'etcd', 'postgres', 'redis']);
    expect(services.control.command).toEqual(['start', '--no-engine']);
    expect(services.engine.command).toEqual(['engine']);
    expect(services.engine.deploy?.replicas).toBe(2);
  });

  it('puts every HIE container in cluster mode: DATABASE_URL, REDIS_URL and ETCD_ENDPOINTS, at the compose services', () => {
    for (const name of ['control', 'engine']) {
      const e = env(name);
      expect(e.DATABASE_URL).toMatch(/^postgres:\/\/postgres:\$\{POSTGRES_PASSWORD:\?[^}]+\}@postgres:5432\/hie$/);
      expect(e.REDIS_URL).toMatch(/^redis:\/\/:\$\{REDIS_PASSWORD:\?[^}]+\}@redis:6379$/);
      expect(e.ETCD_ENDPOINTS).toBe('http://etcd:2379');
      expect(Object.keys(services[name].depends_on ?? {}).sort()).toEqual(['etcd', 'postgres', 'redis']);
      expect(services[name].image).toBe('hie:local');
    }
  });

  it('lets `--scale engine=N` work: no container name, no fixed host port on the engine service', () => {
    expect(services.engine.container_name).toBeUndefined();
    // A fixed `2575:2575` binds one host port: a second replica could not start. A range gives each its own.
    for (const p of services.engine.ports ?? []) expect(p).toMatch(/^\d+-\d+:\d+$/);
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
