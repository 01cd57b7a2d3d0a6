import { readFileSync } from 'node:fs';
import type { TlsSettings } from '@hie/config';
import { EngineError } from '../runtime/errors';

/** Read the PEM files named in TLS settings (at item start, so a bad path fails the start with a clear error). */
export function loadTls(tls: TlsSettings): { cert?: Buffer; key?: Buffer; ca?: Buffer } {
  const read = (label: string, file: string) => {
    if (!file) return undefined;
    try {
      return readFileSync(file);
    } catch (e) {
      throw new EngineError('config.tls', `cannot read TLS ${label} file ${file}: ${(e as Error).message}`, 'user', { file });
    }
  };
  return { cert: read('certificate', tls.certFile), key: read('key', tls.keyFile), ca: read('CA', tls.caFile) };
}
