import net from 'node:net';
import tls from 'node:tls';
import { hl7MllpInSettings } from '@hie/config';
import { MessageEnvelope } from '@hie/envelope';
import { MllpDecoder, buildAck, buildAckText, buildNack, encodeMllp, validateMessage, type Hl7Message } from '@hie/hl7';
import { defineItemType } from '../item-type';
import { codeOf, ensureError } from '../runtime/errors';
import { loadTls } from './tls-options';


/**
 * `hl7.mllp.in`: an MLLP listener. Frames from one connection are handed on in order and ACKed in
 * order; many connections run in parallel. When downstream queues are full (`block` overflow) the
 * hand-off waits, pending frames pile up to `maxPipelined`, and the socket stops being read.
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
    let port = settings.port;
    const wait = settings.ackMode === 'application' ? 'response' : settings.ackMode === 'after_store' && ctx.hasStore ? 'stored' : 'queued';

    const write = (socket: net.Socket, ack: string | Uint8Array) => {
      if (!socket.destroyed) socket.write(encodeMllp(ack));
    };

    async function handleFrame(payload: Uint8Array): Promise<string | Uint8Array> {
      // The envelope caches its parse: in-process, the router reuses this one instead of parsing again.
      const envelope = MessageEnvelope.createHl7(payload, { source: ctx.itemName });
      let msg: Hl7Message;
      try {
        msg = envelope.parse<Hl7Message>();
        msg.get('MSH-9'); // fail early on a broken header
      } catch (e) {
        const err = ensureError(e);
        ctx.log.warn({ code: codeOf(err), error: err.message }, 'refused a frame that is not HL7');
        return buildNack(payload, settings.errorAckCode, { text: err.message, error: { code: '102', message: err.message } }).toString();
      }
      if (settings.validate) {
        const problems = validateMessage(msg).filter((p) => p.severity === 'error');
        if (problems.length > 0) {
          const text = problems.map((p) => `${p.path}: ${p.message}`).join('; ');
          return buildAck(msg, settings.errorAckCode, { text, error: { code: '101', message: text, location: problems[0].path } }).toString();
        }
      }
      try {
        const result = await ctx.submit(envelope, { wait });
        received++;
        if (settings.ackMode === 'application' && result.response) {
          // Relay the downstream system's ACK as it is.
          return result.response.body.raw;
        }
        return buildAckText(msg, 'AA');
      } catch (e) {
        const err = ensureError(e);
        return buildAck(msg, settings.processingErrorAckCode, { text: err.message, error: { code: '207', message: err.message } }).toString();
      }
    }

    function onConnection(socket: net.Socket) {
      sockets.add(socket);
      socket.setNoDelay(true);
      if (settings.idleTimeoutMs > 0) socket.setTimeout(settings.idleTimeoutMs, () => socket.end());
      const decoder = new MllpDecoder({ maxFrameBytes: settings.maxMessageBytes });
      let chain: Promise<void> = Promise.resolve();
      let pending = 0;
      let paused = false;
      socket.on('data', (chunk: Buffer) => {
        for (const ev of decoder.push(chunk)) {
          if (ev.kind === 'error') {
            if (ev.error.code === 'mllp.frame_too_large') {
              const text = `message larger than ${settings.maxMessageBytes} bytes`;
              chain = chain.then(() => write(socket, buildNack(new Uint8Array(0), 'AR', { text, error: { code: '100', message: text } }).toString()));
            } else {
              ctx.log.warn({ code: ev.error.code, remote: socket.remoteAddress }, 'ignored bytes outside MLLP frames');
            }
            continue;
          }
          pending++;
          if (pending >= settings.maxPipelined && !paused) {
            paused = true;
            socket.pause(); // backpressure: stop reading until acknowledged work drains
          }
          const payload = ev.payload;
          chain = chain.then(async () => {
            const ack = await handleFrame(payload);
            write(socket, ack);
            pending--;
            if (paused && pending < Math.max(1, settings.maxPipelined >> 1)) {
              paused = false;
              socket.resume();
            }
          });
        }
      });
      socket.on('error', (e) => ctx.log.debug({ err: e }, 'mllp client socket error'));
      socket.on('close', () => sockets.delete(socket));
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
        return { port, connections: sockets.size, received };
      },
    };
  },
});
