import { base64Decode, base64Encode, decodeText, encodeText, utf8Encode, type Encoding } from './bytes';
import { decodeEnvelope, encodeEnvelope, type EnvelopeData } from './binary';
import { CONTENT_TYPES, getCodec } from './codecs';
import { EnvelopeError, hasCode } from './envelope-error';
import {
  DEFAULT_PRIORITY,
  cloneJsonRecord,
  isPlainObject,
  readHeader,
  type HeaderLike,
  type JsonValue,
  type MessageHeader,
} from './header';
import { readHl7Header } from './hl7-header';
import { MessageBody, cachedParse, storeParse } from './message-body';
import { uuidv7 } from './uuid';

/** Namespace of HL7 v2 schemas. */
export const HL7_V2_NAMESPACE = 'urn:hl7-org:v2';
/** `bodyClassName` of HL7 v2 bodies. */
export const HL7_V2_BODY_CLASS = 'hl7.v2';

const DEFAULT_BODY_CLASS: Readonly<Record<string, string>> = {
  [CONTENT_TYPES.hl7v2]: HL7_V2_BODY_CLASS,
  [CONTENT_TYPES.fhirJson]: 'fhir.resource',
  [CONTENT_TYPES.json]: 'json',
  [CONTENT_TYPES.xml]: 'xml',
  [CONTENT_TYPES.text]: 'text',
  [CONTENT_TYPES.binary]: 'binary',
};

/** Options of {@link MessageEnvelope.create}. Only `raw` and `source` are required. */
export interface CreateEnvelopeOptions {
  /** The payload: bytes as received, or text encoded per `encoding`. */
  raw: string | Uint8Array;
  /** Name of the item creating the message. */
  source: string;
  /** @defaultValue `''` (routing decides) */
  destination?: string;
  /** @defaultValue `'text/plain'` for a string `raw`, `'application/octet-stream'` for bytes */
  contentType?: string;
  /** @defaultValue `'binary'` for `application/octet-stream`, else `'utf-8'` */
  encoding?: Encoding;
  /** @defaultValue a new UUID v7 */
  messageId?: string;
  /** @defaultValue the messageId */
  correlationId?: string;
  /** @defaultValue `Date.now()` */
  timestamp?: number;
  /** @defaultValue derived from the content type (`'json'`, `'xml'`, `'hl7.v2'`, …), else `''` */
  bodyClassName?: string;
  /** @defaultValue `''` */
  schemaVersion?: string;
  /** 0–9. @defaultValue 5 */
  priority?: number;
  /** Milliseconds to live. @defaultValue undefined (never expires) */
  ttl?: number;
  /** @defaultValue 0 */
  retryCount?: number;
  /** @defaultValue `{}` */
  customProperties?: Record<string, JsonValue>;
  parentId?: string;
  sessionId?: string;
  controlId?: string;
  messageType?: string;
  /** @defaultValue `''` */
  schemaName?: string;
  /** @defaultValue `''` */
  schemaNamespace?: string;
  /** The body's custom properties. @defaultValue `{}` */
  bodyProperties?: Record<string, JsonValue>;
}

/**
 * Options of {@link MessageEnvelope.createHl7}: header fields read from MSH win over nothing
 * but lose to what is given here.
 */
export type CreateHl7Options = Omit<CreateEnvelopeOptions, 'raw' | 'contentType' | 'schemaNamespace'>;

/**
 * Header and body changes for {@link MessageEnvelope.withBody}. `messageId`, `parentId` and
 * `timestamp` of the new envelope are always fresh.
 */
export type EnvelopeChanges = Partial<Omit<MessageHeader, 'messageId' | 'parentId' | 'timestamp'>> & {
  schemaName?: string;
  schemaNamespace?: string;
  bodyProperties?: Record<string, JsonValue>;
};

/** JSON form of an envelope ({@link MessageEnvelope.toJSON}): the raw body in base64. */
export interface MessageEnvelopeJSON {
  header: MessageHeader;
  body: {
    schemaName: string;
    schemaNamespace: string;
    /** Raw body, base64. */
    raw: string;
    validated: boolean;
    validationErrors: string[];
    customProperties: Record<string, JsonValue>;
  };
}

function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === 'object' && e !== null && typeof Reflect.get(e, 'message') === 'string') return String(Reflect.get(e, 'message'));
  return String(e);
}

function toBytes(raw: string | Uint8Array, encoding: Encoding): Uint8Array {
  if (typeof raw !== 'string') return raw;
  try {
    return encodeText(raw, encoding);
  } catch (e) {
    throw new EnvelopeError('envelope.invalid', `raw text is not valid ${encoding}: ${errorMessage(e)}`, { cause: e });
  }
}

