import { describe, expect, it } from 'vitest';
import { assertEgressAllowed, checkEgress, urlTarget } from './egress';
import { createHostPolicy, parseEgressEntry } from './host-policy';

const open = createHostPolicy({ roots: ['/tmp'] });

describe('checkEgress', () => {
  it('always refuses link-local and metadata addresses, in any spelling', async () => {
    for (const host of ['169.254.169.254', '169.254.1.1', 'fe80::1', '[fe80::1]', '::ffff:169.254.169.254', '::ffff:a9fe:a9fe']) {
      const d = await checkEgress(host, 80, open);
      expect(d.ok, host).toBe(false);
    }
    await expect(assertEgressAllowed('169.254.169.254', 80, open)).rejects.toMatchObject({ code: 'policy.egress_refused', kind: 'user' });
  });

  it("refuses the manager's own port on every local address, after DNS resolution", async () => {
    const policy = createHostPolicy({ roots: ['/tmp'], ownAddresses: [{ host: '0.0.0.0', port: 18080 }] });
    for (const host of ['localhost', '127.0.0.1', '127.0.0.2', '::1', '0.0.0.0']) {
      expect((await checkEgress(host, 18080, policy)).ok, host).toBe(false);
    }
    expect((await checkEgress('localhost', 18081, policy)).ok).toBe(true);
    const specific = createHostPolicy({ roots: ['/tmp'], ownAddresses: [{ host: '127.0.0.1', port: 18080 }] });
    expect((await checkEgress('localhost', 18080, specific)).ok).toBe(false);
  });

  it('with an allow list, only the hosts, host:ports and CIDRs on it', async () => {
    const policy = createHostPolicy({ roots: ['/tmp'], egressAllow: ['localhost:2575', '10.0.0.0/8', 'lab.example.org', '[::1]:443'] });
    expect((await checkEgress('localhost', 2575, policy)).ok).toBe(true);
    expect((await checkEgress('localhost', 2576, policy)).ok).toBe(false);
    expect((await checkEgress('10.1.2.3', 443, policy)).ok).toBe(true);
    expect((await checkEgress('11.1.2.3', 443, policy)).ok).toBe(false);
    expect((await checkEgress('::1', 443, policy)).ok).toBe(true);
    expect((await checkEgress('127.0.0.1', 80, policy)).ok).toBe(false);
    // A listed name still never reaches a metadata address.
    const meta = createHostPolicy({ roots: ['/tmp'], egressAllow: ['169.254.0.0/16'] });
    expect((await checkEgress('169.254.169.254', 80, meta)).ok).toBe(false);
  });

  it('a name that does not resolve: refused at run time, left to the run-time check at save', async () => {
    await expect(checkEgress('no-such-host.invalid', 80, open)).rejects.toMatchObject({ code: 'policy.dns_failed' });
    expect((await checkEgress('no-such-host.invalid', 80, open, { lookupTimeoutMs: 2000 })).ok).toBe(true);
  });
});

describe('allow-list entries and URLs', () => {
  it('parses hosts, host:port, IPv6 and CIDRs, and refuses the rest', () => {
    expect(parseEgressEntry('Lab.Example.org:2575')).toEqual({ kind: 'host', host: 'lab.example.org', port: 2575 });
    expect(parseEgressEntry('fd00::/8')).toMatchObject({ kind: 'cidr', prefix: 8, family: 'ipv6' });
    expect(parseEgressEntry('[fd00::1]:443')).toEqual({ kind: 'host', host: 'fd00::1', port: 443 });
    for (const bad of ['10.0.0.0/33', 'a b', 'host:99999', 'http://x', '']) expect(parseEgressEntry(bad), bad).toBeUndefined();
    expect(() => createHostPolicy({ egressAllow: ['ok.example', 'not ok'] })).toThrow(/HIE_EGRESS_ALLOW: "not ok"/);
  });

  it('reads host and port from http(s) URLs only', () => {
    expect(urlTarget('https://lab.example.org/fhir')).toEqual({ host: 'lab.example.org', port: 443 });
    expect(urlTarget('http://[fe80::1]:8080/')).toEqual({ host: 'fe80::1', port: 8080 });
    expect(urlTarget('file:///etc/passwd')).toBeUndefined();
  });
});
