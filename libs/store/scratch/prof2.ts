import pg from 'pg';
import { openTestStore } from '../src/testing.ts';
import { randomUUID } from 'node:crypto';

const body = 'MSH|^~\\&|PAS|ROYAL|EPR|ROYAL|20240501120000||ADT^A01^ADT_A01|MSG000000001|P|2.5.1|||AL|NE|GBR|UNICODE UTF-8\rEVN|A01|20240501120000|||JSMITH^Smith^John^^^Dr\rPID|1||PAT123^^^ROYAL^MR~9434765919^^^NHS^NH||SMITH^JOHN^PAUL^^MR||19800101|M|||1 HIGH STREET^^LEEDS^^LS1 1AA^GBR||01132000000|||M|C|||||A\rPD1|||LEEDS GP^^Y12345|G1234567^JONES^ALAN\rPV1|1|I|WARD7^BED3^ROYAL||||C1234^WHO^JAMES^^^DR|||MED|||||||C1234^WHO^JAMES^^^DR|IP|V1|||||||||||||||||||||||ROYAL|||||20240501120000\rNK1|1|SMITH^JANE|SPO^Spouse|1 HIGH STREET^^LEEDS^^LS1 1AA^GBR|01132000001\rAL1|1|DA|PENICILLIN|SV|RASH\r';

async function scenario(label: string, setup: string[], updates: number, rows = 500, rounds = 12) {
  const t = await openTestStore('postgres', { prefix: 'hie_scratch' });
  const client = new pg.Client({ connectionString: t.databaseUrl });
  await client.connect();
  for (const s of setup) await client.query(s);
  let total = 0;
  for (let r = 0; r < rounds; r++) {
    const ids: string[] = [];
    const params: unknown[] = [];
    const vals: string[] = [];
    for (let j = 0; j < rows; j++) {
      const b = params.length;
      const id = randomUUID(); ids.push(id);
      params.push(id, 'p', 'i', new Date(), 'ADT^A01', 'MSG' + r + '_' + j, 'PAT' + j, 'x', '{"a":1}', Buffer.from(body.replace('MSG000000001', 'MSG' + r + '_' + j)), body.length);
      vals.push(`($${b + 1},$${b + 2},$${b + 3},$${b + 4},$${b + 5},$${b + 6},$${b + 7},$${b + 8},$${b + 9},$${b + 10},$${b + 11})`);
    }
    const t0 = performance.now();
    await client.query(`INSERT INTO messages (id, production, item, received_at, message_type, control_id, patient_id, content_type, header, raw, size) VALUES ${vals.join(',')}`, params);
    await client.query(`INSERT INTO message_events (message_id, production, item, event, at) SELECT id, 'p', 'i', 'received', now() FROM unnest($1::text[]) id`, [ids]);
    for (const ev of ['processing', 'delivered']) {
      await client.query(`INSERT INTO message_events (message_id, production, item, event, at) SELECT id, 'p', 'i', $2, now() FROM unnest($1::text[]) id`, [ids, ev]);
    }
    if (label.includes('state')) {
      await client.query(`INSERT INTO message_state (message_id, production, status, received_at) SELECT id, 'p', 'received', now() FROM unnest($1::text[]) id`, [ids]);
      for (let u = 0; u < 2; u++) await client.query(`UPDATE message_state SET status = $2 FROM unnest($1::text[]) v(id) WHERE message_state.message_id = v.id`, [ids, u === 0 ? 'processing' : 'delivered']);
    }
    for (let u = 0; u < updates; u++) {
      await client.query(`UPDATE messages SET status = $2 FROM unnest($1::text[]) v(id) WHERE messages.id = v.id`, [ids, u === 0 ? 'processing' : 'delivered']);
    }
    if (r >= 2) total += performance.now() - t0;
  }
  console.log(label.padEnd(50), Math.round((rows * (rounds - 2) * 1000) / total), 'msg/s');
  await client.end();
  await t.cleanup();
}
const hotSetup = ['DROP INDEX messages_status_idx', 'DROP INDEX messages_unfinished_idx'];
const state = [...hotSetup, `CREATE TABLE message_state (message_id text primary key, production text not null, status text not null, received_at timestamptz not null, finished_at timestamptz)`,
  'CREATE INDEX ON message_state (production, status, received_at)', 'CREATE INDEX ON message_state (production, received_at) WHERE finished_at IS NULL'];
await scenario('all indexes, 0 updates', [], 0);
await scenario('narrow state table, 2 state updates', state, 0);
await scenario('state + no received_idx/type idx', [...state, 'DROP INDEX messages_received_idx', 'DROP INDEX messages_message_type_idx'], 0);
await scenario('no trgm, state', ['DROP INDEX messages_body_trgm_idx', ...state], 0);
await scenario('gin fastupdate off', ['ALTER INDEX messages_body_trgm_idx SET (fastupdate = off)'], 0);
