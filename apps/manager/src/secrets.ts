/**
 * Secret settings at rest and through the API (DESIGN.md: "Secret settings are write-only and
 * encrypted at rest").
 *
 * - Stored: each secret value (a field marked `secret` in its item type's schema) is replaced
 *   in the stored spec by the string `hie:enc:v1:<iv>:<tag>:<ciphertext>` (AES-256-GCM, base64).
 *   A string, so the stored spec still matches its schema (re-checked at deploy). The additional
 *   data binds each ciphertext to its place (project, item, setting path): copied elsewhere —
 *   another field, item or project — it does not decrypt, so it cannot be moved to where it
 *   would be sent out.
 * - Read: the API shows `••• set` ({@link SECRET_PLACEHOLDER}) instead; the ciphertext never
 *   leaves the manager either.
 * - Written: `••• set` sent back means "keep what is stored at this place"; anything else
 *   replaces it. Versions saved before this existed hold plaintext: read and deployed as they
 *   are, redacted like the rest, encrypted when saved again.
 * - Deployed: {@link revealSecrets} decrypts just before the spec goes to the coordinator.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  builtinItemTypes,
  formatPath,
  HieError,
  mapSecrets,
  SECRET_PLACEHOLDER,
  secretPaths,
  secretPathsOfSchema,
  secretsBoundTo,
  secretsBoundToOfSchema,
  soleReference,
  valueAt,
  type ConfigProblem,
  type SecretLocation,
  type SecretPath,
  type SecretPathLookup,
} from '@hie/config';
import { listItemTypes, type ItemTypeSources } from './item-types.js';

/** The start of every encrypted value. */
export const SEALED_PREFIX = 'hie:enc:v1:';

const KEY_BYTES = 32;
const IV_BYTES = 12;

/** Whether `v` is an encrypted value (as stored). */
export function isSealed(v: unknown): v is string {
  return typeof v === 'string' && v.startsWith(SEALED_PREFIX);
}

/** AES-256-GCM with one key: seals strings to `hie:enc:v1:…`, opens them again. */
export class SecretBox {
  readonly #key: Buffer;

  constructor(key: Uint8Array) {
    if (key.length !== KEY_BYTES) throw new Error(`a secret key must be ${KEY_BYTES} bytes, not ${key.length}`);
    this.#key = Buffer.from(key);
  }

  /** A box with a new random key: for tests and processes that store nothing across restarts. */
  static random(): SecretBox {
    return new SecretBox(randomBytes(KEY_BYTES));
  }

  /** Encrypts `plain`; `aad` (where the value sits) must be given again to open it. */
  seal(plain: string, aad: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const ct = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return `${SEALED_PREFIX}${iv.toString('base64')}:${cipher.getAuthTag().toString('base64')}:${ct.toString('base64')}`;
  }

  /** The plaintext, or undefined when `sealed` is malformed, was sealed elsewhere or with another key. */
  open(sealed: string, aad: string): string | undefined {
    if (!isSealed(sealed)) return undefined;
    const parts = sealed.slice(SEALED_PREFIX.length).split(':');
    if (parts.length !== 3) return undefined;
    try {
      const [iv, tag, ct] = parts.map((p) => Buffer.from(p, 'base64')) as [Buffer, Buffer, Buffer];
      if (iv.length !== IV_BYTES || tag.length !== 16) return undefined;
      const decipher = createDecipheriv('aes-256-gcm', this.#key, iv);
      decipher.setAAD(Buffer.from(aad, 'utf8'));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(ct), decipher.final()]).toString('utf8');
    } catch {
      return undefined;
    }
  }
}

/**
 * A 32-byte key from text: 64 hex digits or base64 (standard or url-safe) of 32 bytes.
 * @throws Error that does not echo the text (it is a key).
 */
export function parseSecretKey(text: string): Buffer {
  const t = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(t)) return Buffer.from(t, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(t)) {
    const key = Buffer.from(t, t.includes('-') || t.includes('_') ? 'base64url' : 'base64');
    if (key.length === KEY_BYTES) return key;
  }
  throw new Error(`HIE_SECRET_KEY must be ${KEY_BYTES} bytes as 64 hex digits or base64 (e.g. \`openssl rand -base64 32\`)`);
}

/** Where {@link loadSecretKey} found its key. */
export interface LoadedSecretKey {
  key: Buffer;
  source: 'env' | 'file' | 'generated';
  /** The key file, when it came from (or went to) one. */
  file?: string;
}

