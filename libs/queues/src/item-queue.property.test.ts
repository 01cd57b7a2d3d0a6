import fc from 'fast-check';
import { describe, it } from 'vitest';
import { ItemQueue, type OverflowStrategy, type QueueType } from './item-queue';

/**
 * Property test: random sequences of put/tryPut/tryTake/drain against a deliberately naive
 * reference model (a plain array scanned linearly), for every type × overflow strategy.
 */

interface Entry {
  item: number;
  priority: number;
  seq: number;
}

class Model {
  entries: Entry[] = [];
  dropped: number[] = [];
  rejected = 0;
  private seq = 0;
  constructor(
    readonly type: QueueType,
    readonly capacity: number,
    readonly overflow: OverflowStrategy,
  ) {}

  /** Index of the entry the queue must hand out next. */
  private nextIndex(): number {
    if (this.type === 'lifo') return this.entries.length - 1;
    if (this.type !== 'priority') return 0;
    let best = 0;
    for (let i = 1; i < this.entries.length; i++) {
      const e = this.entries[i];
      const b = this.entries[best];
      if (e.priority > b.priority || (e.priority === b.priority && e.seq < b.seq)) best = i;
    }
    return best;
  }

  /** Index of the entry drop_oldest evicts: oldest overall, or oldest of the lowest level. */
  private victimIndex(): number {
    if (this.type !== 'priority') return 0; // entries are kept in arrival order
    let v = 0;
    for (let i = 1; i < this.entries.length; i++) {
      const e = this.entries[i];
      const b = this.entries[v];
      if (e.priority < b.priority || (e.priority === b.priority && e.seq < b.seq)) v = i;
    }
    return v;
  }

  tryPut(item: number, priority: number): boolean {
    const entry = { item, priority: this.type === 'priority' ? priority : 0, seq: this.seq++ };
    if (this.entries.length < this.capacity) {
      this.entries.push(entry);
      return true;
    }
    if (this.overflow === 'block') return false;
    if (this.overflow === 'reject_new') {
      this.rejected++;
      return false;
    }
    const v = this.victimIndex();
    if (this.type === 'priority' && entry.priority < this.entries[v].priority) {
      this.dropped.push(item);
      return true;
    }
    this.dropped.push(this.entries.splice(v, 1)[0].item);
    this.entries.push(entry);
    return true;
  }

  tryTake(): number | undefined {
    if (this.entries.length === 0) return undefined;
    return this.entries.splice(this.nextIndex(), 1)[0].item;
  }

  drain(): number[] {
    const out: number[] = [];
    while (this.entries.length) out.push(this.tryTake()!);
    return out;
  }
}

type Cmd = { op: 'put'; priority: number } | { op: 'take' } | { op: 'drain' };

const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 9 }).map((priority): Cmd => ({ op: 'put', priority })) },
  { weight: 5, arbitrary: fc.constant<Cmd>({ op: 'take' }) },
  { weight: 1, arbitrary: fc.constant<Cmd>({ op: 'drain' }) },
);

const types: QueueType[] = ['fifo', 'lifo', 'priority', 'unordered'];
const overflows: OverflowStrategy[] = ['block', 'drop_oldest', 'reject_new'];

describe('ItemQueue matches a reference model', () => {
  for (const type of types) {
    for (const overflow of overflows) {
      it(`${type} / ${overflow}`, () => {
        fc.assert(
          fc.property(fc.integer({ min: 1, max: 12 }), fc.array(cmdArb, { maxLength: 300 }), (size, cmds) => {
            const dropped: number[] = [];
            const q = new ItemQueue<number>({ type, size, overflow, onDrop: (item) => dropped.push(item) });
            const model = new Model(type, size, overflow);
            let taken = 0;
            let drained = 0;
            let next = 0;
            let accepted = 0;
            for (const c of cmds) {
              if (c.op === 'put') {
                const item = next++;
                const ok = q.tryPut(item, c.priority);
                if (ok !== model.tryPut(item, c.priority)) return false;
                if (ok) accepted++;
              } else if (c.op === 'take') {
                const got = q.tryTake();
                if (got !== model.tryTake()) return false;
                if (got !== undefined) taken++;
              } else {
                const a = q.drain();
                const b = model.drain();
                if (JSON.stringify(a) !== JSON.stringify(b)) return false;
                drained += a.length;
              }
              if (q.depth !== model.entries.length) return false;
              if (q.hasRoom() !== model.entries.length < size) return false;
            }
            const m = q.metrics();
            return (
              JSON.stringify(dropped) === JSON.stringify(model.dropped) &&
              m.dropped === model.dropped.length &&
              m.rejected === model.rejected &&
              m.dequeued === taken &&
              m.drained === drained &&
              // nothing is lost: every accepted entry was taken, dropped, drained or is still queued
              m.enqueued === accepted &&
              accepted === taken + dropped.length + drained + q.depth
            );
          }),
          { numRuns: 200 },
        );
      });
    }
  }
});

/**
 * Async property for `block`: puts and takes are fired without awaiting, so producers block and
 * consumers wait. The model admits blocked producers in arrival order as room appears and hands
 * puts straight to waiting takers; every take must resolve to the model's entry, and close()
 * must reject exactly the takers and producers still waiting.
 */
describe('ItemQueue block/handoff matches a reference model (async)', () => {
  type AsyncCmd = { op: 'put'; priority: number } | { op: 'take' };
  const asyncCmdArb: fc.Arbitrary<AsyncCmd> = fc.oneof(
    fc.integer({ min: 0, max: 9 }).map((priority): AsyncCmd => ({ op: 'put', priority })),
    fc.constant<AsyncCmd>({ op: 'take' }),
  );

  for (const type of types) {
    it(`${type} / block`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: 6 }), fc.array(asyncCmdArb, { maxLength: 120 }), async (size, cmds) => {
          const q = new ItemQueue<number>({ type, size, overflow: 'block' });
          const model = new Model(type, size, 'block');
          const blocked: { item: number; priority: number }[] = [];
          const waitingTakers: number[] = [];
          const expected = new Map<number, number>();
          const takes: Promise<number>[] = [];
          const puts: Promise<void>[] = [];
          let next = 0;
          for (const c of cmds) {
            if (c.op === 'put') {
              const item = next++;
              puts.push(q.put(item, c.priority));
              if (waitingTakers.length) expected.set(waitingTakers.shift()!, item);
              else if (blocked.length || !model.tryPut(item, c.priority)) blocked.push({ item, priority: c.priority });
            } else {
              const id = takes.length;
              takes.push(q.take());
              const got = model.tryTake();
              if (got === undefined) waitingTakers.push(id);
              else {
                expected.set(id, got);
                while (blocked.length && model.entries.length < size) {
                  const p = blocked.shift()!;
                  model.tryPut(p.item, p.priority);
                }
              }
            }
          }
          q.close();
          const takeResults = await Promise.allSettled(takes);
          const putResults = await Promise.allSettled(puts);
          for (let id = 0; id < takes.length; id++) {
            const r = takeResults[id];
            if (expected.has(id)) {
              if (r.status !== 'fulfilled' || r.value !== expected.get(id)) return false;
            } else if (r.status !== 'rejected' || (r.reason as { code: string }).code !== 'queue.closed') return false;
          }
          const rejectedPuts = putResults.filter((r) => r.status === 'rejected');
          return rejectedPuts.length === blocked.length && q.depth === model.entries.length;
        }),
        { numRuns: 150 },
      );
    });
  }
});
