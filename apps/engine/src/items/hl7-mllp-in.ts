import { randomUUID } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { hl7MllpInSettings } from '@hie/config';
import { MessageEnvelope } from '@hie/envelope';
import {
  MllpDecoder,
  ackErrorCode,
  buildAckBytes,
  buildNack,
  encodeMllp,
  holdsSeveralMessages,
  startsWithBatchHeader,
  parseBatchBytes,
  parseMessage,
  problemAckCode,
  validateMessage,
  type Hl7AckCode,
  type Hl7Message,
  type Hl7Problem,
} from '@hie/hl7';
import { defineItemType } from '../item-type';
import { codeOf, ensureError } from '../runtime/errors';
import { loadTls } from './tls-options';


const ACK_RANK: Readonly<Record<string, number>> = { AA: 0, CA: 0, AE: 1, CE: 1, AR: 2, CR: 2 };

/** Problems as `path: message` lines, for an ACK's text and the logs. */
function problemText(problems: readonly Hl7Problem[]): string[] {
  return problems.map((p) => `${p.path}: ${p.message}`);
}

/** The worse of two ACK codes (AR over AE over AA). */
function worse(a: Hl7AckCode, b: Hl7AckCode | undefined): Hl7AckCode {
  return b !== undefined && (ACK_RANK[b] ?? 0) > (ACK_RANK[a] ?? 0) ? b : a;
}

/** MSA-1 of a downstream response (application ACK mode), as an `A*` code; undefined when there is none. */
function responseCode(raw: Uint8Array | undefined): Hl7AckCode | undefined {
  if (!raw) return undefined;
  try {
    const code = parseMessage(raw).get('MSA-1') ?? '';
    return code in ACK_RANK ? (code.replace(/^C/, 'A') as Hl7AckCode) : undefined;
  } catch (_e) {
    return undefined;
  }
}

/**
 * `hl7.mllp.in`: an MLLP listener. Frames from one connection are handed on in order and ACKed in
 * order; many connections run in parallel. When downstream queues are full (`block` overflow) the
 * hand-off waits, pending frames pile up to `maxPipelined`, and the socket stops being read.
 *
 * Resource limits, so no client can hold memory or a slot without bound (each closure logs one
 * warn line `mllp connection dropped by a limit` with the remote address, `reason` and bytes):
 * - `maxConnectionBytes` / `maxListenerBytes` count what is held in memory: unfinished frames plus
 *   frames waiting for their ACK (overshoot: at most one socket read, 64 KiB, per connection).
 *   Over either, a connection with frames waiting stops being read until they drain; one with
 *   none (its unfinished frame alone is too much) is closed. Only ACKed frames are ever promised,
 *   so no limit loses a message the sender was told we have.
 * - `frameTimeoutMs`: a frame started and not finished in time closes the connection (slow-loris).
 * - `maxConnections`: further connections are refused by the server (`reason: max_connections`).
 *
 * Nothing refused disappears: a frame that is not HL7, one refused by `validate`, an oversize frame
 * and a frame cut off (by a new start block, or by the connection closing) are stored as `refused` messages (their first
 * `refusedMaxBytes`) and logged, so the message viewer shows them.
 *
 * Batches: a frame holding an FHS/BHS batch, or several MSH messages back to back, is split; each
 * message is stored and handed on by itself, in order, with `batchId` (one per frame), `batchIndex`
 * (1-based), `batchSize`, `batchControlId` (BHS-11, else FHS-11) and, when BTS-1/FTS-1 counts do
 * not match, `batchProblems` in its header's custom properties. One ACK answers the frame, built
 * from the first message: MSA-2 is that message's MSH-10 (what a client sending back-to-back
 * messages matches on), MSA-1 AA when every message was handed on, `processingErrorAckCode` when
 * one could not be (it and the ones after it were not taken: the sender resends the frame), and
 * `errorAckCode` when some could not be read (those are stored as refused, the others handed on).
 */
