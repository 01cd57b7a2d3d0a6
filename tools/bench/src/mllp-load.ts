import net from 'node:net';

export interface LoadResult {
  sent: number;
  acked: number;
  nacked: number;
  seconds: number;
  rate: number;
  p50: number;
  p99: number;
}

const message = (id: string) =>
  `\x0bMSH|^~\\&|BENCH|HOSP|HIE|HIE|20240101120000||ADT^A01^ADT_A01|${id}|P|2.5\rEVN|A01|20240101120000\rPID|1||${id}^^^MRN^MR||DOE^JOHN^Q||19700101|M|||1 MAIN ST^^TOWN^ST^12345\rPV1|1|I|W^389^1\r\x1c\r`;

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

interface Conn {
  socket: net.Socket;
  inflight: number[];
  send(): void;
}

/**
 * Drive an MLLP server with `connections` sockets for `seconds`. Closed loop with `window`
 * frames in flight per connection (max throughput), or open loop at `ratePerSec` overall
 * (latency at a fixed offered load). Latency = send → ACK.
 */
export async function mllpLoad(opts: { port: number; connections: number; seconds: number; window?: number; ratePerSec?: number }): Promise<LoadResult> {
  const window = opts.window ?? 1;
  const openLoop = opts.ratePerSec !== undefined;
  const latencies: number[] = [];
  let sent = 0;
  let acked = 0;
  let nacked = 0;
  let seq = 0;
  const conns: Conn[] = [];
  let stopAt = Infinity;
  for (let c = 0; c < opts.connections; c++) {
    const socket = net.connect({ host: '127.0.0.1', port: opts.port });
    socket.setNoDelay(true);
    await new Promise<void>((r, j) => {
      socket.once('connect', r);
      socket.once('error', j);
    });
    const conn: Conn = {
      socket,
      inflight: [],
      send() {
        conn.inflight.push(performance.now());
        sent++;
        socket.write(message(`B${c}-${seq++}`));
      },
    };
    let buf: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      for (;;) {
        const s = buf.indexOf(0x0b);
        const e = s < 0 ? -1 : buf.indexOf(0x1c, s);
        if (e < 0) break;
        const ok = buf.indexOf('MSA|AA|', s, 'latin1');
        if (ok >= 0 && ok < e) acked++;
        else nacked++;
        buf = buf.subarray(e + 2);
        latencies.push(performance.now() - conn.inflight.shift()!);
        if (!openLoop && performance.now() < stopAt) conn.send();
      }
    });
    socket.on('error', () => undefined);
    conns.push(conn);
  }
  const t0 = performance.now();
  stopAt = t0 + opts.seconds * 1000;
  if (!openLoop) {
    for (const conn of conns) for (let i = 0; i < window; i++) conn.send();
  } else {
    const interval = 1000 / opts.ratePerSec!;
    let next = t0;
    let c = 0;
    while (performance.now() < stopAt) {
      const now = performance.now();
      while (next <= now) {
        conns[c++ % conns.length].send();
        next += interval;
      }
      await new Promise((r) => setTimeout(r, 1)); // tick every ms; sending what is due (no busy spin stealing a core)
    }
  }
  while (performance.now() < stopAt) await new Promise((r) => setTimeout(r, 20));
  const drainDeadline = performance.now() + 15_000;
  while (conns.some((c) => c.inflight.length > 0) && performance.now() < drainDeadline) await new Promise((r) => setTimeout(r, 5));
  const seconds = (performance.now() - t0) / 1000;
  for (const c of conns) c.socket.destroy();
  const sorted = Float64Array.from(latencies).sort();
  return { sent, acked, nacked, seconds, rate: acked / seconds, p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}
