import { realpathSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** The manager's own listen address: items never send to it (no SSRF into the control plane). */
export interface OwnAddress {
  /** Listen host as configured (`0.0.0.0` and `::` mean every local address). */
  host: string;
  port: number;
}

/**
 * Where items may reach on the host. Plain data (no functions, no classes) so it crosses to
 * worker threads unchanged; build it with {@link createHostPolicy}.
 */
export interface HostPolicy {
  /** Absolute real paths of the folders items may read and write; the first is the base of relative settings. */
  roots: string[];
  /** Egress allow list: `host`, `host:port`, `[v6]:port`, CIDR. Empty: any host but the always-refused ones. */
  egressAllow: string[];
  /** The manager's own addresses, always refused as egress targets. */
  ownAddresses: OwnAddress[];
}

/** Input of {@link createHostPolicy}. */
export interface HostPolicyInput {
  /** @defaultValue `[process.cwd()]` (the folder `hie start` / `hie run` runs in) */
  roots?: readonly string[];
  /** @defaultValue `[]` (no allow list) */
  egressAllow?: readonly string[];
  /** @defaultValue `[]` */
  ownAddresses?: readonly OwnAddress[];
}

/** One parsed `HIE_EGRESS_ALLOW` entry. */
export type EgressEntry =
  | { kind: 'cidr'; address: string; prefix: number; family: 'ipv4' | 'ipv6' }
  | { kind: 'host'; host: string; port?: number };

const HOSTNAME = /^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*\.?$/i;

function parsePort(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : undefined;
}

/**
 * Parses one allow-list entry: `lab.example.org`, `lab.example.org:2575`, `10.1.2.3`,
 * `[fd00::1]:443`, `10.0.0.0/8`, `fd00::/8`.
 * @returns the entry, or undefined when it is none of those.
 */
export function parseEgressEntry(entry: string): EgressEntry | undefined {
  const text = entry.trim();
  const slash = text.indexOf('/');
  if (slash >= 0) {
    const address = text.slice(0, slash);
    const family = net.isIP(address);
    const prefix = /^\d{1,3}$/.test(text.slice(slash + 1)) ? Number(text.slice(slash + 1)) : NaN;
    if (family === 0 || !(prefix <= (family === 4 ? 32 : 128))) return undefined;
    return { kind: 'cidr', address, prefix, family: family === 4 ? 'ipv4' : 'ipv6' };
  }
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracketed) {
    if (net.isIP(bracketed[1]) !== 6) return undefined;
    const port = bracketed[2] === undefined ? undefined : parsePort(bracketed[2]);
    if (bracketed[2] !== undefined && port === undefined) return undefined;
    return { kind: 'host', host: bracketed[1].toLowerCase(), port };
  }
  if (net.isIP(text) === 6) return { kind: 'host', host: text.toLowerCase() };
  const colon = text.lastIndexOf(':');
  const host = colon >= 0 ? text.slice(0, colon) : text;
  const port = colon >= 0 ? parsePort(text.slice(colon + 1)) : undefined;
  if (colon >= 0 && port === undefined) return undefined;
  if (!HOSTNAME.test(host)) return undefined;
  return { kind: 'host', host: host.toLowerCase().replace(/\.$/, ''), port };
}

/** A root as a real absolute path (a root that does not exist yet stays as resolved). */
function realRoot(root: string): string {
  const abs = path.resolve(root);
  try {
    return realpathSync(abs);
  } catch (_e) {
    return abs;
  }
}

/**
 * Builds a host policy: roots made absolute and real (symlinked roots compare by their target),
 * allow-list entries checked.
 * @throws Error naming the first allow-list entry that cannot be parsed (a start-up error).
 */
export function createHostPolicy(input: HostPolicyInput = {}): HostPolicy {
  const roots = (input.roots && input.roots.length > 0 ? input.roots : [process.cwd()]).map(realRoot);
  const egressAllow = (input.egressAllow ?? []).map((e) => e.trim()).filter((e) => e !== '');
  for (const entry of egressAllow) {
    if (!parseEgressEntry(entry)) throw new Error(`HIE_EGRESS_ALLOW: "${entry}" is not a host, host:port or CIDR`);
  }
  return { roots: [...new Set(roots)], egressAllow, ownAddresses: (input.ownAddresses ?? []).map((a) => ({ host: a.host, port: a.port })) };
}

/** Splits `HIE_FILE_ROOTS` (separated by `path.delimiter`, `:` on Linux). */
export function splitRoots(value: string | undefined): string[] {
  return (value ?? '').split(path.delimiter).filter((r) => r.trim() !== '');
}

/** Splits `HIE_EGRESS_ALLOW` (comma-separated). */
export function splitEgressAllow(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
}
