import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { TlsSettings } from '@hie/config';
import { type HostPolicy, resolveInsideRootsSync } from '@hie/policy';
import { EngineError } from '../runtime/errors';

/**
 * Read the PEM files named in TLS settings and check they make a usable TLS context (at item start,
 * so a bad path, a file that is not PEM or a key that does not match its certificate fails the start
 * with a clear `config.tls` error instead of failing every connection later as a retryable one).
 * `needCert`: a listener cannot serve TLS without its own certificate and key. The files must lie
 * under HIE_FILE_ROOTS after realpath (`policy.path_outside_roots` otherwise): a TLS path is no way
 * to read any file of the host.
 */
export function loadTls(tls: TlsSettings, policy: HostPolicy, opts: { needCert?: boolean } = {}): { cert?: Buffer; key?: Buffer; ca?: Buffer } {
  const read = (label: string, file: string) => {
    if (!file) return undefined;
    const real = resolveInsideRootsSync(file, policy);
    try {
      return readFileSync(real);
    } catch (e) {
      throw new EngineError('config.tls', `cannot read TLS ${label} file ${file}: ${(e as Error).message}`, 'user', { file });
    }
  };
  const pem = { cert: read('certificate', tls.certFile), key: read('key', tls.keyFile), ca: read('CA', tls.caFile) };
  const files = { certFile: tls.certFile, keyFile: tls.keyFile, caFile: tls.caFile };
  if (opts.needCert && !pem.cert) throw new EngineError('config.tls', 'TLS is enabled but no certificate/key file is set', 'user', files);
  if (Boolean(pem.cert) !== Boolean(pem.key)) throw new EngineError('config.tls', 'a TLS certificate file needs its key file, and a key file its certificate', 'user', files);
  try {
    createSecureContext(pem); // bad PEM, a key that does not match the certificate
    if (pem.ca) new X509Certificate(pem.ca); // a CA bundle that is not PEM is otherwise ignored silently
  } catch (e) {
    const named = Object.values(files).filter(Boolean).join(', ');
    throw new EngineError('config.tls', `TLS files (${named}) are not usable: ${(e as Error).message}`, 'user', files);
  }
  return pem;
}