/** Copies the optional header fields that are set (absent stays absent, never `undefined`). */
function withOptionals(header: MessageHeader, from: Partial<MessageHeader>): MessageHeader {
  if (from.ttl !== undefined) header.ttl = from.ttl;
  if (from.parentId !== undefined) header.parentId = from.parentId;
  if (from.sessionId !== undefined) header.sessionId = from.sessionId;
  if (from.controlId !== undefined) header.controlId = from.controlId;
  if (from.messageType !== undefined) header.messageType = from.messageType;
  return header;
}

/** A deep copy of a header, field by field (faster than a spread), optional fields absent when unset. */
function copyHeader(h: MessageHeader): MessageHeader {
  return withOptionals(
    {
      messageId: h.messageId,
      correlationId: h.correlationId,
      timestamp: h.timestamp,
      source: h.source,
      destination: h.destination,
      bodyClassName: h.bodyClassName,
      contentType: h.contentType,
      schemaVersion: h.schemaVersion,
      encoding: h.encoding,
      priority: h.priority,
      retryCount: h.retryCount,
      customProperties: cloneJsonRecord(h.customProperties),
    },
    h,
  );
}

/**
 * A message in flight: a header (ids, routing, schema metadata) and a raw-first body, parsed
 * lazily by the codec registered for `header.contentType`. Crosses threads and the bus as
 * bytes ({@link MessageEnvelope.toBytes} / {@link MessageEnvelope.fromBytes}), never as a
 * class instance.
 */
export class MessageEnvelope {
  /** Ids, routing and schema metadata. */
  header: MessageHeader;
  /** The payload. */
  body: MessageBody;

  /** Wraps an existing header and body as they are (no checks: use {@link MessageEnvelope.create} for that). */
  constructor(header: MessageHeader, body: MessageBody) {
    this.header = header;
    this.body = body;
  }

  /**
   * Builds an envelope, filling defaults (a fresh UUID v7 id, `correlationId` = id, now,
   * priority 5, …) and checking every header field.
   *
   * @throws EnvelopeError `envelope.invalid` for a bad field (priority out of 0–9, …)
   */
  static create(opts: CreateEnvelopeOptions): MessageEnvelope {
    const contentType = opts.contentType ?? (typeof opts.raw === 'string' ? CONTENT_TYPES.text : CONTENT_TYPES.binary);
    const encoding = opts.encoding ?? (contentType === CONTENT_TYPES.binary ? 'binary' : 'utf-8');
    const now = Date.now();
    const messageId = opts.messageId ?? uuidv7(now);
    const candidate = withOptionals(
      {
        messageId,
        correlationId: opts.correlationId ?? messageId,
        timestamp: opts.timestamp ?? now,
        source: opts.source,
        destination: opts.destination ?? '',
        bodyClassName: opts.bodyClassName ?? DEFAULT_BODY_CLASS[contentType] ?? '',
        contentType,
        schemaVersion: opts.schemaVersion ?? '',
        encoding,
        priority: opts.priority ?? DEFAULT_PRIORITY,
        retryCount: opts.retryCount ?? 0,
        customProperties: opts.customProperties ?? {},
      },
      opts,
    );
    // Checked as untrusted: callers may be plain JS (plugins) or deserialised input.
    const header = readHeader(candidate, 'envelope.invalid');
    const body = new MessageBody({
      raw: toBytes(opts.raw, encoding),
      schemaName: opts.schemaName ?? '',
      schemaNamespace: opts.schemaNamespace ?? '',
      customProperties: opts.bodyProperties ?? {},
    });
    return new MessageEnvelope(header, body);
  }

