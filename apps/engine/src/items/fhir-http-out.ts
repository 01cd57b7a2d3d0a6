import { context, propagation } from '@opentelemetry/api';
import { fhirHttpOutSettings, redactUrl, type FhirHttpOutSettings } from '@hie/config';
import { CONTENT_TYPES, MessageEnvelope } from '@hie/envelope';
import { evaluateFhirPath, isTypedBundle, parseFhirJson, type Resource } from '@hie/fhir';
import { defineItemType } from '../item-type';
import { EngineError, ensureError } from '../runtime/errors';
import { urlTarget } from '@hie/policy';
import { egressProblem } from './hl7-mllp-out';
import { exchange, type HttpAnswer } from './http-out';
import { SmartTokenSource } from './smart-auth';

/** Most OperationOutcome issues kept in a trace event. */
const MAX_OUTCOME_LINES = 10;

type Json = Record<string, unknown>;

/** What one message becomes on the wire. */
interface FhirRequest {
  method: 'POST' | 'PUT';
  url: string;
  interaction: string;
  ifNoneExist?: string;
}

function trimBase(url: string): string {
  return url.replace(/\/+$/, '');
}

/**
 * `identifier=system|value` of the identifier with the given system (any, when empty) for
 * `If-None-Exist`, or the FHIRPath setting's result (one string).
 */
function ifNoneExistOf(resource: Resource, rule: FhirHttpOutSettings['ifNoneExist']): string {
  if (rule.fhirpath) {
    let out: unknown[];
    try {
      out = evaluateFhirPath(resource, rule.fhirpath);
    } catch (e) {
      throw new EngineError('fhir.if_none_exist', `the If-None-Exist FHIRPath failed: ${ensureError(e).message}`, 'user');
    }
    if (out.length !== 1 || typeof out[0] !== 'string' || out[0] === '') {
      throw new EngineError('fhir.if_none_exist', `the If-None-Exist FHIRPath must give one non-empty string (got ${out.length} values)`, 'user');
    }
    return out[0];
  }
  const ids = ('identifier' in resource && Array.isArray(resource.identifier) ? resource.identifier : []) as Json[];
  const id = ids.find((i) => typeof i['value'] === 'string' && (!rule.identifierSystem || i['system'] === rule.identifierSystem));
  if (!id) {
    const which = rule.identifierSystem ? `with system ${rule.identifierSystem}` : 'with a value';
    throw new EngineError('fhir.if_none_exist', `conditional create: the ${resource.resourceType} has no identifier ${which}`, 'user');
  }
  const system = typeof id['system'] === 'string' ? `${encodeURIComponent(id['system'])}|` : '';
  return `identifier=${system}${encodeURIComponent(id['value'] as string)}`;
}

/** Method and URL for a resource per the `interaction` setting (`auto` decides by its shape). */
export function fhirRequestFor(resource: Resource, settings: Pick<FhirHttpOutSettings, 'baseUrl' | 'interaction' | 'ifNoneExist'>): FhirRequest {
  const base = trimBase(settings.baseUrl);
  const isBatch = isTypedBundle(resource, 'transaction', 'batch');
  let interaction: string = settings.interaction;
  if (interaction === 'auto') interaction = isBatch ? 'transaction' : resource.id ? 'update' : 'create';
  const type = encodeURIComponent(resource.resourceType);
  switch (interaction) {
    case 'transaction':
      if (!isBatch) throw new EngineError('fhir.not_a_bundle', `a transaction needs a transaction or batch Bundle, not a ${resource.resourceType}`, 'user');
      return { method: 'POST', url: base, interaction: resource.type };
    case 'update':
      if (!resource.id) throw new EngineError('fhir.no_id', `an update needs the ${resource.resourceType}'s id`, 'user');
      return { method: 'PUT', url: `${base}/${type}/${encodeURIComponent(resource.id)}`, interaction };
    case 'conditional-create':
      return { method: 'POST', url: `${base}/${type}`, interaction, ifNoneExist: ifNoneExistOf(resource, settings.ifNoneExist) };
    default:
      return { method: 'POST', url: `${base}/${type}`, interaction: 'create' };
  }
}

/** `severity code: text @ path` lines of an OperationOutcome body, or `[]` when the body is none. */
export function outcomeLines(body: Uint8Array): string[] {
  let parsed: Json;
  try {
    parsed = JSON.parse(Buffer.from(body).toString('utf8')) as Json;
  } catch {
    return [];
  }
  if (parsed['resourceType'] !== 'OperationOutcome' || !Array.isArray(parsed['issue'])) return [];
  return (parsed['issue'] as Json[]).slice(0, MAX_OUTCOME_LINES).map((i) => {
    const text = (i['details'] as Json | undefined)?.['text'] ?? i['diagnostics'] ?? '';
    const where = (i['expression'] as string[] | undefined)?.[0] ?? (i['location'] as string[] | undefined)?.[0];
    return `${String(i['severity'])} ${String(i['code'])}${text ? `: ${String(text)}` : ''}${where ? ` @ ${where}` : ''}`;
  });
}

