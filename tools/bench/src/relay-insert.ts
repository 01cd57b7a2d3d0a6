/**
 * The baseline a team would write by hand (issue 15): an MLLP relay on `@medplum/hl7` that, for
 * each frame, does ONE node-postgres `INSERT` of the raw message into a narrow table (pool of 16,
 * `synchronous_commit` as the server has it: on), then ACKs (AA), then forwards the message to the
 * sink over a pool of 16 `Hl7Client`s, as `hie run` does. No trace, no status, no text index.
 * Run as a child process:
 *   node --import tsx tools/bench/src/relay-insert.ts <port> <sinkPort> <databaseUrl>
 */
import { Hl7Client, Hl7Server, type Hl7MessageEvent } from '@medplum/hl7';
import pg from 'pg';

const [port, sinkPort, databaseUrl] = [Number(process.argv[2]), Number(process.argv[3]), process.argv[4]];
const pool = new pg.Pool({ connectionString: databaseUrl, max: 16 });
pool.on('error', () => undefined);
await pool.query('CREATE TABLE IF NOT EXISTS relay_messages (id bigserial PRIMARY KEY, control_id text, received_at timestamptz NOT NULL DEFAULT now(), raw text NOT NULL)');

const clients = Array.from({ length: 16 }, () => new Hl7Client({ host: '127.0.0.1', port: sinkPort, keepAlive: true }));
let next = 0;

const server = new Hl7Server((connection) => {
  connection.addEventListener('message', (event: Hl7MessageEvent) => {
    const { message } = event;
    const raw = message.toString();
    pool
      .query('INSERT INTO relay_messages (control_id, raw) VALUES ($1, $2)', [message.getSegment('MSH')?.getField(10)?.toString() ?? null, raw])
      .then(
        () => {
          connection.send(message.buildAck());
          return clients[next++ % clients.length].sendAndWait(message);
        },
        () => connection.send(message.buildAck({ ackCode: 'AE' })),
      )
      .catch(() => undefined); // a failed forward: the relay has already acknowledged (as a hand-written one would)
  });
});
server.start(port);
process.stdout.write(`listening ${port}\n`);
process.on('SIGTERM', () => process.exit(0));
