import { decodeText } from './bytes';
import { EnvelopeError } from './envelope-error';
import type { MessageEnvelope } from './message-envelope';
import { checkXml, XmlSyntaxError } from './xml';

/** Content types known to HIE. */
export const CONTENT_TYPES = {
  /** HL7 v2, ER7 (pipe-delimited) encoding. Its codec comes from @hie/hl7, registered by the engine. */
  hl7v2: 'application/hl7-v2+er7',
  fhirJson: 'application/fhir+json',
  json: 'application/json',
  xml: 'application/xml',
  text: 'text/plain',
  binary: 'application/octet-stream',
} as const;

/**
 * Parses and validates bodies of one content type. `parse` turns the raw bytes into whatever
 * the content type's natural object is; `validate` (optional) lists what is wrong with it.
 * Both are called by `MessageEnvelope.parse()`/`validate()`, which dispatch on
 * `header.contentType`.
 */
export interface EnvelopeCodec {
  /** The MIME type handled, e.g. `'application/json'`. */
  contentType: string;
  /** Raw bytes → parsed value. Throw on malformed input. */
  parse(raw: Uint8Array, env: MessageEnvelope): unknown;
  /** Problems with a parsed value; `[]` when valid. */
  validate?(parsed: unknown, env: MessageEnvelope): string[];
}

/** What the built-in XML codec's `parse` returns. */
export interface ParsedXml {
  /** The document text. */
  text: string;
  /** Name of the root element. */
  rootElement: string;
}

const codecs = new Map<string, EnvelopeCodec>();

/** `Application/JSON; charset=utf-8` → `application/json`. */
export function normalizeContentType(contentType: string): string {
  const semi = contentType.indexOf(';');
  return (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
}

/**
 * Registers (or replaces) the codec for its content type. Registries are per module instance:
 * register in every worker thread that parses envelopes too.
 *
 * @returns a function that removes this codec again (restoring nothing)
 */
export function registerCodec(codec: EnvelopeCodec): () => void {
  const key = normalizeContentType(codec.contentType);
  codecs.set(key, codec);
  return () => {
    if (codecs.get(key) === codec) codecs.delete(key);
  };
}

/** Removes the codec of a content type; true when there was one. */
export function unregisterCodec(contentType: string): boolean {
  return codecs.delete(normalizeContentType(contentType));
}

/**
 * The codec for a content type: an exact match first, then the type without parameters and in
 * lower case, then by structured-syntax suffix (`application/foo+json` → the JSON codec,
 * `+xml` → XML) and `text/xml` → XML.
 */
export function getCodec(contentType: string): EnvelopeCodec | undefined {
  const exact = codecs.get(contentType);
  if (exact) return exact;
  const key = normalizeContentType(contentType);
  const normal = codecs.get(key);
  if (normal) return normal;
  if (key.endsWith('+json')) return codecs.get(CONTENT_TYPES.json);
  if (key.endsWith('+xml') || key === 'text/xml') return codecs.get(CONTENT_TYPES.xml);
  return undefined;
}

/** Content types with a registered codec. */
export function listCodecs(): string[] {
  return [...codecs.keys()];
}

function parseJson(raw: Uint8Array, env: MessageEnvelope, what: string): unknown {
  try {
    return JSON.parse(decodeText(raw, env.header.encoding));
  } catch (e) {
    throw new EnvelopeError('envelope.parse', `invalid ${what}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

/** `application/json`: `JSON.parse` of the body text. */
export const jsonCodec: EnvelopeCodec = {
  contentType: CONTENT_TYPES.json,
  parse: (raw, env) => parseJson(raw, env, 'JSON'),
};

/** `application/fhir+json`: JSON that must be an object with a `resourceType`. */
export const fhirJsonCodec: EnvelopeCodec = {
  contentType: CONTENT_TYPES.fhirJson,
  parse: (raw, env) => parseJson(raw, env, 'FHIR JSON'),
  validate(parsed) {
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return ['a FHIR resource must be a JSON object'];
    const resourceType: unknown = Reflect.get(parsed, 'resourceType');
    if (typeof resourceType !== 'string' || !/^[A-Z][A-Za-z]+$/.test(resourceType)) {
      return ['a FHIR resource needs a "resourceType" such as "Patient"'];
    }
    return [];
  },
};

/** `application/xml`: checks well-formedness; parses to the text and the root element's name. */
export const xmlCodec: EnvelopeCodec = {
  contentType: CONTENT_TYPES.xml,
  parse(raw, env): ParsedXml {
    const text = decodeText(raw, env.header.encoding);
    try {
      return { text, rootElement: checkXml(text).rootElement };
    } catch (e) {
      const details = e instanceof XmlSyntaxError ? { offset: e.offset } : undefined;
      throw new EnvelopeError('envelope.parse', `invalid XML: ${e instanceof Error ? e.message : String(e)}`, { details, cause: e });
    }
  },
};

/** `text/plain`: the body text. */
export const textCodec: EnvelopeCodec = {
  contentType: CONTENT_TYPES.text,
  parse: (raw, env) => decodeText(raw, env.header.encoding),
};

/** `application/octet-stream`: the raw bytes themselves. */
export const binaryCodec: EnvelopeCodec = {
  contentType: CONTENT_TYPES.binary,
  parse: (raw) => raw,
};

/** The codecs registered at load: FHIR JSON, JSON, XML, text and binary (HL7 v2 comes from @hie/hl7). */
export const BUILTIN_CODECS: readonly EnvelopeCodec[] = [fhirJsonCodec, jsonCodec, xmlCodec, textCodec, binaryCodec];

for (const codec of BUILTIN_CODECS) registerCodec(codec);
