import net from 'node:net';
import { MllpDecoder, encodeMllp } from '@hie/hl7';

/** One MLLP client connection of a test: sends a message, waits for the answer frame. */
export interface MllpTestClient {
  /** Sends `text` and resolves with the ACK's text, or `undefined` once the connection ended. */
  send(text: string): Promise<string | undefined>;
  close(): void;
}

/** Connects to 127.0.0.1:`port` (rejects when nothing listens). One message in flight at a time. */
export async function connectMllp(port: number): Promise<MllpTestClient> {
  const socket = net.connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const decoder = new MllpDecoder();
  let pending: ((ack: string | undefined) => void) | undefined;
  const answer = (ack: string | undefined) => {
    const p = pending;
    pending = undefined;
    p?.(ack);
  };
  socket.on('data', (c: Buffer) => {
    for (const ev of decoder.push(c)) if (ev.kind === 'frame') answer(new TextDecoder().decode(ev.payload));
  });
  socket.on('error', () => answer(undefined));
  socket.on('close', () => answer(undefined));
  return {
    send: (text) =>
      socket.destroyed
        ? Promise.resolve(undefined)
        : new Promise((resolve) => {
            pending = resolve;
            socket.write(encodeMllp(text));
          }),
    close: () => socket.destroy(),
  };
}