  /**
   * Builds an HL7 v2 (ER7) envelope, filling the header from the MSH segment without parsing
   * the message: MSH-10 → `correlationId` and `controlId`, MSH-9 → `messageType` (`'ADT^A01'`)
   * and `body.schemaName` (MSH-9.3, else `'ADT_A01'`), MSH-12 → `schemaVersion`, MSH-18 →
   * `encoding` (for bytes). Never rejects content: without an MSH the envelope is still built
   * (raw-first: store it, then NACK it) with empty schema fields.
   *
   * @param raw - the message as received; a string is stored as UTF-8
   */
  static createHl7(raw: string | Uint8Array, opts: CreateHl7Options): MessageEnvelope {
    const msh = readHl7Header(raw);
    const encoding = opts.encoding ?? (typeof raw === 'string' ? 'utf-8' : (msh?.encoding ?? 'utf-8'));
    // Fields listed one by one: an object spread followed by overrides is several times
    // slower in V8, and this is the hot path of every inbound HL7 message.
    return MessageEnvelope.create({
      raw: typeof raw === 'string' ? utf8Encode(raw) : raw,
      source: opts.source,
      destination: opts.destination,
      contentType: CONTENT_TYPES.hl7v2,
      encoding,
      messageId: opts.messageId,
      correlationId: opts.correlationId ?? msh?.controlId,
      timestamp: opts.timestamp,
      bodyClassName: opts.bodyClassName ?? HL7_V2_BODY_CLASS,
      schemaVersion: opts.schemaVersion ?? msh?.version ?? '',
      priority: opts.priority,
      ttl: opts.ttl,
      retryCount: opts.retryCount,
      customProperties: opts.customProperties,
      parentId: opts.parentId,
      sessionId: opts.sessionId,
      controlId: opts.controlId ?? msh?.controlId,
      messageType: opts.messageType ?? msh?.messageType,
      schemaName: opts.schemaName ?? msh?.structure ?? '',
      schemaNamespace: HL7_V2_NAMESPACE,
      bodyProperties: opts.bodyProperties,
    });
  }

  /**
   * The parsed body, by the codec of `header.contentType`; cached until `body.raw`,
   * `header.contentType` or `header.encoding` changes. `T` is the caller's assertion of what
   * the codec returns.
   *
   * @throws EnvelopeError `envelope.no_codec` when no codec is registered for the content type
   * @throws the codec's own coded error (`hl7.parse`, `envelope.parse`, …) when the body is malformed
   */
  parse<T = unknown>(): T {
    const { contentType, encoding } = this.header;
    const cached = cachedParse(this.body, contentType, encoding);
    if (cached) return cached.value as T;
    const codec = getCodec(contentType);
    if (!codec) {
      throw new EnvelopeError('envelope.no_codec', `no codec registered for content type "${contentType}"`, {
        details: { contentType },
      });
    }
    let value: unknown;
    try {
      value = codec.parse(this.body.raw, this);
    } catch (e) {
      if (hasCode(e)) throw e;
      throw new EnvelopeError('envelope.parse', `cannot parse ${contentType} body: ${errorMessage(e)}`, { cause: e });
    }
    storeParse(this.body, contentType, encoding, value);
    return value as T;
  }

  /**
   * Parses and validates the body with its codec; records the outcome in `body.validated` and
   * `body.validationErrors`. Never throws: a missing codec or a parse failure is recorded as a
   * validation error.
   *
   * @returns true when the body is valid
   */
  validate(): boolean {
    const errors: string[] = [];
    try {
      const codec = getCodec(this.header.contentType);
      if (!codec) {
        errors.push(`no codec registered for content type "${this.header.contentType}"`);
      } else {
        const parsed = this.parse();
        const found: unknown = codec.validate ? codec.validate(parsed, this) : [];
        if (Array.isArray(found)) for (const error of found) errors.push(String(error));
        else errors.push(`codec for ${codec.contentType} returned no error list`);
      }
    } catch (e) {
      errors.push(errorMessage(e));
    }
    this.body.validated = errors.length === 0;
    this.body.validationErrors = errors;
    return this.body.validated;
  }

  /** The body as text, per `header.encoding` (`base64`/`binary` bodies come back as base64). */
  text(): string {
    return decodeText(this.body.raw, this.header.encoding);
  }

  /**
   * A new envelope derived from this one with a new body: new `messageId` and `timestamp`,
   * `parentId` = this message's id, same `correlationId`, `sessionId` = this one's session (or
   * its id when it starts the session), `retryCount` 0, header custom properties copied; body
   * schema fields kept unless changed, body custom properties not carried over.
   *
   * @param raw - bytes, or text encoded per the (possibly changed) encoding
   * @throws EnvelopeError `envelope.invalid` when a change is invalid
   */
  withBody(raw: string | Uint8Array, changes: EnvelopeChanges = {}): MessageEnvelope {
    const h = this.header;
    const now = Date.now();
    const merged: HeaderLike = copyHeader(h);
    merged.retryCount = 0;
    merged.sessionId = h.sessionId ?? h.messageId;
    // changes applied key by key (no spread: hot path); readHeader below checks the values
    for (const key in changes) {
      if (key === 'schemaName' || key === 'schemaNamespace' || key === 'bodyProperties') continue;
      if (Object.hasOwn(changes, key)) Reflect.set(merged, key, Reflect.get(changes, key));
    }
    merged.messageId = uuidv7(now);
    merged.parentId = h.messageId;
    merged.timestamp = now;
    const header = readHeader(merged, 'envelope.invalid');
    const body = new MessageBody({
      raw: toBytes(raw, header.encoding),
      schemaName: changes.schemaName ?? this.body.schemaName,
      schemaNamespace: changes.schemaNamespace ?? this.body.schemaNamespace,
      customProperties: changes.bodyProperties ?? {},
    });
    return new MessageEnvelope(header, body);
  }