/** The statuses of a transaction/batch response's entries (`201 Created`, `200 OK` …). */
function entryStatuses(body: Uint8Array): string[] {
  try {
    const b = JSON.parse(Buffer.from(body).toString('utf8')) as Json;
    if (b['resourceType'] !== 'Bundle' || !Array.isArray(b['entry'])) return [];
    return (b['entry'] as Json[]).map((e) => String((e['response'] as Json | undefined)?.['status'] ?? ''));
  } catch {
    return [];
  }
}

/**
 * `fhir.http.out`: a FHIR R4 client. Each message (a resource or a transaction/batch Bundle) is
 * created, updated, created conditionally (`If-None-Exist` from the resource's identifier or a
 * FHIRPath) or POSTed as a transaction to the server's base. Delivery is http.out's
 * ({@link exchange}): the egress policy, no redirects, 5xx / 408 / 429 / connection failures
 * retried, other 4xx failing visibly. The server's OperationOutcome goes into the trace (the
 * event's `outcome`), on success and on failure.
 *
 * Auth: a bearer token, or SMART Backend Services (a JWT assertion signed RS384/ES384 with the
 * private key, exchanged at the token URL for an access token that is cached until it expires;
 * a 401 drops it). Every request carries the W3C `traceparent` of the active OpenTelemetry
 * context (none without an SDK), `X-Message-Id` and `X-Correlation-Id`, so a receiving HIE links
 * the message to this one's trace.
 */
export const fhirHttpOut = defineItemType({
  type: 'fhir.http.out',
  version: 1,
  kind: 'operation',
  description: 'FHIR client: create, update, conditional create, transaction',
  settings: fhirHttpOutSettings,
  module: import.meta.url,
  dryRun: true,
  create(settings, ctx) {
    let sent = 0;
    const smart =
      settings.auth === 'smart-backend'
        ? new SmartTokenSource(
            { tokenUrl: settings.tokenUrl, clientId: settings.clientId, privateKey: settings.privateKey, algorithm: settings.algorithm, keyId: settings.keyId, scope: settings.scope, timeoutMs: settings.timeoutMs },
            ctx.policy,
          )
        : undefined;

    async function authorization(): Promise<Record<string, string>> {
      if (settings.auth === 'bearer') return { authorization: `Bearer ${settings.bearerToken}` };
      if (smart) return { authorization: `Bearer ${await smart.token()}` };
      return {};
    }

    return {
      async onMessage(envelope, mctx) {
        // Whatever the content type says, the body must be FHIR JSON (`fhir.parse`, a user error, otherwise).
        const resource = parseFhirJson(envelope.body.raw);
        const req = fhirRequestFor(resource, settings);
        const body = new TextEncoder().encode(JSON.stringify(resource));
        // Sandbox: the request it would make, with the egress verdict; no token fetched, no connection.
        if (ctx.dryRun) {
          const target = urlTarget(req.url);
          const shown = redactUrl(req.url);
          return ctx.dryRun.wouldSend(`${req.method} ${shown}`, body, target ? await egressProblem(target.host, target.port, ctx) : [`only http:// and https:// URLs can be sent to (${shown})`]);
        }
        const headers: Record<string, string> = {
          'content-type': `${CONTENT_TYPES.fhirJson}; charset=utf-8`,
          accept: CONTENT_TYPES.fhirJson,
          'content-length': String(body.byteLength),
          // The id of the message in this HIE's store (its trace): the root of the hop's session.
          'x-message-id': envelope.header.sessionId ?? envelope.header.messageId,
          'x-correlation-id': envelope.header.correlationId,
          ...(req.ifNoneExist ? { 'if-none-exist': req.ifNoneExist } : {}),
          ...(await authorization()),
        };
        propagation.inject(context.active(), headers);
        // Tracing on: the FHIR server continues this message's trace (W3C Trace Context).
        if (mctx.traceparent) headers.traceparent = mctx.traceparent;
        const res: HttpAnswer = await exchange(req.url, { method: req.method, headers, body, timeoutMs: settings.timeoutMs, policy: ctx.policy });
        const outcome = outcomeLines(res.body);
        if (res.status < 200 || res.status >= 300) {
          if (res.status === 401) smart?.invalidate();
          const retry = settings.retryOn.includes(res.status);
          const why = outcome.length > 0 ? `: ${outcome.slice(0, 3).join('; ')}` : '';
          throw new EngineError(`fhir.status_${res.status}`, `${req.interaction} ${req.method} ${redactUrl(req.url)} answered ${res.status}${why}`, retry ? 'operational' : 'user', {
            status: res.status,
            ...(outcome.length > 0 ? { outcome } : {}),
          });
        }
        sent++;
        const statuses = req.interaction === 'transaction' || req.interaction === 'batch' ? entryStatuses(res.body) : [];
        mctx.note({
          interaction: req.interaction,
          status: res.status,
          ...(res.location ? { location: res.location } : {}),
          ...(outcome.length > 0 ? { outcome } : {}),
          ...(statuses.length > 0 ? { entries: statuses } : {}),
        });
        const contentType = (res.contentType ?? CONTENT_TYPES.fhirJson).split(';')[0].trim();
        return MessageEnvelope.create({ raw: res.body, contentType, source: ctx.itemName, correlationId: envelope.header.correlationId });
      },
      info() {
        return { baseUrl: redactUrl(settings.baseUrl), sent, ...(smart ? { tokensFetched: smart.fetched } : {}) };
      },
    };
  },
});
