import { createPrivateKey, randomUUID, sign, type KeyObject } from 'node:crypto';
import type { HostPolicy } from '@hie/policy';
import { redactUrl } from '@hie/config';
import { EngineError } from '../runtime/errors';
import { exchange } from './http-out';

/** What SMART Backend Services needs to get an access token. */
export interface SmartBackendConfig {
  tokenUrl: string;
  clientId: string;
  /** PEM private key: RSA for RS384, EC P-384 for ES384. */
  privateKey: string;
  algorithm: 'RS384' | 'ES384';
  keyId: string;
  scope: string;
  timeoutMs: number;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** Seconds before its expiry that a cached token is no longer used (a request in flight must not carry a dead token). */
const EXPIRY_MARGIN_S = 30;

/**
 * The signed JWT client assertion of SMART Backend Services (RS384 or ES384, node:crypto), valid
 * for five minutes, with a fresh `jti`.
 * @see https://hl7.org/fhir/smart-app-launch/backend-services.html#request-access-token
 */
export function clientAssertion(cfg: Pick<SmartBackendConfig, 'tokenUrl' | 'clientId' | 'algorithm' | 'keyId'>, key: KeyObject, nowS = Math.floor(Date.now() / 1000)): string {
  const header = { alg: cfg.algorithm, typ: 'JWT', ...(cfg.keyId ? { kid: cfg.keyId } : {}) };
  const payload = { iss: cfg.clientId, sub: cfg.clientId, aud: cfg.tokenUrl, exp: nowS + 300, iat: nowS, jti: randomUUID() };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  // ES384: JOSE wants the raw r||s signature (IEEE P1363), not DER.
  const signature = sign('sha384', Buffer.from(input), cfg.algorithm === 'ES384' ? { key, dsaEncoding: 'ieee-p1363' } : key);
  return `${input}.${b64url(signature)}`;
}

/**
 * Access tokens for one client, cached until shortly before they expire. The key is read (and
 * checked against the algorithm) once, at item start: a bad key fails the start with `config.smart_key`.
 */
export class SmartTokenSource {
  private readonly key: KeyObject;
  private cached: { token: string; expiresAt: number } | undefined;
  private pending: Promise<string> | undefined;
  /** Tokens fetched so far (shown in the item's info). */
  fetched = 0;

  constructor(
    private readonly cfg: SmartBackendConfig,
    private readonly policy: HostPolicy,
  ) {
    try {
      this.key = createPrivateKey(cfg.privateKey);
    } catch (e) {
      throw new EngineError('config.smart_key', `the SMART private key is not a usable PEM key: ${(e as Error).message}`, 'user');
    }
    const want = cfg.algorithm === 'RS384' ? 'rsa' : 'ec';
    if (this.key.asymmetricKeyType !== want) {
      throw new EngineError('config.smart_key', `${cfg.algorithm} needs an ${want.toUpperCase()} key, got ${this.key.asymmetricKeyType}`, 'user');
    }
  }

  /** A valid access token: the cached one, or a new one (concurrent callers share one request). */
  async token(): Promise<string> {
    if (this.cached && Date.now() < this.cached.expiresAt) return this.cached.token;
    this.pending ??= this.fetch().finally(() => (this.pending = undefined));
    return this.pending;
  }

  /** Forget the cached token (the server refused it). */
  invalidate(): void {
    this.cached = undefined;
  }

  private async fetch(): Promise<string> {
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      scope: this.cfg.scope,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: clientAssertion(this.cfg, this.key),
    });
    const body = new TextEncoder().encode(form.toString());
    const res = await exchange(this.cfg.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', 'content-length': String(body.byteLength) },
      body,
      timeoutMs: this.cfg.timeoutMs,
      policy: this.policy,
    });
    const text = Buffer.from(res.body).toString('utf8');
    if (res.status !== 200) {
      // The token endpoint's error code (invalid_client …) says why; its body never holds a token then.
      let reason = '';
      try {
        reason = String((JSON.parse(text) as { error?: unknown }).error ?? '');
      } catch {
        /* not JSON */
      }
      const kind = res.status >= 500 || res.status === 429 ? 'operational' : 'user';
      throw new EngineError('fhir.auth', `token endpoint ${redactUrl(this.cfg.tokenUrl)} answered ${res.status}${reason ? ` (${reason})` : ''}`, kind, { status: res.status });
    }
    let parsed: { access_token?: unknown; expires_in?: unknown };
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      throw new EngineError('fhir.auth', `token endpoint ${redactUrl(this.cfg.tokenUrl)} answered 200 without JSON`, 'operational');
    }
    if (typeof parsed.access_token !== 'string' || parsed.access_token === '') {
      throw new EngineError('fhir.auth', `token endpoint ${redactUrl(this.cfg.tokenUrl)} answered without an access_token`, 'operational');
    }
    const lifetime = typeof parsed.expires_in === 'number' ? parsed.expires_in : 300;
    this.cached = { token: parsed.access_token, expiresAt: Date.now() + Math.max(0, lifetime - EXPIRY_MARGIN_S) * 1000 };
    this.fetched++;
    return parsed.access_token;
  }
}
