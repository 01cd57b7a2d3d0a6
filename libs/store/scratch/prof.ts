import { sql } from 'drizzle-orm';
import pg from 'pg';
import { openTestStore } from '../src/testing.ts';
import { randomUUID } from 'node:crypto';

const t = await openTestStore('postgres', { prefix: 'hie_scratch' });
const client = new pg.Client({ connectionString: t.databaseUrl });
await client.connect();
const body = 'MSH|^~\\&|PAS|ROYAL|EPR|ROYAL|20240501120000||ADT^A01^ADT_A01|MSG000000001|P|2.5.1|||AL|NE|GBR|UNICODE UTF-8\rEVN|A01|20240501120000|||JSMITH^Smith^John^^^Dr\rPID|1||PAT123^^^ROYAL^MR~9434765919^^^NHS^NH||SMITH^JOHN^PAUL^^MR||19800101|M|||1 HIGH STREET^^LEEDS^^LS1 1AA^GBR||01132000000|||M|C|||||A\rPD1|||LEEDS GP^^Y12345|G1234567^JONES^ALAN\rPV1|1|I|WARD7^BED3^ROYAL||||C1234^WHO^JAMES^^^DR|||MED|||||||C1234^WHO^JAMES^^^DR|IP|V1|||||||||||||||||||||||ROYAL|||||20240501120000\rNK1|1|SMITH^JANE|SPO^Spouse|1 HIGH STREET^^LEEDS^^LS1 1AA^GBR|01132000001\rAL1|1|DA|PENICILLIN|SV|RASH\r';
async function run(label: string, rows = 500, rounds = 10) {
  const t0 = performance.now();
  for (let r = 0; r < rounds; r++) {
    const params: unknown[] = [];
    const vals: string[] = [];
    for (let j = 0; j < rows; j++) {
      const b = params.length;
      params.push(randomUUID(), 'p', 'i', new Date(), 'ADT^A01', 'MSG' + r + '_' + j, 'PAT' + j, 'x', '{"a":1}', Buffer.from(body.replace('MSG000000001', 'MSG' + r + '_' + j)), body.length);
      vals.push(`($${b + 1},$${b + 2},$${b + 3},$${b + 4},$${b + 5},$${b + 6},$${b + 7},$${b + 8},$${b + 9},$${b + 10},$${b + 11})`);
    }
    await client.query(`INSERT INTO messages (id, production, item, received_at, message_type, control_id, patient_id, content_type, header, raw, size) VALUES ${vals.join(',')}`, params);
  }
  const ms = performance.now() - t0;
  console.log(label.padEnd(30), Math.round((rows * rounds * 1000) / ms), 'rows/s');
}
await run('all indexes');
await client.query('DROP INDEX messages_body_trgm_idx');
await run('no trgm');
const idx = ['messages_production_received_idx','messages_received_idx','messages_control_id_idx','messages_patient_id_idx','messages_message_type_idx','messages_status_idx','messages_parent_idx','messages_unfinished_idx'];
for (const i of idx) await client.query(`DROP INDEX ${i}`);
await run('pk only');
await client.end();
await t.cleanup();
