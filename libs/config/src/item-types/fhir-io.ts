import { z } from 'zod';
import { URL_PASSWORD_MESSAGE, urlHasPassword } from '../redact-url';
import { bindSecretsTo, secret } from '../secrets';
import { refusedMaxBytes } from './refused';
import { tlsSettings } from './tls';

/** FHIR resource type names (`Patient`, `DiagnosticReport`). */
const resourceTypeName = z.string().regex(/^[A-Z][A-Za-z]+$/, 'a FHIR resource type such as Patient');

/** Settings of `fhir.http.in`: a FHIR R4 REST endpoint (create, update, transaction, batch, metadata). */
export const fhirHttpInSettings = z
  .object({
    host: z.string().default('0.0.0.0').describe('Interface to listen on'),
    port: z.number().int().min(0).max(65535).default(8090).describe('TCP port (0 = any free port)'),
    basePath: z
      .string()
      .regex(/^\/[A-Za-z0-9._~/-]*$/, 'a URL path starting with /')
      .default('/fhir')
      .describe('FHIR base path: POST [base]/[type], PUT [base]/[type]/[id], POST [base] (Bundle), GET [base]/metadata'),
    resourceTypes: z
      .array(resourceTypeName)
      .default(['Patient', 'Encounter', 'Observation', 'DiagnosticReport', 'RelatedPerson', 'Coverage'])
      .describe('Resource types accepted (and listed in the CapabilityStatement); empty = any'),
    interactions: z
      .object({
        create: z.boolean().default(true).describe('POST [base]/[type]'),
        update: z.boolean().default(true).describe('PUT [base]/[type]/[id]'),
        transaction: z.boolean().default(true).describe('POST [base] with a transaction Bundle'),
        batch: z.boolean().default(true).describe('POST [base] with a batch Bundle'),
      })
      .strict()
      .default({ create: true, update: true, transaction: true, batch: true })
      .describe('FHIR interactions accepted'),
    maxBodyBytes: z.number().int().min(1).default(16 * 1024 * 1024).describe('Largest accepted body'),
    bearerToken: secret(z.string().default('')).describe('When set, callers must send Authorization: Bearer <token>'),
    tls: tlsSettings,
    refusedMaxBytes,
  })
  .strict();
export type FhirHttpInSettings = z.output<typeof fhirHttpInSettings>;

/**
 * Settings of `fhir.http.out`: a FHIR client. Its secrets are bound to `baseUrl` (and the token URL):
 * pointing the item at another server asks for them again.
 */
export const fhirHttpOutSettings = bindSecretsTo(
  z
    .object({
      baseUrl: z
        .string()
        .url()
        .refine((u) => !urlHasPassword(u), { message: URL_PASSWORD_MESSAGE })
        .describe('FHIR server base URL, e.g. https://fhir.example.org/R4 (no password in it: use auth)'),
      interaction: z
        .enum(['auto', 'create', 'update', 'conditional-create', 'transaction'])
        .default('auto')
        .describe('auto: a Bundle is POSTed to the base, a resource with an id is PUT (update), one without is POSTed (create)'),
      ifNoneExist: z
        .object({
          identifierSystem: z.string().default('').describe('Build `identifier=<system>|<value>` from the resource identifier with this system (empty: the first identifier)'),
          fhirpath: z.string().default('').describe('Or a FHIRPath giving the search query, e.g. `\'identifier=\' + identifier.first().value`'),
        })
        .strict()
        .default({ identifierSystem: '', fhirpath: '' })
        .describe('conditional-create: how the If-None-Exist search is made'),
      auth: z
        .enum(['none', 'bearer', 'smart-backend'])
        .default('none')
        .describe('none; bearer (bearerToken); smart-backend: SMART Backend Services, client credentials with a JWT assertion signed by privateKey'),
      bearerToken: secret(z.string().default('')).describe('auth = bearer: sent as Authorization: Bearer <token>'),
      tokenUrl: z
        .string()
        .refine((u) => !urlHasPassword(u), { message: URL_PASSWORD_MESSAGE })
        .default('')
        .describe('auth = smart-backend: the token endpoint (http or https URL)'),
      clientId: z.string().default('').describe('auth = smart-backend: the registered client id (iss and sub of the assertion)'),
      privateKey: secret(z.string().default('')).describe('auth = smart-backend: PEM private key signing the assertion (RSA for RS384, EC P-384 for ES384)'),
      algorithm: z.enum(['RS384', 'ES384']).default('RS384').describe('auth = smart-backend: JWT signing algorithm'),
      keyId: z.string().default('').describe('auth = smart-backend: kid of the key in the JWKS registered with the server (optional)'),
      scope: z.string().default('system/*.write').describe('auth = smart-backend: scopes requested'),
      timeoutMs: z.number().int().min(1).default(30_000).describe('Request timeout (a timeout is retryable)'),
      retryOn: z.array(z.number().int()).default([408, 429, 500, 502, 503, 504]).describe('HTTP statuses that are retried; other 4xx fail at once'),
    })
    .strict()
    .superRefine((s, ctx) => {
      if (s.auth === 'bearer' && !s.bearerToken) ctx.addIssue({ code: 'custom', path: ['bearerToken'], message: 'auth = bearer needs a token' });
      if (s.auth === 'smart-backend') {
        if (!/^https?:\/\//.test(s.tokenUrl)) ctx.addIssue({ code: 'custom', path: ['tokenUrl'], message: 'auth = smart-backend needs the token URL' });
        if (!s.clientId) ctx.addIssue({ code: 'custom', path: ['clientId'], message: 'auth = smart-backend needs the client id' });
        if (!s.privateKey) ctx.addIssue({ code: 'custom', path: ['privateKey'], message: 'auth = smart-backend needs the private key' });
      }
    }),
  ['baseUrl', 'tokenUrl'],
);
export type FhirHttpOutSettings = z.output<typeof fhirHttpOutSettings>;