export const hl7MllpIn = defineItemType({
  type: 'hl7.mllp.in',
  version: 1,
  kind: 'service',
  description: 'Receive HL7 v2 over MLLP (TCP/TLS) and ACK',
  settings: hl7MllpInSettings,
  module: import.meta.url,
  create(settings, ctx) {
    let server: net.Server | undefined;
    const sockets = new Set<net.Socket>();
    let received = 0;
    /** Bytes all connections hold now (unfinished frames + frames waiting for their ACK), and the most ever. */
    let held = 0;
    let peakHeld = 0;
    /** Connections closed by a limit (frame deadline, byte budgets, maxConnections). */
    let dropped = 0;
    let port = settings.port;
    const wait = settings.ackMode === 'application' ? 'response' : settings.ackMode === 'after_store' && ctx.hasStore ? 'stored' : 'queued';

    const write = (socket: net.Socket, ack: string | Uint8Array) => {
      if (!socket.destroyed) socket.write(encodeMllp(ack));
    };

    /** The errors `validate` finds in a message (none when validation is off). */
    const validationErrors = (msg: Hl7Message): Hl7Problem[] =>
      settings.validate ? validateMessage(msg).filter((p) => p.severity === 'error') : [];

    /** Keeps refused input as a `refused` message (see the item's comment); never rejects. */
    const refuse = (raw: Uint8Array, reason: string, error: string, more: { totalBytes?: number; detail?: Record<string, unknown> } = {}) =>
      ctx.refuse(raw, { reason, error, contentType: 'application/hl7-v2+er7', maxBytes: settings.refusedMaxBytes, ...more });

    async function handleFrame(payload: Uint8Array, remote: Record<string, unknown>): Promise<string | Uint8Array> {
      // The envelope caches its parse: in-process, the router reuses this one instead of parsing again.
      const envelope = MessageEnvelope.createHl7(payload, { source: ctx.itemName });
      let msg: Hl7Message;
      try {
        msg = envelope.parse<Hl7Message>();
        msg.get('MSH-9'); // fail early on a broken header
      } catch (e) {
        // A frame starting with FHS/BHS does not parse as one message: split it. (Checked only here
        // and on the parse below, which has split the segments anyway: no extra pass per frame.)
        if (startsWithBatchHeader(payload)) return handleBatch(payload, remote);
        const err = ensureError(e);
        ctx.log.warn({ code: codeOf(err), error: err.message }, 'refused a frame that is not HL7');
        await refuse(payload, 'not_hl7', err.message, { detail: remote });
        // Bytes in the sender's charset, MSA-2 = MSH-10 whenever it can be found (see buildNack).
        return buildNack(payload, settings.errorAckCode, { text: err.message, error: { code: ackErrorCode(err), message: err.message } }).toBytes();
      }
      if (holdsSeveralMessages(msg)) return handleBatch(payload, remote);
      const problems = validationErrors(msg);
      if (problems.length > 0) {
        const text = problemText(problems).join('; ');
        await refuse(payload, 'invalid', text, { detail: remote });
        return buildAckBytes(msg, settings.errorAckCode, { text, error: { code: problemAckCode(problems[0]), message: text, location: problems[0].path } });
      }
      try {
        const result = await ctx.submit(envelope, { wait });
        received++;
        if (settings.ackMode === 'application' && result.response) {
          // Relay the downstream system's ACK as it is.
          return result.response.body.raw;
        }
        // In the sender's charset with MSH-18 echoed: MSH-5 holds MSH-3's very bytes.
        return buildAckBytes(msg, 'AA');
      } catch (e) {
        const err = ensureError(e);
        return buildAckBytes(msg, settings.processingErrorAckCode, { text: err.message, error: { code: ackErrorCode(err), message: err.message } });
      }
    }

    /**
     * A frame of several messages (see the item's comment): each one stored and handed on by itself,
     * in order, then one ACK for the frame.
     */
    async function handleBatch(payload: Uint8Array, remote: Record<string, unknown>): Promise<string | Uint8Array> {
      const batch = parseBatchBytes(payload);
      const batchId = randomUUID();
      const size = batch.messages.length;
      const problems = problemText(batch.problems);
      if (problems.length > 0) ctx.log.warn({ batchId, batchControlId: batch.controlId, messages: size, problems, ...remote }, 'batch trailer counts do not match its messages');
      let first: Hl7Message | undefined;
      const refused: string[] = [];
      let refusedCode = '';
      let worst: Hl7AckCode = 'AA';
      for (let i = 0; i < size; i++) {
        const raw = batch.messages[i];
        const where = { batchId, batchIndex: i + 1, batchSize: size, ...(batch.controlId ? { batchControlId: batch.controlId } : {}) };
        const envelope = MessageEnvelope.createHl7(raw, { source: ctx.itemName });
        let msg: Hl7Message;
        try {
          msg = envelope.parse<Hl7Message>();
          msg.get('MSH-9');
        } catch (e) {
          const err = ensureError(e);
          refused.push(`message ${i + 1}: ${err.message}`);
          refusedCode ||= ackErrorCode(err);
          await refuse(raw, 'not_hl7', err.message, { detail: { ...where, ...remote } });
          continue;
        }
        first ??= msg;
        const invalid = validationErrors(msg);
        if (invalid.length > 0) {
          const text = problemText(invalid).join('; ');
          refused.push(`message ${i + 1} (${msg.controlId}): ${text}`);
          refusedCode ||= problemAckCode(invalid[0]);
          await refuse(raw, 'invalid', text, { detail: { ...where, ...remote } });
          continue;
        }
        Object.assign(envelope.header.customProperties, where, problems.length > 0 ? { batchProblems: problems } : {});
        try {
          const result = await ctx.submit(envelope, { wait });
          received++;
          worst = worse(worst, responseCode(result.response?.body.raw));
        } catch (e) {
          const err = ensureError(e);
          const text = `message ${i + 1} of ${size} (${msg.controlId}) could not be handed on: ${err.message}; it and the ${size - i - 1} after it were not taken`;
          ctx.log.warn({ batchId, batchIndex: i + 1, error: err.message, ...remote }, 'batch stopped: a message could not be handed on');
          return buildAckBytes(first, settings.processingErrorAckCode, { text, error: { code: ackErrorCode(err), message: text } });
        }
      }
      if (!first) {
        const text = size === 0 ? 'a batch with no message in it' : `no message of the batch could be read: ${refused.join('; ')}`;
        return buildNack(payload, size === 0 ? 'AA' : settings.errorAckCode, size === 0 ? { text } : { text, error: { code: refusedCode, message: text } }).toBytes();
      }
      if (refused.length > 0) {
        const text = `${size - refused.length} of ${size} messages accepted; refused: ${refused.join('; ')}`;
        return buildAckBytes(first, settings.errorAckCode, { text, error: { code: refusedCode, message: text } });
      }
      // In the sender's charset with MSH-18 echoed, as for a single message.
      return buildAckBytes(first, worst, { text: `${size} messages accepted` });
    }

    /** Why a limit closed a connection; the `reason` of its log line. */
    type DropReason = 'frame_timeout' | 'connection_bytes' | 'listener_bytes';

    /** Closes a connection a limit refused, with one warn line saying which limit and what it held. */
    function drop(socket: net.Socket, reason: DropReason, bytes: number, limit: number) {
      dropped++;
      ctx.log.warn({ remote: socket.remoteAddress, remotePort: socket.remotePort, reason, bytes, limit }, 'mllp connection dropped by a limit');
      socket.destroy();
    }

    function onConnection(socket: net.Socket) {
      sockets.add(socket);
      socket.setNoDelay(true);
      if (settings.idleTimeoutMs > 0) {
        socket.setTimeout(settings.idleTimeoutMs, () => {
          ctx.log.info({ remote: socket.remoteAddress, remotePort: socket.remotePort, reason: 'idle_timeout', limit: settings.idleTimeoutMs }, 'mllp connection closed: idle');
          socket.end();
        });
      }
      const decoder = new MllpDecoder({ maxFrameBytes: settings.maxMessageBytes, keepDroppedBytes: settings.refusedMaxBytes });
      const remote = { remote: socket.remoteAddress, remotePort: socket.remotePort };
      let chain: Promise<void> = Promise.resolve();
      let pending = 0;
      let paused = false;
      // What this connection holds in memory: the decoder's unfinished frame (`partial`, as last
      // counted into `held`) and the frames decoded but not yet ACKed (`waiting`).
      let partial = 0;
      let waiting = 0;
      let frameTimer: ReturnType<typeof setTimeout> | undefined;

      // The frame deadline runs from the first byte of a frame to its end block, and restarts with
      // each completed frame. It is suspended while we stop reading: a paused sender is not slow.
      const armDeadline = (restart: boolean) => {
        if (frameTimer && (restart || paused || !decoder.inFrame)) {
          clearTimeout(frameTimer);
          frameTimer = undefined;
        }
        if (!frameTimer && !paused && decoder.inFrame && settings.frameTimeoutMs > 0 && !socket.destroyed) {
          frameTimer = setTimeout(() => drop(socket, 'frame_timeout', decoder.buffered, settings.frameTimeoutMs), settings.frameTimeoutMs);
        }
      };

      socket.on('data', (chunk: Buffer) => {
        let completed = false;
        for (const ev of decoder.push(chunk)) {
          if (ev.kind === 'error') {
            const dropped = ev.dropped ?? new Uint8Array(0);
            if (ev.error.code === 'mllp.frame_too_large') {
              const text = `message larger than ${settings.maxMessageBytes} bytes`;
              chain = chain.then(async () => {
                await refuse(dropped, 'too_large', text, { detail: { truncated: true, maxMessageBytes: settings.maxMessageBytes, ...remote } });
                write(socket, buildNack(new Uint8Array(0), 'AR', { text, error: { code: '100', message: text } }).toString());
              });
            } else if (ev.dropped) {
              // A frame cut short by a new start block: the sender started over, nothing to ACK.
              ctx.log.warn({ code: ev.error.code, ...remote }, 'an MLLP frame was cut short by a new start block');
              chain = chain.then(() => refuse(dropped, 'partial_frame', ev.error.message, { totalBytes: Number((ev.error.details as { bytes?: number } | undefined)?.bytes ?? 0), detail: remote }).then(() => undefined));
            } else {
              ctx.log.warn({ code: ev.error.code, remote: socket.remoteAddress }, 'ignored bytes outside MLLP frames');
            }
            continue;
          }
          completed = true;
          pending++;
          const payload = ev.payload;
          waiting += payload.length;
          held += payload.length;
          chain = chain.then(async () => {
            const ack = await handleFrame(payload, remote);
            write(socket, ack);
            pending--;
            waiting -= payload.length;
            held -= payload.length;
            if (paused && pending < Math.max(1, settings.maxPipelined >> 1) && waiting <= settings.maxConnectionBytes >> 1) {
              paused = false;
              socket.resume();
              armDeadline(true);
            }
          });
        }
        held += decoder.buffered - partial;
        partial = decoder.buffered;
        if (held > peakHeld) peakHeld = held;
        // Byte budgets. Frames waiting for their ACK drain on their own, so a connection that has
        // some is paused (backpressure: nothing is lost, the sender waits). One that has none can
        // only grow its unfinished frame, which is not ACKed yet: closing it loses nothing the
        // sender was told we have, and it will send again.
        const mine = partial + waiting;
        const over: [DropReason, number, number] | undefined =
          mine > settings.maxConnectionBytes ? ['connection_bytes', mine, settings.maxConnectionBytes] : held > settings.maxListenerBytes ? ['listener_bytes', held, settings.maxListenerBytes] : undefined;
        if (over && pending === 0) {
          drop(socket, ...over);
          return;
        }
        if (!paused && (over || pending >= settings.maxPipelined)) {
          paused = true;
          socket.pause(); // backpressure: stop reading until acknowledged work drains
        }
        armDeadline(completed);
      });
      socket.on('error', (e) => ctx.log.debug({ err: e }, 'mllp client socket error'));
      socket.on('close', () => {
        sockets.delete(socket);
        clearTimeout(frameTimer);
        // An unfinished frame dies with its connection (kept as a refused message, after the frames
        // before it); waiting frames are still handed on and release their bytes as they go.
        const cut = decoder.unfinished(settings.refusedMaxBytes);
        if (cut) {
          const text = `the connection closed in the middle of a frame (${cut.size} bytes received)`;
          chain = chain.then(() => refuse(cut.head, 'partial_frame', text, { totalBytes: cut.size, detail: remote }).then(() => undefined));
        }
        held -= partial;
        partial = 0;
        decoder.reset();
      });
    }

    return {
      async onStart() {
        if (settings.tls.enabled) {
          const pem = loadTls(settings.tls, ctx.policy, { needCert: true });
          server = tls.createServer(
            { ...pem, requestCert: settings.tls.requireClientCert, rejectUnauthorized: settings.tls.requireClientCert && settings.tls.rejectUnauthorized },
            onConnection,
          );
        } else {
          server = net.createServer(onConnection);
        }
        server.maxConnections = settings.maxConnections;
        server.on('drop', (d?: net.DropArgument) => {
          dropped++;
          ctx.log.warn({ remote: d?.remoteAddress, remotePort: d?.remotePort, reason: 'max_connections', limit: settings.maxConnections }, 'mllp connection dropped by a limit');
        });
        server.on('error', (e) => ctx.log.error({ err: e }, 'mllp listener error'));
        await new Promise<void>((resolve, reject) => {
          server!.once('error', reject);
          server!.listen(settings.port, settings.host, () => {
            server!.off('error', reject);
            resolve();
          });
        });
        port = (server.address() as net.AddressInfo).port;
        ctx.log.info({ host: settings.host, port, tls: settings.tls.enabled }, 'MLLP listener ready');
      },
      async onStop() {
        const s = server;
        server = undefined;
        if (!s) return;
        const closed = new Promise<void>((r) => s.close(() => r()));
        // Let each connection finish what it has, then close it.
        for (const socket of sockets) socket.end();
        const timer = setTimeout(() => sockets.forEach((sk) => sk.destroy()), 5000);
        await closed;
        clearTimeout(timer);
      },
      info() {
        return { port, connections: sockets.size, received, bufferedBytes: held, peakBufferedBytes: peakHeld, droppedConnections: dropped };
      },
    };
  },
});
