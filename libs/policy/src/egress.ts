import { lookup } from 'node:dns/promises';
import net from 'node:net';
import os from 'node:os';
import { HieError } from '@hie/config';
import { parseEgressEntry, type HostPolicy } from './host-policy';

/** A resolved address of an egress target. */
export interface EgressAddress {
  address: string;
  family: 4 | 6;
}

/** The answer of {@link checkEgress}. */
export type EgressDecision = { ok: true; addresses: EgressAddress[] } | { ok: false; reason: string };

/** Options of {@link checkEgress}. */
export interface CheckEgressOptions {
  /**
   * Give up resolving a name after this long; a name that does not resolve is then allowed
   * (save time: the runtime check resolves again before every connection).
   * @defaultValue undefined (wait for the resolver; a failure throws `policy.dns_failed`)
   */
  lookupTimeoutMs?: number;
}

const familyName = (family: 4 | 6) => (family === 4 ? 'ipv4' : 'ipv6');

/**
 * Link-local and cloud metadata addresses: never a legitimate downstream system, the classic
 * SSRF target (169.254.169.254 hands out cloud credentials). IPv4-mapped IPv6 forms
 * (`::ffff:a9fe:a9fe`) match too: BlockList compares them as IPv4.
 */
const alwaysRefused = new net.BlockList();
alwaysRefused.addSubnet('169.254.0.0', 16, 'ipv4');
alwaysRefused.addSubnet('fe80::', 10, 'ipv6');
alwaysRefused.addAddress('fd00:ec2::254', 'ipv6'); // AWS metadata over IPv6
alwaysRefused.addAddress('100.100.100.200', 'ipv4'); // Alibaba Cloud metadata

/** Every address that reaches this machine: loopback, unspecified, and the interfaces' own. */
function localAddresses(): net.BlockList {
  const list = new net.BlockList();
  list.addSubnet('127.0.0.0', 8, 'ipv4');
  list.addAddress('0.0.0.0', 'ipv4');
  list.addAddress('::1', 'ipv6');
  list.addAddress('::', 'ipv6');
  for (const addresses of Object.values(os.networkInterfaces())) {
    for (const a of addresses ?? []) list.addAddress(a.address.split('%')[0], a.family === 'IPv4' ? 'ipv4' : 'ipv6');
  }
  return list;
}

async function resolve(host: string, opts: CheckEgressOptions): Promise<EgressAddress[] | undefined> {
  const family = net.isIP(host);
  if (family !== 0) return [{ address: host, family: family as 4 | 6 }];
  const query = lookup(host, { all: true, verbatim: true }).then((list) => list.map((a) => ({ address: a.address, family: a.family as 4 | 6 })));
  if (opts.lookupTimeoutMs === undefined) return query;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), opts.lookupTimeoutMs)));
  try {
    return await Promise.race([query.catch(() => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The manager's own addresses on `port`: any local address, plus what its host name resolves to. */
async function ownOnPort(port: number, policy: HostPolicy, opts: CheckEgressOptions): Promise<net.BlockList | undefined> {
  const own = policy.ownAddresses.filter((a) => a.port === port);
  if (own.length === 0) return undefined;
  // The manager runs on this machine: every local address reaches it, whatever host it bound.
  const list = localAddresses();
  for (const a of own) {
    for (const r of (await resolve(a.host, { lookupTimeoutMs: opts.lookupTimeoutMs ?? 5000 })) ?? []) list.addAddress(r.address, familyName(r.family));
  }
  return list;
}

/** A policy's allow list, parsed once (it is checked before every connection). */
const parsedAllow = new WeakMap<HostPolicy, NonNullable<ReturnType<typeof parseEgressEntry>>[]>();

function allowEntries(policy: HostPolicy): NonNullable<ReturnType<typeof parseEgressEntry>>[] {
  let entries = parsedAllow.get(policy);
  if (!entries) {
    entries = policy.egressAllow.map(parseEgressEntry).filter((e) => e !== undefined);
    parsedAllow.set(policy, entries);
  }
  return entries;
}

function allowedByList(host: string, port: number, addresses: EgressAddress[], policy: HostPolicy): boolean {
  const entries = allowEntries(policy);
  if (entries.some((e) => e.kind === 'host' && e.host === host && (e.port === undefined || e.port === port))) return true;
  // Otherwise every address the name resolves to must be allowed (by CIDR or by an IP entry).
  const list = new net.BlockList();
  for (const e of entries) {
    if (e.kind === 'cidr') list.addSubnet(e.address, e.prefix, e.family);
    else if (net.isIP(e.host) !== 0 && (e.port === undefined || e.port === port)) list.addAddress(e.host, net.isIP(e.host) === 4 ? 'ipv4' : 'ipv6');
  }
  return addresses.length > 0 && addresses.every((a) => list.check(a.address, familyName(a.family)));
}

/**
 * Decides whether an item may connect to `host:port`, after resolving the name (every address
 * it resolves to is checked, so a name pointing at a metadata address is refused too):
 * link-local and metadata addresses and the manager's own address and port are always refused;
 * when `HIE_EGRESS_ALLOW` is set, the host must also be on it.
 * @throws HieError `policy.dns_failed` (operational) when the name does not resolve and no
 * `lookupTimeoutMs` was given.
 */
export async function checkEgress(host: string, port: number, policy: HostPolicy, opts: CheckEgressOptions = {}): Promise<EgressDecision> {
  const name = host.replace(/^\[(.*)\]$/, '$1').toLowerCase().replace(/\.$/, '');
  let addresses: EgressAddress[] | undefined;
  try {
    addresses = await resolve(name, opts);
  } catch (e) {
    throw new HieError('policy.dns_failed', `cannot resolve ${name}: ${(e as Error).message}`, { kind: 'operational', details: { host: name } });
  }
  const own = await ownOnPort(port, policy, opts);
  for (const a of addresses ?? []) {
    if (alwaysRefused.check(a.address, familyName(a.family))) {
      return { ok: false, reason: `${name} (${a.address}) is a link-local or metadata address, always refused` };
    }
    if (own?.check(a.address, familyName(a.family))) {
      return { ok: false, reason: `${name}:${port} (${a.address}) is the manager's own address, always refused` };
    }
  }
  if (policy.egressAllow.length > 0 && !allowedByList(name, port, addresses ?? [], policy)) {
    return { ok: false, reason: `${name}:${port} is not allowed by HIE_EGRESS_ALLOW` };
  }
  return { ok: true, addresses: addresses ?? [] };
}

/**
 * The runtime guard: resolves `host`, applies {@link checkEgress} and returns the checked
 * addresses (connect to one of them, so a second lookup cannot answer differently).
 * @throws HieError `policy.egress_refused` (user: not retried) or `policy.dns_failed` (operational).
 */
export async function assertEgressAllowed(host: string, port: number, policy: HostPolicy): Promise<EgressAddress[]> {
  const decision = await checkEgress(host, port, policy);
  if (!decision.ok) throw new HieError('policy.egress_refused', decision.reason, { kind: 'user', details: { host, port } });
  return decision.addresses;
}

/** Host and port of an `http:`/`https:` URL (default ports filled), or undefined for any other URL. */
export function urlTarget(url: string): { host: string; port: number } | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch (_e) {
    return undefined;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
  return { host: u.hostname.replace(/^\[(.*)\]$/, '$1'), port: u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80 };
}
