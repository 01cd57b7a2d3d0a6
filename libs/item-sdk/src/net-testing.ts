import net from 'node:net';

/** A free TCP port on 127.0.0.1 (bind 0, read, close): for tests on real sockets. */
export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as net.AddressInfo;
  return new Promise<number>((r) => srv.close(() => r(port)));
}

/** Polls `cond` every 20 ms until it holds; throws (naming `what`) after `timeoutMs`. */
export async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`${what} not met in time`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
