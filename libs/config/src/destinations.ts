/**
 * Where an item sends: the hosts its bound settings (`secretsBoundTo`: http.out `url`,
 * fhir.http.out `baseUrl`/`tokenUrl`, sftp `host`) point at, how an environment secret's allowed
 * hosts match them (URLs without their password: `redact-url.ts`).
 *
 * An environment secret (`${secret:LAB_TOKEN}`) carries the hosts it may be sent to, set by an
 * admin with its value. At deploy every item that uses it must send only to those hosts — or
 * anyone allowed to edit a project could write the reference into an item aimed at a server of
 * their own. Isomorphic: no `node:*`.
 */
import type { JsonSchema } from './json-schema';
import { secretsBoundTo } from './secrets';
import { formatPath, type ConfigProblem } from './validate';
import { findReferences, type SettingsSchemaLookup } from './variables';

/** Most hosts one secret may list. */
export const MAX_SECRET_HOSTS = 50;

const LABEL = '(?!-)[a-z0-9-]{1,63}(?<!-)';
const DNS_NAME = `${LABEL}(?:\\.${LABEL})*`;
const IPV4 = '(?:\\d{1,3}\\.){3}\\d{1,3}';
const IPV6 = '\\[[0-9a-f:.]{2,45}\\]';
const PORT = '(?::(\\d{1,5}))?';
/** `lab.example.org`, `*.example.org` (two labels at least after `*.`), `10.0.0.5`, `[2001:db8::1]`, each with an optional `:port`. */
const HOST_PATTERN = new RegExp(`^(\\*\\.${LABEL}\\.${DNS_NAME}|${DNS_NAME}|${IPV4}|${IPV6})${PORT}$`);

/**
 * Why `pattern` is not a host an environment secret may be sent to (undefined when it is one):
 * a host name, `*.example.org` (any name under example.org, not example.org itself), an IPv4
 * address or a bracketed IPv6 address, each optionally with `:port`. No scheme, path or user.
 */
export function hostPatternProblem(pattern: string): string | undefined {
  const p = pattern.trim().toLowerCase();
  if (p === '') return 'a host is empty';
  if (p.length > 260) return `a host is at most 260 characters (${p.slice(0, 40)}…)`;
  if (p.includes('://') || p.includes('/')) return `"${pattern}" is a URL or a path: give the host alone, e.g. lab.example.org or lab.example.org:8443`;
  if (p.includes('@')) return `"${pattern}" holds a user name: give the host alone`;
  const m = HOST_PATTERN.exec(p);
  if (!m) return `"${pattern}" is not a host name, *.domain wildcard, IP address or host:port`;
  const port = m[2] === undefined ? undefined : Number(m[2]);
  if (port !== undefined && (port < 1 || port > 65535)) return `"${pattern}": a port is 1–65535`;
  return undefined;
}

/** A host pattern in its stored form: trimmed, lower case. */
export function normalizeHostPattern(pattern: string): string {
  return pattern.trim().toLowerCase();
}

/** A host an item sends to (`port` when known). */
export interface Destination {
  host: string;
  port?: number;
  /** The setting it comes from. */
  setting: string;
}

function bare(host: string): string {
  return host
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '');
}

/** Whether `dest` is one of the hosts `patterns` allow ({@link hostPatternProblem} for their form). */
export function hostAllowed(patterns: readonly string[], dest: Pick<Destination, 'host' | 'port'>): boolean {
  const host = bare(dest.host);
  return patterns.some((raw) => {
    const m = HOST_PATTERN.exec(normalizeHostPattern(raw));
    if (!m) return false;
    if (m[2] !== undefined && Number(m[2]) !== dest.port) return false;
    const name = bare(m[1]!);
    if (name.startsWith('*.')) return host.endsWith(name.slice(1)) && host.length > name.length - 1;
    return host === name;
  });
}

const DEFAULT_PORTS: Readonly<Record<string, number>> = { 'http:': 80, 'https:': 443, 'sftp:': 22, 'ssh:': 22 };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function defaultOf(schema: JsonSchema | undefined, field: string): unknown {
  const props = isRecord(schema) ? schema['properties'] : undefined;
  const prop = isRecord(props) ? props[field] : undefined;
  return isRecord(prop) ? prop['default'] : undefined;
}

