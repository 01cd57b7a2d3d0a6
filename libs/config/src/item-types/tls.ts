import { z } from 'zod';

/** TLS for a listener or a client: PEM file paths, read when the item starts. */
export const tlsSettings = z
  .object({
    enabled: z.boolean().default(false).describe('Use TLS on this connection'),
    certFile: z.string().default('').describe('Path to the PEM certificate (listener: server cert; client: client cert for mutual TLS)'),
    keyFile: z.string().default('').describe('Path to the PEM private key matching the certificate'),
    caFile: z.string().default('').describe('Path to the PEM CA bundle used to verify the peer'),
    requireClientCert: z.boolean().default(false).describe('Listener only: refuse clients that do not present a certificate signed by the CA'),
    rejectUnauthorized: z.boolean().default(true).describe('Verify the peer certificate against the CA'),
  })
  .strict()
  .default({ enabled: false, certFile: '', keyFile: '', caFile: '', requireClientCert: false, rejectUnauthorized: true })
  .describe('TLS settings');
export type TlsSettings = z.output<typeof tlsSettings>;