/**
 * The key secret settings are encrypted with: `HIE_SECRET_KEY` when set; else
 * `<dataDir>/secret.key`, generated (mode 0600) on the first start. Every manager process of a
 * cluster needs the same key: set `HIE_SECRET_KEY` there.
 * @throws Error when the variable or the file does not hold a valid key.
 */
export function loadSecretKey(opts: { key?: string; dataDir: string }): LoadedSecretKey {
  if (opts.key !== undefined) return { key: parseSecretKey(opts.key), source: 'env' };
  const file = path.resolve(opts.dataDir, 'secret.key');
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const fresh = randomBytes(KEY_BYTES);
  try {
    // `wx`: never overwrite a key another process wrote meanwhile (that would orphan its secrets).
    writeFileSync(file, `${fresh.toString('base64')}\n`, { flag: 'wx', mode: 0o600 });
    return { key: fresh, source: 'generated', file };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  try {
    return { key: parseSecretKey(readFileSync(file, 'utf8')), source: 'file', file };
  } catch (e) {
    throw new Error(`${file}: not a valid secret key (${(e as Error).message})`, { cause: e });
  }
}

// ── specs ────────────────────────────────────────────────────────────────────────────────────

interface SecretRules {
  paths: SecretPath[];
  boundTo: string[];
}

const builtinRules = new Map<string, SecretRules>(
  builtinItemTypes.map((d) => [d.type, { paths: secretPathsOfSchema(d.settings), boundTo: secretsBoundToOfSchema(d.settings) }]),
);

/** Where each item type's secrets are, and the settings they are bound to (see `bindSecretsTo`). */
export type SecretLookup = SecretPathLookup & { boundTo?: (type: string) => readonly string[] };

/**
 * Which settings of each item type are secret: the built-ins' zod schemas, and the JSON Schema
 * engine nodes report for plugin types (their `"secret": true` and `"secretsBoundTo"` marks).
 */
export async function secretLookup(sources: ItemTypeSources): Promise<SecretLookup> {
  const rules = new Map(builtinRules);
  for (const t of await listItemTypes(sources)) {
    if (!rules.has(t.type)) rules.set(t.type, { paths: secretPaths(t.settingsSchema), boundTo: secretsBoundTo(t.settingsSchema) });
  }
  return Object.assign((type: string) => rules.get(type)?.paths, { boundTo: (type: string) => rules.get(type)?.boundTo ?? [] });
}

/** The place a secret is bound to (the AES-GCM additional data). */
function placeOf(projectId: string, item: string, settingsPath: readonly (string | number)[]): string {
  return `${projectId}\u0000${item}\u0000${formatPath(settingsPath)}`;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Every string inside `v` with its path. */
function eachString(v: unknown, path: (string | number)[], fn: (s: string, path: (string | number)[]) => void): void {
  if (typeof v === 'string') fn(v, path);
  else if (Array.isArray(v)) v.forEach((x, i) => eachString(x, [...path, i], fn));
  else if (isRecord(v)) for (const [k, x] of Object.entries(v)) eachString(x, [...path, k], fn);
}

/** Every string inside each item's settings, with the item's name (schema-agnostic). */
function eachSettingsString(spec: unknown, fn: (s: string, item: string, settingsPath: (string | number)[], specPath: (string | number)[]) => void): void {
  const items = isRecord(spec) && Array.isArray(spec['items']) ? spec['items'] : [];
  items.forEach((item: unknown, index) => {
    if (!isRecord(item)) return;
    const name = typeof item['name'] === 'string' ? item['name'] : '';
    eachString(item['settings'], [], (s, p) => fn(s, name, p, ['items', index, 'settings', ...p]));
  });
}

/** The item named `name` in `spec`. */
function itemNamed(spec: unknown, name: string): Record<string, unknown> | undefined {
  const items = isRecord(spec) && Array.isArray(spec['items']) ? spec['items'] : [];
  const item: unknown = items.find((i: unknown) => isRecord(i) && i['name'] === name);
  return isRecord(item) ? item : undefined;
}

/** The stored value of the secret at `at` in `spec`: same item name, same settings path. */
function storedAt(spec: unknown, at: SecretLocation): unknown {
  return valueAt(itemNamed(spec, at.item)?.['settings'], at.path);
}

/**
 * Why the stored secrets of item `at.item` may not be kept in `next`: its type changed, or a
 * setting they are bound to (where they are sent) did.
 */
function keepRefused(next: unknown, current: unknown, at: SecretLocation, boundTo: SecretLookup['boundTo']): string | undefined {
  const now = isRecord(next) && Array.isArray(next['items']) ? (next['items'][at.index] as unknown) : undefined;
  const before = itemNamed(current, at.item);
  if (!isRecord(now) || !before) return undefined;
  if (now['type'] !== before['type']) return `item "${at.item}" changed type`;
  const type = String(now['type']);
  const changed = (boundTo?.(type) ?? []).find((f) => JSON.stringify(valueAt(now['settings'], [f])) !== JSON.stringify(valueAt(before['settings'], [f])));
  return changed === undefined ? undefined : `${changed} changed`;
}

function problem(path: (string | number)[], message: string): ConfigProblem {
  return { path, pathText: formatPath(path), code: 'secret', message };
}

function invalid(problems: ConfigProblem[], mapProblems?: (p: ConfigProblem[]) => ConfigProblem[]): HieError {
  const mapped = mapProblems ? mapProblems(problems) : problems;
  const first = mapped[0]!;
  return new HieError('config.invalid', `invalid production (${mapped.length} problem${mapped.length === 1 ? '' : 's'}): ${first.pathText}: ${first.message}`, {
    kind: 'user',
    details: { problems: mapped },
  });
}

/** What {@link resolveSecrets} answers. */
export interface ResolvedSecrets<T> {
  /** The spec to store once {@link sealSecrets} has encrypted its new values. */
  resolved: T;
  /** The same spec with every secret in plaintext: what is validated. */
  plain: T;
}

/** Options of {@link resolveSecrets}. */
export interface ResolveOptions {
  /** The project the spec is saved to; undefined for a project not created yet. */
  projectId: string | undefined;
  /** The project's current spec (as stored); placeholders take their value from it. */
  current: unknown;
  secretsOf: SecretLookup;
  mapProblems?: (p: ConfigProblem[]) => ConfigProblem[];
}

/**
 * Resolves what a caller sent for the secret settings of a spec about to be saved:
 * `••• set` takes the value stored at the same place (same item name, same setting); an
 * encrypted value is accepted only where it was sealed (a rollback to an older version);
 * anything else is a new value. Every problem is reported at once, with its path.
 * @throws HieError `config.invalid` (→ BAD_REQUEST): `••• set` where nothing is stored (an
 *   import of an export, a renamed item) or where the item's type or a setting its secrets are
 *   bound to changed (`http.out`'s `url`), an encrypted value from elsewhere.
 * @throws HieError `secrets.unavailable` when a stored secret does not decrypt (wrong key).
 */
export function resolveSecrets<T>(box: SecretBox, spec: T, opts: ResolveOptions): ResolvedSecrets<T> {
  const problems: ConfigProblem[] = [];
  const secretPlaces = new Set<string>();
  const open = (v: string, at: SecretLocation): string | undefined =>
    opts.projectId === undefined ? undefined : box.open(v, placeOf(opts.projectId, at.item, at.path));
  const resolved = mapSecrets(spec, opts.secretsOf, (v, at) => {
    secretPlaces.add(formatPath(at.specPath));
    if (v !== SECRET_PLACEHOLDER) {
      if (isSealed(v) && open(v, at) === undefined) problems.push(problem(at.specPath, 'an encrypted value that does not belong here: enter the secret itself'));
      return v;
    }
    const stored = storedAt(opts.current, at);
    if (typeof stored !== 'string' || stored === '' || stored === SECRET_PLACEHOLDER) {
      problems.push(problem(at.specPath, `"${SECRET_PLACEHOLDER}" keeps a stored secret, but none is stored for item "${at.item}" here: enter the value`));
      return v;
    }
    const refused = keepRefused(spec, opts.current, at, opts.secretsOf.boundTo);
    if (refused === undefined) return stored;
    problems.push(problem(at.specPath, `"${SECRET_PLACEHOLDER}" cannot keep the stored secret: ${refused}, so enter the secret again`));
    return v;
  });
  // Encrypted-looking text outside a secret setting could only fail at deploy: refuse it now.
  eachSettingsString(spec, (s, _item, _p, specPath) => {
    if (isSealed(s) && !secretPlaces.has(formatPath(specPath))) problems.push(problem(specPath, `must not start with "${SEALED_PREFIX}"`));
  });
  if (problems.length > 0) throw invalid(problems, opts.mapProblems);
  const plain = opts.projectId === undefined ? resolved : revealSecrets(resolved, box, opts.projectId);
  return { resolved, plain };
}

/** `spec` with every plaintext secret encrypted for its place in project `projectId`. */
export function sealSecrets<T>(box: SecretBox, spec: T, projectId: string, secretsOf: SecretPathLookup): T {
  return mapSecrets(spec, secretsOf, (v, at) => (isOpenValue(v) || isSealed(v) ? v : box.seal(v, placeOf(projectId, at.item, at.path))));
}

/**
 * A secret setting's value that is no secret: empty, or a reference to an environment's
 * variable (`${secret:LAB_TOKEN}`, resolved at deploy): stored and shown as it is.
 */
function isOpenValue(v: string): boolean {
  return v === '' || soleReference(v) !== undefined;
}

/**
 * `spec` with its encrypted values decrypted: what the engine runs. Plaintext (versions saved
 * before encryption) passes through.
 * @throws HieError `secrets.unavailable` when a value does not decrypt (no box, or the key is
 *   not the one it was saved with), naming the setting, never the value.
 */
export function revealSecrets<T>(spec: T, box: SecretBox | undefined, projectId: string): T {
  if (!isRecord(spec) || !Array.isArray(spec['items'])) return spec;
  let found = false;
  eachSettingsString(spec, (s) => (found ||= isSealed(s)));
  if (!found) return spec;
  const copy = structuredClone(spec) as Record<string, unknown> & { items: unknown[] };
  eachSettingsString(copy, (s, item, settingsPath, specPath) => {
    if (!isSealed(s)) return;
    const plain = box?.open(s, placeOf(projectId, item, settingsPath));
    if (plain === undefined) {
      throw new HieError('secrets.unavailable', `cannot decrypt the secret setting ${formatPath(specPath)}: HIE_SECRET_KEY is not the key it was saved with`, {
        kind: 'operational',
      });
    }
    const parent = valueAt(copy, specPath.slice(0, -1)) as Record<string | number, unknown>;
    parent[specPath[specPath.length - 1]!] = plain;
  });
  return copy as T;
}

/**
 * `spec` as the API shows it: each set secret as `••• set`, and — whatever the schema says
 * now — no encrypted value either.
 */
export function redactSpec<T>(spec: T, secretsOf: SecretPathLookup): T {
  return hideSealed(mapSecrets(spec, secretsOf, (v) => (isOpenValue(v) ? v : SECRET_PLACEHOLDER)));
}

/** `spec` with any encrypted value left in item settings shown as `••• set`. */
function hideSealed<T>(spec: T): T {
  let sealed = false;
  eachSettingsString(spec, (s) => (sealed ||= isSealed(s)));
  if (!sealed) return spec;
  const copy = structuredClone(spec) as Record<string, unknown>;
  eachSettingsString(copy, (s, _item, _p, specPath) => {
    if (!isSealed(s)) return;
    const parent = valueAt(copy, specPath.slice(0, -1)) as Record<string | number, unknown>;
    parent[specPath[specPath.length - 1]!] = SECRET_PLACEHOLDER;
  });
  return copy as T;
}

/** What a diff shows for a secret that is set in both versions but not to the same value. */
export const SECRET_CHANGED = '••• changed';

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/**
 * Two specs of project `projectId` ready to diff: each set secret shown as `••• set`, or in
 * `to` as `••• changed` when its value differs from `from`'s at the same place. Values are
 * compared decrypted (two encryptions of one value are equal), in constant time.
 */
export function maskForDiff<A, B>(box: SecretBox, projectId: string, from: A, to: B, secretsOf: SecretPathLookup): [A, B] {
  const plainOf = (v: string, at: SecretLocation) => (isSealed(v) ? (box.open(v, placeOf(projectId, at.item, at.path)) ?? v) : v);
  const mask = (v: string) => (v === '' ? v : SECRET_PLACEHOLDER);
  const maskedTo = mapSecrets(to, secretsOf, (v, at) => {
    if (v === '') return v;
    const before = storedAt(from, at);
    if (typeof before !== 'string' || before === '') return SECRET_PLACEHOLDER;
    return timingSafeEqual(digest(plainOf(v, at)), digest(plainOf(before, at))) ? SECRET_PLACEHOLDER : SECRET_CHANGED;
  });
  return [hideSealed(mapSecrets(from, secretsOf, mask)), hideSealed(maskedTo)];
}
