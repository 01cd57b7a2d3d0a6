import { z } from 'zod';
import { refusedMaxBytes } from './refused';
import { tlsSettings } from './tls';

/** Settings of `hl7.mllp.in`: an HL7 v2 MLLP listener. */
export const hl7MllpInSettings = z
  .object({
    host: z.string().default('0.0.0.0').describe('Interface to listen on (0.0.0.0 = all, 127.0.0.1 = this machine only)'),
    port: z.number().int().min(0).max(65535).default(2575).describe('TCP port to listen on (0 = any free port)'),
    tls: tlsSettings,
    maxMessageBytes: z.number().int().min(1024).max(256 * 1024 * 1024).default(16 * 1024 * 1024).describe('Largest accepted message; bigger frames are refused with a NACK'),
    maxConnections: z.number().int().min(1).max(100_000).default(1000).describe('Most simultaneous client connections; more are refused'),
    idleTimeoutMs: z.number().int().min(0).default(600_000).describe('Close a connection idle for this long (0 = never)'),
    ackMode: z
      .enum(['immediate', 'after_store', 'application'])
      .default('after_store')
      .describe('When to ACK: immediate (once queued), after_store (once durable in the message store; same as immediate without a store), application (relay the downstream system’s ACK)'),
    errorAckCode: z.enum(['AE', 'AR']).default('AR').describe('ACK code for messages that cannot be parsed or are refused'),
    processingErrorAckCode: z.enum(['AE', 'AR']).default('AE').describe('ACK code when the message was received but could not be handed on'),
    validate: z.boolean().default(false).describe('Validate each message (required MSH fields, version, structure) and NACK invalid ones'),
    maxPipelined: z.number().int().min(1).max(10_000).default(256).describe('Frames accepted from one connection before waiting for their ACKs (backpressure)'),
    maxConnectionBytes: z.number().int().min(1024).max(4 * 1024 * 1024 * 1024).default(64 * 1024 * 1024).describe('Most bytes one connection may hold (its unfinished frame + frames waiting for their ACK): reading pauses until they drain; an unfinished frame alone bigger than this closes the connection (keep it ≥ maxMessageBytes so big frames get a NACK instead)'),
    maxListenerBytes: z.number().int().min(1024).max(64 * 1024 * 1024 * 1024).default(256 * 1024 * 1024).describe('Most bytes all connections of this listener may hold together: over it, a connection with frames waiting pauses reading, one with none waiting that keeps sending is closed'),
    frameTimeoutMs: z.number().int().min(0).default(60_000).describe('Close a connection whose frame, once started, is not finished within this long (slow senders cannot hold a slot; 0 = no deadline)'),
    refusedMaxBytes,
  })
  .strict();
export type Hl7MllpInSettings = z.output<typeof hl7MllpInSettings>;

const replyAction = z.enum(['success', 'retry', 'fail']);

/** Settings of `hl7.mllp.out`: send HL7 v2 over MLLP and wait for the ACK. */
export const hl7MllpOutSettings = z
  .object({
    host: z.string().default('127.0.0.1').describe('Host of the receiving system'),
    port: z.number().int().min(1).max(65535).default(2575).describe('Port of the receiving system'),
    tls: tlsSettings,
    poolSize: z.number().int().min(1).max(256).default(4).describe('Connections kept open to the receiver'),
    connectTimeoutMs: z.number().int().min(1).default(10_000).describe('Give up connecting after this long'),
    ackTimeoutMs: z.number().int().min(1).default(30_000).describe('Wait this long for the ACK before treating the send as failed (retryable)'),
    reconnectDelayMs: z.number().int().min(0).default(500).describe('First delay before reconnecting; doubles up to the maximum'),
    reconnectMaxDelayMs: z.number().int().min(0).default(30_000).describe('Longest delay between reconnect attempts'),
    maxMessageBytes: z.number().int().min(1024).default(16 * 1024 * 1024).describe('Largest ACK accepted from the receiver'),
    replyCodes: z
      .object({
        AA: replyAction.default('success'),
        CA: replyAction.default('success'),
        AE: replyAction.default('fail'),
        CE: replyAction.default('fail'),
        AR: replyAction.default('fail'),
        CR: replyAction.default('fail'),
      })
      .strict()
      .default({ AA: 'success', CA: 'success', AE: 'fail', CE: 'fail', AR: 'fail', CR: 'fail' })
      .describe('What each ACK code means: success, retry (sent again, up to nackRetries times) or fail (the message goes to the failed state for an operator; a sync caller gets this ACK relayed)'),
    nackRetries: z.number().int().min(0).default(3).describe('Times a message answered with a code set to retry (see replyCodes) is sent again before it fails'),
  })
  .strict();
export type Hl7MllpOutSettings = z.output<typeof hl7MllpOutSettings>;
