export { MessageEnvelope, HL7_V2_BODY_CLASS, HL7_V2_NAMESPACE } from './message-envelope';
export type { CreateEnvelopeOptions, CreateHl7Options, EnvelopeChanges, MessageEnvelopeJSON } from './message-envelope';
export { MessageBody } from './message-body';
export type { MessageBodyInit } from './message-body';
export { DEFAULT_PRIORITY, MAX_PRIORITY, MIN_PRIORITY } from './header';
export type { JsonValue, MessageHeader } from './header';
export {
  BUILTIN_CODECS,
  CONTENT_TYPES,
  binaryCodec,
  fhirJsonCodec,
  getCodec,
  jsonCodec,
  listCodecs,
  normalizeContentType,
  registerCodec,
  textCodec,
  unregisterCodec,
  xmlCodec,
} from './codecs';
export type { EnvelopeCodec, ParsedXml } from './codecs';
export { EnvelopeError } from './envelope-error';
export type { EnvelopeErrorCode, EnvelopeErrorJSON, EnvelopeErrorKind } from './envelope-error';
export { ENCODINGS, base64Decode, base64Encode, decodeText, encodeText, isEncoding } from './bytes';
export type { Encoding } from './bytes';
export { readHl7Header } from './hl7-header';
export type { Hl7HeaderInfo } from './hl7-header';
export { checkXml, XmlSyntaxError } from './xml';
export type { XmlCheck } from './xml';
export { uuidv7, uuidv7Time } from './uuid';
export { ENVELOPE_FORMAT_VERSION, ENVELOPE_MAGIC } from './binary';
export { parseTraceparent, rootSpanIdOf, traceIdOf } from './trace-id';
