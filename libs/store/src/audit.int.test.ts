import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { toStoreError } from './errors.js';
import type { Store } from './store.js';
import { BACKENDS, useTestStore } from './test-backends.js';

/** Runs `statement` on audit_log with its append-only trigger off, as a superuser could. */
async function tamper(store: Store, statement: ReturnType<typeof sql>): Promise<void> {
  await store.db.execute(sql`ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only`);
  try {
    await store.db.execute(statement);
  } finally {
    await store.db.execute(sql`ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only`);
  }
}

describe.each(BACKENDS)('audit log hash chain on %s', (backend) => {
  const t = useTestStore(backend);

  const entry = (i: number) => ({
    actorId: 'u1',
    actorName: 'alice',
    action: 'config.save',
    entityType: 'project',
    entityId: `p${i}`,
    entityName: `Project ${i}`,
    workspaceId: 'ws',
    before: { version: i },
    after: { version: i + 1, changes: { added: ['a'] } },
    sourceAddress: '127.0.0.1',
  });

  it('an empty log verifies; appended rows are chained and verify', async () => {
    expect(await t.store.audit.verify()).toEqual({ ok: true, rows: 0 });
    const rows = [];
    for (let i = 0; i < 5; i++) rows.push(await t.store.audit.append(entry(i)));
    expect(rows.every((r) => typeof r.hash === 'string' && r.hash.length === 64)).toBe(true);
    expect(new Set(rows.map((r) => r.hash)).size).toBe(5);
    expect(rows[1].entityName).toBe('Project 1');
    expect(await t.store.audit.verify()).toEqual({ ok: true, rows: 5 });
  });

  it('UPDATE, DELETE and TRUNCATE are refused with store.immutable', async () => {
    const row = await t.store.audit.append(entry(9));
    for (const statement of [
      sql`UPDATE audit_log SET actor_name = 'mallory' WHERE id = ${row.id}`,
      sql`DELETE FROM audit_log WHERE id = ${row.id}`,
      sql`TRUNCATE audit_log`,
    ]) {
      const err = await t.store.db.execute(statement).then(
        () => undefined,
        (e: unknown) => toStoreError(e),
      );
      expect(err).toMatchObject({ code: 'store.immutable', kind: 'user' });
    }
    const [kept] = (await t.store.audit.query({ entityId: 'p9' })).items;
    expect(kept).toMatchObject({ id: row.id, actorName: 'alice' });
    expect((await t.store.audit.verify()).ok).toBe(true);
  });

  it('a row edited with the trigger disabled is reported as the first broken link', async () => {
    const before = await t.store.audit.verify();
    expect(before.ok).toBe(true);
    const a = await t.store.audit.append(entry(20));
    const b = await t.store.audit.append(entry(21));
    await t.store.audit.append(entry(22));
    await tamper(t.store, sql`UPDATE audit_log SET actor_name = 'mallory' WHERE id = ${b.id}`);
    expect(await t.store.audit.verify()).toEqual({ ok: false, firstBrokenId: b.id, rows: before.rows + 3 });
    // Putting the content back restores the chain: the check is over content, not over history.
    await tamper(t.store, sql`UPDATE audit_log SET actor_name = 'alice' WHERE id = ${b.id}`);
    expect((await t.store.audit.verify()).ok).toBe(true);
    // Re-hashing the edited row to match moves the break to its successor…
    await tamper(t.store, sql`UPDATE audit_log SET hash = NULL WHERE id = ${a.id}`);
    expect(await t.store.audit.verify()).toMatchObject({ ok: false, firstBrokenId: a.id });
    await tamper(t.store, sql`UPDATE audit_log x SET hash = hie_audit_hash((SELECT hash FROM audit_log WHERE id < ${a.id} ORDER BY id DESC LIMIT 1), x) WHERE id = ${a.id}`);
    expect((await t.store.audit.verify()).ok).toBe(true);
    // …and a removed row breaks the one after it.
    await tamper(t.store, sql`DELETE FROM audit_log WHERE id = ${a.id}`);
    expect(await t.store.audit.verify()).toMatchObject({ ok: false, firstBrokenId: b.id });
  });
});

describe('audit log hash chain under concurrency (postgres)', () => {
  const t = useTestStore('postgres');

  it('50 concurrent appends form one unbroken chain', async () => {
    const rows = await Promise.all(
      Array.from({ length: 50 }, (_, i) => t.store.audit.append({ action: 'message.view', entityType: 'message', entityId: `m${i}` })),
    );
    expect(new Set(rows.map((r) => r.id)).size).toBe(50);
    expect(await t.store.audit.verify()).toEqual({ ok: true, rows: 50 });
  });
});
