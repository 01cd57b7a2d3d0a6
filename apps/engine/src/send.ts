import net from 'node:net';
import { readFile } from 'node:fs/promises';
import { MllpDecoder, encodeMllp, parseMessage, splitBatchBytes } from '@hie/hl7';
import { EngineError } from './runtime/errors';

export interface SendResult {
  file: string;
  index: number;
  controlId?: string;
  ackCode?: string;
  ackControlId?: string;
  text?: string;
  error?: string;
}

/** Send each message of each file (batch files split) over one MLLP connection, waiting for each ACK. */
export async function sendFiles(opts: { host: string; port: number; files: string[]; timeoutMs?: number }, onResult?: (r: SendResult) => void): Promise<SendResult[]> {
  const socket = net.connect({ host: opts.host, port: opts.port });
  socket.setNoDelay(true);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', (e: NodeJS.ErrnoException) =>
      reject(new EngineError('mllp.connect', `cannot connect to ${opts.host}:${opts.port} (${e.code ?? e.message}): is an MLLP listener running there?`, 'operational')),
    );
  });
  const decoder = new MllpDecoder();
  const frames: Uint8Array[] = [];
  let wake: (() => void) | undefined;
  let closed: Error | undefined;
  socket.on('data', (chunk: Buffer) => {
    for (const ev of decoder.push(chunk)) if (ev.kind === 'frame') frames.push(ev.payload);
    wake?.();
  });
  socket.on('error', (e) => {
    closed = e;
    wake?.();
  });
  socket.on('close', () => {
    closed ??= new Error('connection closed by the receiver');
    wake?.();
  });
  const nextFrame = async (timeoutMs: number): Promise<Uint8Array> => {
    const deadline = Date.now() + timeoutMs;
    while (frames.length === 0) {
      if (closed) throw closed;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ACK within ${timeoutMs} ms`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        wake = () => {
          clearTimeout(t);
          r();
        };
      });
      wake = undefined;
    }
    return frames.shift()!;
  };

  const results: SendResult[] = [];
  try {
    for (const file of opts.files) {
      // Bytes, not UTF-8 text: a Latin-1 file is sent as it is on disk.
      const messages = splitBatchBytes(await readFile(file));
      for (let i = 0; i < messages.length; i++) {
        const r: SendResult = { file, index: i + 1 };
        try {
          r.controlId = parseMessage(messages[i]).get('MSH-10');
        } catch (_e) {
          /* sent as is; the receiver decides */
        }
        try {
          socket.write(encodeMllp(messages[i]));
          const ack = parseMessage(await nextFrame(opts.timeoutMs ?? 30_000));
          r.ackCode = ack.get('MSA-1');
          r.ackControlId = ack.get('MSA-2');
          r.text = ack.get('MSA-3') || undefined;
        } catch (e) {
          r.error = (e as Error).message;
        }
        results.push(r);
        onResult?.(r);
        if (closed) break;
      }
    }
  } finally {
    socket.end();
  }
  return results;
}
