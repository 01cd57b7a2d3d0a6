import { z } from 'zod';

/** Default of {@link refusedMaxBytes}: 1 MiB. */
export const DEFAULT_REFUSED_MAX_BYTES = 1024 * 1024;

/**
 * A service setting: how much of the input it refuses (not HL7, too large, a frame cut off, a file
 * with no message in it) is kept. Refused input is stored as a `refused` message so it shows in the
 * message viewer instead of disappearing; bytes beyond this are not stored, and the trace says so.
 */
export const refusedMaxBytes = z
  .number()
  .int()
  .min(0)
  .max(256 * 1024 * 1024)
  .default(DEFAULT_REFUSED_MAX_BYTES)
  .describe('Most bytes kept of input refused as not a message (not HL7, too large, cut off): it is stored as a refused message, truncated beyond this (flagged in its trace); 0 keeps the record without bytes');
