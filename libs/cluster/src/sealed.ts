import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { ClusterError } from './coordinator';

/** Seals values stored in etcd, bound to their key (a value moved to another key does not open). */
export interface ValueCipher {
  seal(plain: string, key: string): string;
  open(sealed: string, key: string): string;
}

const PREFIX = 'hie:etcd:v1:';

/** True when a stored value was sealed by a {@link ValueCipher}. */
export function isSealedValue(v: string): boolean {
  return v.startsWith(PREFIX);
}

/**
 * AES-256-GCM with a key derived (HKDF-SHA256) from `secret` (HIE_SECRET_KEY, the same on the
 * control plane and every node): desired state carries the productions' secret settings in clear
 * for the engines, so it must not sit in clear in etcd.
 */
export function etcdCipher(secret: string): ValueCipher {
  const key = Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), Buffer.alloc(0), 'hie etcd desired state v1', 32));
  return {
    seal(plain, at) {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', key, iv);
      c.setAAD(Buffer.from(at, 'utf8'));
      const ct = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
      return PREFIX + Buffer.concat([iv, c.getAuthTag(), ct]).toString('base64');
    },
    open(sealed, at) {
      if (!isSealedValue(sealed)) return sealed;
      const raw = Buffer.from(sealed.slice(PREFIX.length), 'base64');
      try {
        const d = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
        d.setAAD(Buffer.from(at, 'utf8'));
        d.setAuthTag(raw.subarray(12, 28));
        return Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString('utf8');
      } catch {
        throw new ClusterError('cluster.sealed', `cannot open ${at}: HIE_SECRET_KEY differs from the one that sealed it`);
      }
    },
  };
}
