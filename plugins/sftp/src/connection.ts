import { createHash } from 'node:crypto';
import SftpClient from 'ssh2-sftp-client';
import { assertEgressAllowed, HieError, type ItemContext } from '@hie/item-sdk';

/** The connection settings of sftp.in and sftp.out. */
export interface ConnectionSettings {
  host: string;
  port: number;
  username: string;
  password: string;
  privateKey: string;
  passphrase: string;
  hostFingerprint: string;
  connectTimeoutMs: number;
}

/** `SHA256:<base64, no padding>` of a host key, as `ssh-keygen -lf` prints it. */
export function sha256Fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/**
 * A private key as pasted into a one-line form field (the browser drops its line breaks): the
 * armour lines put back on their own lines (the base64 between them may stay on one line).
 */
export function normalizePrivateKey(key: string): string {
  const k = key.trim();
  if (k.includes('\n')) return k;
  return k.replace(/^(-----BEGIN [A-Z0-9 ]+-----)\s*/, '$1\n').replace(/\s*(-----END [A-Z0-9 ]+-----)$/, '\n$1\n');
}

/** Errors before any byte is exchanged (bad settings) are user errors: retrying does not help. */
export function checkConnectionSettings(s: ConnectionSettings, type: string): void {
  if (!s.hostFingerprint) {
    throw new HieError(`${type}.host_key_unpinned`, 'hostFingerprint is required: set the server host key\'s SHA256 fingerprint (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub)', { kind: 'user' });
  }
  if (!s.password && !s.privateKey) throw new HieError(`${type}.no_credentials`, 'set a password or a private key', { kind: 'user' });
}

/**
 * Opens an SFTP session: the host must pass the egress policy (the address it resolved to is
 * the one connected to, so a DNS change in between cannot bypass the check), and the server's
 * host key must match the pinned SHA256 fingerprint, or the connection is refused before
 * authenticating (no password or key signature reaches an impostor).
 */
export async function openSftp(s: ConnectionSettings, ctx: ItemContext, type: string): Promise<SftpClient> {
  checkConnectionSettings(s, type);
  const [address] = await assertEgressAllowed(s.host, s.port, ctx.policy);
  let seen: string | undefined;
  const client = new SftpClient(ctx.itemName, {
    // The library's global listeners would print to the console; errors surface from the calls.
    error: (err: unknown) => ctx.log.debug({ err }, 'sftp connection error'),
    end: () => undefined,
    close: () => undefined,
  });
  try {
    await client.connect({
      host: address?.address ?? s.host,
      port: s.port,
      username: s.username,
      password: s.password || undefined,
      privateKey: s.privateKey ? normalizePrivateKey(s.privateKey) : undefined,
      passphrase: s.passphrase || undefined,
      readyTimeout: s.connectTimeoutMs,
      hostVerifier: (key: Buffer) => {
        seen = sha256Fingerprint(key);
        return seen === s.hostFingerprint;
      },
    });
  } catch (e) {
    await client.end().catch(() => undefined);
    if (seen !== undefined && seen !== s.hostFingerprint) {
      throw new HieError(`${type}.host_key_mismatch`, `host key of ${s.host}:${s.port} is ${seen}, not the pinned ${s.hostFingerprint}: refusing to connect (a changed server key, or someone in between)`, {
        kind: 'user',
        details: { presented: seen },
      });
    }
    throw new HieError(`${type}.connect`, `cannot connect to ${s.host}:${s.port}: ${(e as Error).message}`, { kind: 'operational', cause: e });
  }
  return client;
}
