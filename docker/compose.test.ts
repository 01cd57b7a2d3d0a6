import { existsSync, readFileSync } from 'node:fs';
import { Registry } from 'prom-client';
import { EngineMetrics } from '@hie/engine';
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
    expect(Object.keys(services).sort()).toEqual(['control', 'engine', 'etcd', 'grafana', 'postgres', 'prometheus', 'redis']);
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

describe('docker/compose.yaml: Prometheus and Grafana (issue 13 point 2)', () => {
  const doc = parse(read('./compose.yaml'), { merge: true }) as { services: Record<string, Service & { volumes?: string[] }> };
  const { services } = doc;
  const env = (name: string) => Object.fromEntries(envOf(services[name]));
  type Scrape = { job_name: string; metrics_path?: string; static_configs?: { targets: string[] }[]; dns_sd_configs?: { names: string[]; type: string; port: number }[] };
  const prom = parse(read('./prometheus/prometheus.yml')) as { scrape_configs: Scrape[] };

  it('mounts the scrape config and the Grafana provisioning that exist in docker/', () => {
    const mounts = (name: string) => (services[name].volumes ?? []).filter((v) => v.startsWith('./')).map((v) => v.split(':')[0]);
    expect(mounts('prometheus')).toContain('./prometheus/prometheus.yml');
    expect(mounts('grafana').sort()).toEqual(['./grafana/dashboards', './grafana/grafana.ini', './grafana/provisioning']);
    for (const m of [...mounts('prometheus'), ...mounts('grafana')]) expect(existsSync(fileURLToPath(new URL(m, import.meta.url))), m).toBe(true);
    const ds = parse(read('./grafana/provisioning/datasources/prometheus.yaml')) as { datasources: { url: string }[] };
    expect(ds.datasources[0].url).toBe('http://prometheus:9090');
  });

  it('scrapes only targets that exist: each host is a compose service serving /metrics on that port', () => {
    const targets = prom.scrape_configs.flatMap((c) => [
      ...(c.static_configs ?? []).flatMap((s) => s.targets.map((t) => ({ host: t.split(':')[0], port: Number(t.split(':')[1]) }))),
      ...(c.dns_sd_configs ?? []).flatMap((d) => d.names.map((host) => ({ host, port: d.port }))),
    ]);
    expect(targets.map((t) => t.host).sort()).toEqual(['control', 'engine']);
    for (const c of prom.scrape_configs) expect(c.metrics_path ?? '/metrics').toBe('/metrics');
    for (const { host, port } of targets) {
      expect(Object.keys(services), host).toContain(host);
      // The control plane serves /metrics on HIE_PORT; an engine node on HIE_METRICS_PORT.
      expect(Number(env(host)[host === 'control' ? 'HIE_PORT' : 'HIE_METRICS_PORT']), host).toBe(port);
    }
  });

  it('builds the dashboard on metrics the engine really exports', () => {
    const registry = new Registry();
    new EngineMetrics(registry);
    const exported = new Set(registry.getMetricsAsArray().flatMap((m) => [m.name, `${m.name}_bucket`, `${m.name}_sum`, `${m.name}_count`]));
    const dashboard = JSON.parse(read('./grafana/dashboards/hie.json')) as { panels: { targets: { expr: string }[] }[] };
    const used = new Set(dashboard.panels.flatMap((p) => p.targets.flatMap((t) => [...t.expr.matchAll(/\b(hie_[a-z0-9_]+)/g)].map((m) => m[1]))));
    expect(used.size).toBeGreaterThan(8);
    expect([...used].filter((m) => !exported.has(m))).toEqual([]);
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
