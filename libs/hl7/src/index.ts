/**
 * `@hie/hl7`: raw-first HL7 v2 for HIE. Lazy parser with spec paths (`PID-3.1`), escapes,
 * ACK/NACK building, MLLP framing, batch files and validation. Isomorphic: runs in Node and
 * in the browser (no Node APIs, no other HIE libs).
 */
export { Hl7Error, isHl7Error, type Hl7ErrorCode, type Hl7ErrorKind, type Hl7ErrorJSON } from './errors';
export { DEFAULT_DELIMITERS, encodingCharacters, type Hl7Delimiters } from './delimiters';
export { escape, unescape } from './escape';
export { parsePath, formatPath, MAX_PATH_NUMBER, type Hl7Path } from './path';
export {
  parseMessage,
  Hl7Message,
  type Hl7Segment,
  type Hl7SetOptions,
  type Hl7ToBytesOptions,
  type Hl7AddSegmentOptions,
} from './message';
export { charsetOf, decodeHl7Bytes, encodeText, rawMshFields, type Hl7Charset } from './charset';
export {
  ackErrorCode,
  problemAckCode,
  buildAck,
  buildAckBytes,
  buildAckText,
  buildNack,
  newControlId,
  hl7Timestamp,
  type Hl7AckCode,
  type Hl7AckError,
  type Hl7AckOptions,
} from './ack';
export {
  encodeMllp,
  MllpDecoder,
  MLLP_START,
  MLLP_END,
  MLLP_CR,
  DEFAULT_MAX_FRAME_BYTES,
  type MllpEvent,
  type MllpDecoderOptions,
} from './mllp';
export { splitBatch, splitBatchBytes, parseBatch, parseBatchBytes, startsWithBatchHeader, holdsSeveralMessages, type Hl7Batch, type Hl7BatchBytes } from './batch';
export { validateMessage, checkDateTime, type Hl7Problem } from './validate';
export { hl7Codec, type Hl7Codec } from './codec';
