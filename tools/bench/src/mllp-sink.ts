/**
 * A bare Node MLLP server answering every frame with a minimal AA ACK (MSA-2 = MSH-10). Used as
 * the downstream sink behind `hie run`, and on its own as the echo ceiling. Run as a child process:
 *   node --import tsx tools/bench/src/mllp-sink.ts <port>
 * Writing `count` to its stdin makes it print `count <frames received so far>`.
 */
import net from 'node:net';

const port = Number(process.argv[2] ?? 0);
const VT = 0x0b;
const FS = 0x1c;
let frames = 0;

function controlId(frame: Buffer): string {
  // MSH-10 without a parser: the 9th field separator after "MSH".
  const sep = frame[3];
  let pos = 0;
  for (let n = 0; n < 9; n++) {
    pos = frame.indexOf(sep, pos + 1);
    if (pos < 0) return '';
  }
  const end = frame.indexOf(sep, pos + 1);
  return frame.toString('latin1', pos + 1, end < 0 ? undefined : end);
}

const server = net.createServer((socket) => {
  socket.setNoDelay(true);
  let buf: Buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    const out: Buffer[] = [];
    for (;;) {
      const start = buf.indexOf(VT);
      if (start < 0) {
        buf = Buffer.alloc(0);
        break;
      }
      const end = buf.indexOf(FS, start);
      if (end < 0) {
        buf = buf.subarray(start);
        break;
      }
      const id = controlId(buf.subarray(start + 1, end));
      frames++;
      out.push(Buffer.from(`\x0bMSH|^~\\&|SINK|SINK|HIE|HIE|20240101000000||ACK|A${id}|P|2.5\rMSA|AA|${id}\r\x1c\r`, 'latin1'));
      buf = buf.subarray(end + 2);
    }
    if (out.length) socket.write(out.length === 1 ? out[0] : Buffer.concat(out));
  });
  socket.on('error', () => undefined);
});
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as net.AddressInfo).port}\n`);
});
process.stdin.on('data', (d: Buffer) => {
  if (d.toString().includes('count')) process.stdout.write(`count ${frames}\n`);
});
process.on('SIGTERM', () => process.exit(0));
