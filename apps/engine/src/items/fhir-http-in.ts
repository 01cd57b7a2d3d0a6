import { randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { UNEXPECTED_ERROR_CODE, fhirHttpInSettings, type FhirHttpInSettings } from '@hie/config';
import { CONTENT_TYPES, MessageEnvelope } from '@hie/envelope';
import { hasErrors, parseFhirJson, toOperationOutcome, validateFhir, warmFhirR4, type FhirIssue, type Resource } from '@hie/fhir';
import { defineItemType } from '../item-type';
import { codeOf, ensureError, kindOf } from '../runtime/errors';
import { bearerDigest, bearerMatches } from './http-in';
import { loadTls } from './tls-options';

type Json = Record<string, unknown>;

/** Request bodies FHIR servers accept as JSON (the spec allows plain JSON too). */
const JSON_TYPES: ReadonlySet<string> = new Set([CONTENT_TYPES.fhirJson, CONTENT_TYPES.json]);
/** `Accept` values this endpoint can answer. */
const ACCEPTABLE: ReadonlySet<string> = new Set([CONTENT_TYPES.fhirJson, CONTENT_TYPES.json, 'application/*', '*/*']);
/** `_format` values meaning JSON. */
const JSON_FORMATS: ReadonlySet<string> = new Set(['json', CONTENT_TYPES.fhirJson, CONTENT_TYPES.json]);

const STATUS_TEXT: Record<number, string> = { 200: '200 OK', 201: '201 Created' };

/** An answer that is not a success: its status and the OperationOutcome's issue. */
class FhirReject extends Error {
  constructor(
    readonly status: number,
    readonly issues: FhirIssue[],
    /** Set once the body was read: the input is kept as a refused message with this reason. */
    readonly refusal?: string,
  ) {
    super(issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; '));
  }
}

const reject = (status: number, code: string, message: string, refusal?: string, path = '') => new FhirReject(status, [{ severity: 'error', code, path, message }], refusal);

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { ...(text ? { 'content-type': `${CONTENT_TYPES.fhirJson}; charset=utf-8` } : {}), 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

/** Whether an `Accept` header (or `_format`) allows FHIR JSON. */
export function acceptsFhirJson(accept: string | undefined, format: string | null): boolean {
  if (format !== null) return JSON_FORMATS.has(format.toLowerCase());
  if (!accept) return true;
  return accept.split(',').some((part) => ACCEPTABLE.has(part.split(';')[0].trim().toLowerCase()));
}

/**
 * The CapabilityStatement of an endpoint: the resource types and interactions its settings accept.
 * @see https://hl7.org/fhir/R4/capabilitystatement.html
 */
export function capabilityStatement(settings: FhirHttpInSettings, opts: { name: string; url: string; date: string }): Json {
  const perType = (['create', 'update'] as const).filter((i) => settings.interactions[i]).map((code) => ({ code }));
  const system = (['transaction', 'batch'] as const).filter((i) => settings.interactions[i]).map((code) => ({ code }));
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: opts.date,
    kind: 'instance',
    software: { name: 'HIE' },
    implementation: { description: `HIE fhir.http.in item ${opts.name}`, url: opts.url },
    fhirVersion: '4.0.1',
    format: [CONTENT_TYPES.fhirJson, 'json'],
    rest: [
      {
        mode: 'server',
        ...(settings.bearerToken ? { security: { description: 'Authorization: Bearer <token> on every request' } } : {}),
        ...(settings.resourceTypes.length > 0
          ? { resource: settings.resourceTypes.map((type) => ({ type, interaction: perType })) }
          : { documentation: 'Accepts every resource type' }),
        ...(system.length > 0 ? { interaction: system } : {}),
      },
    ],
  };
}

/** One stored interaction's answer: its status, location, version. */
interface Outcome {
  status: 200 | 201;
  type: string;
  id: string;
}

/**
 * `fhir.http.in`: a FHIR R4 REST endpoint on its own port (optionally TLS / mutual TLS, and a
 * bearer token like `http.in`). `POST [base]/[type]` (create, an id is assigned), `PUT
 * [base]/[type]/[id]` (update), `POST [base]` with a transaction or batch Bundle, and `GET
 * [base]/metadata` (the CapabilityStatement made from the settings).
 *
 * Raw-first like every service: a valid resource is stored as received before the answer (201
 * create / 200 update with `Location: [base]/[type]/[id]/_history/1`, the resource with its id, or
 * a `transaction-response` / `batch-response` Bundle). Bad input never reaches a target: not FHIR
 * JSON → 400, invalid against R4 → 422, each with an OperationOutcome whose issues name the
 * element (FHIRPath), and the bytes kept as a `refused` message. Content negotiation: bodies in
 * `application/fhir+json` (or `application/json`), else 415; an `Accept` (or `_format`) this
 * endpoint cannot answer → 406.
 *
 * It is a gateway, not a FHIR repository: it keeps no versions, and conditional creates/updates in
 * a Bundle are answered as creates (the downstream server resolves them).
 */
export const fhirHttpIn = defineItemType({
  type: 'fhir.http.in',
  version: 1,
  kind: 'service',
  description: 'FHIR R4 REST endpoint: create, update, transaction/batch, metadata',
  settings: fhirHttpInSettings,
  module: import.meta.url,
  create(settings, ctx) {
    let server: http.Server | undefined;
    let port = settings.port;
    let received = 0;
    let refused = 0;
    const started = new Date().toISOString();
    const expectedAuth = bearerDigest(settings.bearerToken);
    const base = settings.basePath.replace(/\/+$/, '');
    const accepted = new Set(settings.resourceTypes);

    const typeAllowed = (type: string) => accepted.size === 0 || accepted.has(type);

    async function readBody(req: http.IncomingMessage): Promise<Uint8Array> {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of req as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > settings.maxBodyBytes) {
          req.resume();
          throw reject(413, 'too-costly', `body larger than ${settings.maxBodyBytes} bytes`);
        }
        chunks.push(chunk);
      }
      if (size === 0) throw reject(400, 'required', 'empty body');
      return new Uint8Array(Buffer.concat(chunks));
    }

    /** Refuse a resource that does not validate: 422 with the R4 issues, located by FHIRPath. */
    function validate(resource: Resource) {
      const issues = validateFhir(resource);
      if (hasErrors(issues)) throw new FhirReject(422, issues.filter((i) => i.severity === 'error'), 'invalid');
    }

    function checkType(type: string, where = '') {
      if (!typeAllowed(type)) throw reject(400, 'not-supported', `resource type ${type} is not accepted here (accepted: ${settings.resourceTypes.join(', ')})`, 'unsupported_type', where);
    }

    /** The entries of a transaction/batch Bundle: checked, each given its id and answer. */
    function bundleOutcomes(bundle: Json): Outcome[] {
      const type = bundle['type'];
      if (type !== 'transaction' && type !== 'batch') throw reject(400, 'not-supported', `POST [base] takes a transaction or batch Bundle, not a ${String(type)} Bundle`, 'unsupported_bundle', 'Bundle.type');
      if (!settings.interactions[type]) throw reject(400, 'not-supported', `${type} is not accepted here`, 'unsupported_interaction', 'Bundle.type');
      const entries = (bundle['entry'] as Json[] | undefined) ?? [];
      return entries.map((entry, i) => {
        const where = `Bundle.entry[${i}]`;
        const request = (entry['request'] ?? {}) as Json;
        const resource = (entry['resource'] ?? {}) as Json;
        const rtype = String(resource['resourceType'] ?? '');
        checkType(rtype, `${where}.resource`);
        const method = String(request['method'] ?? '');
        const [urlType, urlId] = String(request['url'] ?? '').split('?')[0].split('/');
        if (method !== 'POST' && method !== 'PUT') throw reject(400, 'not-supported', `${method} entries are not accepted (POST and PUT are)`, 'unsupported_interaction', `${where}.request.method`);
        if (urlType !== rtype) throw reject(400, 'invalid', `request.url names ${urlType}, the resource is a ${rtype}`, 'invalid', `${where}.request.url`);
        // PUT Type/id updates that id; a POST, or a conditional PUT (Type?identifier=…), gets a new one.
        if (method === 'PUT' && urlId) return { status: 200, type: rtype, id: urlId };
        return { status: 201, type: rtype, id: randomUUID() };
      });
    }

    async function store(raw: Uint8Array, req: http.IncomingMessage, messageType: string, props: Record<string, unknown>): Promise<string> {
      const upstream = req.headers['x-correlation-id'];
      const envelope = MessageEnvelope.create({
        raw,
        contentType: CONTENT_TYPES.fhirJson,
        source: ctx.itemName,
        messageType,
        // A message sent by another HIE (fhir.http.out) keeps its correlation id: the traces link.
        ...(typeof upstream === 'string' && upstream ? { correlationId: upstream.slice(0, 200) } : {}),
      });
      const upstreamId = req.headers['x-message-id'];
      Object.assign(envelope.header.customProperties, props, typeof upstreamId === 'string' && upstreamId ? { upstreamMessageId: upstreamId.slice(0, 200) } : {});
      const result = await ctx.submit(envelope, { wait: ctx.hasStore ? 'stored' : 'queued' });
      received++;
      return result.messageId;
    }

    async function handle(req: http.IncomingMessage, res: http.ServerResponse) {
      const url = new URL(req.url ?? '/', 'http://x');
      const remote = { remoteAddress: req.socket.remoteAddress ?? '', path: url.pathname };
      if (url.pathname !== base && !url.pathname.startsWith(`${base}/`)) throw reject(404, 'not-found', `not a FHIR endpoint here (the base is ${base})`);
      if (expectedAuth && !bearerMatches(req.headers.authorization, expectedAuth)) throw reject(401, 'login', 'missing or wrong bearer token');
      if (!acceptsFhirJson(req.headers.accept, url.searchParams.get('_format'))) throw reject(406, 'not-supported', 'this endpoint answers in application/fhir+json only');
      const parts = url.pathname.slice(base.length).split('/').filter(Boolean);
      const origin = `${server instanceof https.Server ? 'https' : 'http'}://${req.headers.host ?? `127.0.0.1:${port}`}${base}`;

      if (req.method === 'GET' && parts.length === 1 && parts[0] === 'metadata') {
        return send(res, 200, capabilityStatement(settings, { name: ctx.itemName, url: origin, date: started }));
      }
      const create = req.method === 'POST' && parts.length === 1;
      const update = req.method === 'PUT' && parts.length === 2;
      const bundle = req.method === 'POST' && parts.length === 0;
      if (!create && !update && !bundle) throw reject(405, 'not-supported', `${req.method} ${url.pathname} is not supported (POST [base]/[type], PUT [base]/[type]/[id], POST [base], GET [base]/metadata)`);
      if (create && !settings.interactions.create) throw reject(405, 'not-supported', 'create is not accepted here');
      if (update && !settings.interactions.update) throw reject(405, 'not-supported', 'update is not accepted here');
      const contentType = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
      if (!JSON_TYPES.has(contentType)) {
        req.resume();
        throw reject(415, 'not-supported', `send application/fhir+json (got ${contentType || 'no Content-Type'})`);
      }

      const raw = await readBody(req);
      try {
        let resource: Resource;
        try {
          resource = parseFhirJson(raw);
        } catch (e) {
          throw reject(400, 'structure', ensureError(e).message, 'not_fhir');
        }
        if (bundle) {
          if (resource.resourceType !== 'Bundle') throw reject(400, 'invalid', `POST [base] takes a Bundle, not a ${resource.resourceType}`, 'invalid', 'resourceType');
          const outcomes = bundleOutcomes(resource as unknown as Json);
          validate(resource);
          const type = String((resource as unknown as Json)['type']);
          const messageId = await store(raw, req, `Bundle/${type}`, { fhirInteraction: type, fhirIds: outcomes.map((o) => `${o.type}/${o.id}`) });
          const now = new Date().toISOString();
          return send(
            res,
            200,
            {
              resourceType: 'Bundle',
              type: `${type}-response`,
              entry: outcomes.map((o) => ({ response: { status: STATUS_TEXT[o.status], location: `${o.type}/${o.id}/_history/1`, etag: 'W/"1"', lastModified: now } })),
            },
            { 'x-message-id': messageId },
          );
        }
        const [type, id] = parts;
        if (resource.resourceType !== type) throw reject(400, 'invalid', `the URL names ${type}, the body is a ${resource.resourceType}`, 'invalid', 'resourceType');
        checkType(type);
        if (update && resource.id !== id) throw reject(400, 'invalid', `the body's id (${resource.id ?? 'none'}) must be the URL's (${id})`, 'invalid', `${type}.id`);
        validate(resource);
        const fhirId = update ? id : randomUUID();
        const messageId = await store(raw, req, type, { fhirInteraction: update ? 'update' : 'create', fhirId });
        const lastUpdated = new Date().toISOString();
        const headers = { location: `${origin}/${type}/${fhirId}/_history/1`, etag: 'W/"1"', 'last-modified': new Date(lastUpdated).toUTCString(), 'x-message-id': messageId };
        const prefer = String(req.headers.prefer ?? '');
        if (prefer.includes('return=minimal')) return send(res, update ? 200 : 201, undefined, headers);
        if (prefer.includes('return=OperationOutcome')) return send(res, update ? 200 : 201, toOperationOutcome([]), headers);
        return send(res, update ? 200 : 201, { ...resource, id: fhirId, meta: { ...resource.meta, versionId: '1', lastUpdated } }, headers);
      } catch (e) {
        if (e instanceof FhirReject && e.refusal) {
          refused++;
          await ctx.refuse(raw, { reason: e.refusal, error: e.message, contentType: CONTENT_TYPES.fhirJson, maxBytes: settings.refusedMaxBytes, detail: remote });
        }
        throw e;
      }
    }

    function fail(res: http.ServerResponse, e: unknown) {
      if (res.headersSent) return;
      if (e instanceof FhirReject) return send(res, e.status, toOperationOutcome(e.issues));
      const err = ensureError(e);
      // A downstream refusal (user) or a store/queue failure (operational: try again later).
      const user = kindOf(err) === 'user';
      if (!user && codeOf(err) === UNEXPECTED_ERROR_CODE) ctx.log.error({ err }, 'fhir.http.in request failed');
      send(res, user ? 422 : 503, toOperationOutcome([{ severity: 'error', code: user ? 'processing' : 'transient', path: '', message: user ? err.message : 'not stored: try again later' }]));
    }

    return {
      async onStart() {
        // Before it listens: the first request must not wait seconds for the R4 definitions.
        warmFhirR4();
        const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
          handle(req, res).catch((e: unknown) => fail(res, e));
        };
        if (settings.tls.enabled) {
          const pem = loadTls(settings.tls, ctx.policy, { needCert: true });
          server = https.createServer({ ...pem, requestCert: settings.tls.requireClientCert, rejectUnauthorized: settings.tls.requireClientCert && settings.tls.rejectUnauthorized }, onRequest);
        } else {
          server = http.createServer(onRequest);
        }
        await new Promise<void>((resolve, reject) => {
          server!.once('error', reject);
          server!.listen(settings.port, settings.host, () => resolve());
        });
        port = (server.address() as AddressInfo).port;
        ctx.log.info({ port, basePath: base, tls: settings.tls.enabled }, 'FHIR endpoint ready');
      },
      async onStop() {
        const s = server;
        server = undefined;
        if (s) await new Promise<void>((r) => s.close(() => r()));
      },
      info() {
        return { port, basePath: base, received, refused };
      },
    };
  },
});