  /** An independent deep copy: same ids, copied bytes and properties, same validation state, no parse cache. */
  clone(): MessageEnvelope {
    const header = copyHeader(this.header);
    const b = this.body;
    return new MessageEnvelope(
      header,
      new MessageBody({
        raw: b.raw.slice(),
        schemaName: b.schemaName,
        schemaNamespace: b.schemaNamespace,
        validated: b.validated,
        validationErrors: [...b.validationErrors],
        customProperties: cloneJsonRecord(b.customProperties),
      }),
    );
  }

  /**
   * True once `ttl` milliseconds have passed since `timestamp`; never without a `ttl`.
   *
   * @param now - Unix milliseconds. @defaultValue `Date.now()`
   */
  isExpired(now: number = Date.now()): boolean {
    const ttl = this.header.ttl;
    return ttl !== undefined && now - this.header.timestamp > ttl;
  }

  /** Compact binary form (see `encodeEnvelope`): a fresh buffer, transferable to a worker. */
  toBytes(): Uint8Array {
    return encodeEnvelope(this.#data());
  }

  /**
   * Rebuilds an envelope from {@link MessageEnvelope.toBytes}'s output, exactly.
   *
   * @throws EnvelopeError `envelope.decode` for corrupt or truncated input (and nothing else)
   */
  static fromBytes(bytes: Uint8Array): MessageEnvelope {
    return MessageEnvelope.#fromData(decodeEnvelope(bytes));
  }

  /** JSON form: the header as is, the raw body as base64. */
  toJSON(): MessageEnvelopeJSON {
    const b = this.body;
    return {
      header: copyHeader(this.header),
      body: {
        schemaName: b.schemaName,
        schemaNamespace: b.schemaNamespace,
        raw: base64Encode(b.raw),
        validated: b.validated,
        validationErrors: [...b.validationErrors],
        customProperties: b.customProperties,
      },
    };
  }

  /**
   * Rebuilds an envelope from {@link MessageEnvelope.toJSON}'s output (or its `JSON.parse`d text).
   *
   * @throws EnvelopeError `envelope.decode` when the value is not such an object
   */
  static fromJSON(json: unknown): MessageEnvelope {
    if (!isPlainObject(json) || !isPlainObject(json.header) || !isPlainObject(json.body)) {
      throw new EnvelopeError('envelope.decode', 'not an envelope: expected { header, body }');
    }
    const header = readHeader(json.header, 'envelope.decode');
    const b = json.body;
    if (typeof b.raw !== 'string') throw new EnvelopeError('envelope.decode', 'not an envelope: body.raw must be base64');
    let raw: Uint8Array;
    try {
      raw = base64Decode(b.raw);
    } catch (e) {
      throw new EnvelopeError('envelope.decode', 'not an envelope: body.raw is not base64', { cause: e });
    }
    const errors = b.validationErrors;
    if (errors !== undefined && !(Array.isArray(errors) && errors.every((e) => typeof e === 'string'))) {
      throw new EnvelopeError('envelope.decode', 'not an envelope: body.validationErrors must be strings');
    }
    const props = b.customProperties;
    if (props !== undefined && !isPlainObject(props)) {
      throw new EnvelopeError('envelope.decode', 'not an envelope: body.customProperties must be an object');
    }
    return MessageEnvelope.#fromData({
      header,
      raw,
      schemaName: typeof b.schemaName === 'string' ? b.schemaName : '',
      schemaNamespace: typeof b.schemaNamespace === 'string' ? b.schemaNamespace : '',
      validated: b.validated === true,
      validationErrors: errors === undefined ? [] : errors.map(String),
      // JSON input: values are JSON
      bodyProperties: (props ?? {}) as Record<string, JsonValue>,
    });
  }

  #data(): EnvelopeData {
    const b = this.body;
    return {
      header: this.header,
      schemaName: b.schemaName,
      schemaNamespace: b.schemaNamespace,
      raw: b.raw,
      validated: b.validated,
      validationErrors: b.validationErrors,
      bodyProperties: b.customProperties,
    };
  }

  static #fromData(d: EnvelopeData): MessageEnvelope {
    return new MessageEnvelope(
      d.header,
      new MessageBody({
        raw: d.raw,
        schemaName: d.schemaName,
        schemaNamespace: d.schemaNamespace,
        validated: d.validated,
        validationErrors: d.validationErrors,
        customProperties: d.bodyProperties,
      }),
    );
  }
}
