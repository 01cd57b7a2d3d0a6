import { PgDialect } from 'drizzle-orm/pg-core';
import { BatchingMessageWriter } from '../src/message-writer.ts';
import { randomUUID } from 'node:crypto';
const w = new BatchingMessageWriter(null as never, {});
const raw = new Uint8Array(900).fill(65);
const batch = Array.from({ length: 200 }, (_, i) => i % 3 === 0
  ? { kind: 'received', msg: { id: randomUUID(), production: 'p', item: 'i', receivedAt: Date.now(), messageType: 'ADT', controlId: 'c' + i, patientId: 'p', contentType: 'x', header: { a: 1 }, raw }, header: '{"a":1}', resolve() {}, reject() {} }
  : { kind: 'event', ev: { messageId: randomUUID(), production: 'p', item: 'i', event: 'delivered' }, at: Date.now(), detail: null, resolve() {}, reject() {} });
const d = new PgDialect();
for (let k = 0; k < 3; k++) {
  const t0 = performance.now();
  for (let r = 0; r < 100; r++) { const q = (w as unknown as { statement(b: unknown): never }).statement(batch); d.sqlToQuery(q); }
  console.log('per batch of 200:', ((performance.now() - t0) / 100).toFixed(2), 'ms');
}
