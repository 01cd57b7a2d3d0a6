import type { JsonValue } from './header';

/** What a {@link MessageBody} is built from. */
export interface MessageBodyInit {
  /** The payload, raw-first: the bytes as received. */
  raw: Uint8Array;
  /** Name of the body's schema: `'ADT_A01'`, `'Patient'`. @defaultValue `''` */
  schemaName?: string;
  /** Namespace of that schema: `'urn:hl7-org:v2'`, `'http://hl7.org/fhir'`. @defaultValue `''` */
  schemaNamespace?: string;
  /** Result of the last `validate()`. @defaultValue false */
  validated?: boolean;
  /** Errors found by the last `validate()`. @defaultValue `[]` */
  validationErrors?: string[];
  /** Free-form metadata about the body. @defaultValue `{}` */
  customProperties?: Record<string, JsonValue>;
}

/** A cached parse result, valid for one content type and encoding. */
interface ParseCache {
  contentType: string;
  encoding: string;
  value: unknown;
}

let readCache: (body: MessageBody) => ParseCache | undefined;
let writeCache: (body: MessageBody, cache: ParseCache) => void;

/**
 * The envelope body: raw bytes first, parsed lazily and cached. The parse cache is private;
 * assigning `raw` drops it and resets the validation state. (Mutating the bytes of `raw` in
 * place is not seen: call {@link MessageBody.invalidate} after doing that.)
 */
export class MessageBody {
  /** Name of the body's schema: `'ADT_A01'`, `'Patient'`. */
  schemaName: string;
  /** Namespace of that schema: `'urn:hl7-org:v2'`, `'http://hl7.org/fhir'`. */
  schemaNamespace: string;
  /** True when the last `validate()` found no errors. */
  validated: boolean;
  /** Errors found by the last `validate()`. */
  validationErrors: string[];
  /** Free-form metadata about the body. */
  customProperties: Record<string, JsonValue>;

  #raw: Uint8Array;
  #cache: ParseCache | undefined;

  static {
    readCache = (body) => body.#cache;
    writeCache = (body, cache) => {
      body.#cache = cache;
    };
  }

  constructor(init: MessageBodyInit) {
    this.#raw = init.raw;
    this.schemaName = init.schemaName ?? '';
    this.schemaNamespace = init.schemaNamespace ?? '';
    this.validated = init.validated ?? false;
    this.validationErrors = init.validationErrors ?? [];
    this.customProperties = init.customProperties ?? {};
  }

  /** The payload bytes as received. */
  get raw(): Uint8Array {
    return this.#raw;
  }

  /** Replaces the payload: drops the parse cache and resets `validated`/`validationErrors`. */
  set raw(value: Uint8Array) {
    this.#raw = value;
    this.#cache = undefined;
    this.validated = false;
    this.validationErrors = [];
  }

  /** Payload size in bytes. */
  get size(): number {
    return this.#raw.length;
  }

  /** True when a parse result is cached. */
  get isParsed(): boolean {
    return this.#cache !== undefined;
  }

  /** Drops the cached parse result (after mutating `raw` in place). */
  invalidate(): void {
    this.#cache = undefined;
  }
}

/** @internal The cached parse for this content type and encoding, if any. */
export function cachedParse(body: MessageBody, contentType: string, encoding: string): { value: unknown } | undefined {
  const cache = readCache(body);
  return cache !== undefined && cache.contentType === contentType && cache.encoding === encoding ? cache : undefined;
}

/** @internal Caches a parse result. */
export function storeParse(body: MessageBody, contentType: string, encoding: string, value: unknown): void {
  writeCache(body, { contentType, encoding, value });
}