/**
 * The hosts an item's bound settings point at (`settings` with its references resolved): a URL
 * gives its host and port (explicit, or the scheme's), a `host` setting its value with the item's
 * `port`. Other bound settings (user names, fingerprints) and empty ones name no host.
 * A URL that does not parse is answered as its text (it matches no host).
 */
export function destinationsOf(settings: unknown, schema: JsonSchema | undefined): Destination[] {
  const s = isRecord(settings) ? settings : {};
  const out: Destination[] = [];
  for (const field of schema ? secretsBoundTo(schema) : []) {
    const v = s[field] ?? defaultOf(schema, field);
    if (typeof v !== 'string' || v.trim() === '') continue;
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(v)) {
      try {
        const u = new URL(v);
        const port = u.port ? Number(u.port) : DEFAULT_PORTS[u.protocol];
        out.push({ host: bare(u.hostname), ...(port !== undefined ? { port } : {}), setting: field });
      } catch {
        out.push({ host: v, setting: field });
      }
    } else if (/host$/i.test(field)) {
      const port = s['port'] ?? defaultOf(schema, 'port');
      out.push({ host: bare(v.trim()), ...(typeof port === 'number' ? { port } : {}), setting: field });
    }
  }
  return out;
}

function shown(d: Pick<Destination, 'host' | 'port'>): string {
  const host = d.host.includes(':') ? `[${d.host}]` : d.host;
  return d.port === undefined ? host : `${host}:${d.port}`;
}

/** The environment secrets' allowed hosts, by name, as deploy checks them. */
export interface SecretHosts {
  /** The environment's name (for messages). */
  environment: string;
  hosts: ReadonlyMap<string, readonly string[]>;
}

/** A secret used where it may not be sent: names the secret, the item and the host, never the value. */
export interface SecretDestinationProblem extends ConfigProblem {
  item: string;
  secret: string;
  /** The host it would go to (absent when the secret allows none or the item names none). */
  host?: string;
}

/**
 * Problems of the environment secrets a spec uses: each `${secret:NAME}` must sit in an item
 * whose bound settings (after resolution: `resolved`) point only at hosts the secret allows. An
 * item type with no bound settings, or a secret with no hosts, cannot take it. Never names a
 * value; names the secret, the item and the host.
 */
export function secretDestinationProblems(spec: unknown, resolved: unknown, secrets: SecretHosts, schemaOf: SettingsSchemaLookup): SecretDestinationProblem[] {
  const items = isRecord(resolved) && Array.isArray(resolved['items']) ? (resolved['items'] as unknown[]) : [];
  const problems: SecretDestinationProblem[] = [];
  const env = `environment "${secrets.environment}"`;
  for (const at of findReferences(spec)) {
    const names = [...new Set(at.refs.filter((r) => r.secret).map((r) => r.name))];
    if (names.length === 0) continue;
    const item = items[at.index];
    const type = isRecord(item) && typeof item['type'] === 'string' ? item['type'] : '';
    const schema = schemaOf(type);
    const dests = destinationsOf(isRecord(item) ? item['settings'] : undefined, schema);
    const push = (message: string, secret: string, host?: string) =>
      problems.push({ path: at.specPath, pathText: formatPath(at.specPath), code: 'secret_host_not_allowed', message, item: at.item, secret, ...(host ? { host } : {}) });
    for (const name of names) {
      const allowed = secrets.hosts.get(name) ?? [];
      const where = `item "${at.item}" (${type})`;
      if (dests.length === 0) {
        push(
          `secret ${name} cannot be used in ${where}: its type names no destination the secret is bound to (url, host); put the value in the item's own secret setting instead`,
          name,
        );
      } else if (allowed.length === 0) {
        push(`secret ${name} of ${env} may be sent to no host yet (${where} sends to ${dests.map(shown).join(', ')}); an admin allows hosts with the secret on the Environments page`, name);
      } else {
        for (const d of dests.filter((x) => !hostAllowed(allowed, x))) {
          push(
            `secret ${name} may not be sent to ${shown(d)} (${where}, setting ${d.setting}): ${env} allows it only for ${allowed.join(', ')}; an admin adds the host with the secret on the Environments page`,
            name,
            shown(d),
          );
        }
      }
    }
  }
  return problems;
}
