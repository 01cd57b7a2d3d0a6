import { describe, expect, it } from 'vitest';
import { ItemQueue, type QueueType } from './item-queue';

function takeAll<T>(q: ItemQueue<T>): T[] {
  const out: T[] = [];
  for (let v = q.tryTake(); v !== undefined; v = q.tryTake()) out.push(v);
  return out;
}

describe('ItemQueue.putBack: a taken entry handed back is the next one taken', () => {
  it.each<[QueueType, string[]]>([
    ['fifo', ['a', 'b', 'c']],
    ['unordered', ['a', 'b', 'c']],
    ['lifo', ['a', 'c', 'b']],
  ])('%s', (type, expected) => {
    const q = new ItemQueue<string>({ type, size: 2, overflow: 'reject_new' });
    q.tryPut('a');
    const head = q.tryTake()!;
    q.tryPut('b');
    q.tryPut('c'); // full again: the handed-back entry must still fit
    q.putBack(head);
    expect(q.depth).toBe(3);
    expect(takeAll(q)).toEqual(expected);
  });

  it('priority: ahead of its own level, behind higher ones', () => {
    const q = new ItemQueue<string>({ type: 'priority' });
    q.tryPut('a', 5);
    const head = q.tryTake()!;
    q.tryPut('b', 5);
    q.tryPut('urgent', 9);
    q.putBack(head, 5);
    expect(takeAll(q)).toEqual(['urgent', 'a', 'b']);
  });

  it('goes straight to a waiting consumer', async () => {
    const q = new ItemQueue<string>();
    const next = q.take();
    q.putBack('a');
    await expect(next).resolves.toBe('a');
    expect(q.depth).toBe(0);
  });

  it('refuses a closed queue', () => {
    const q = new ItemQueue<string>();
    q.close();
    expect(() => q.putBack('a')).toThrow(expect.objectContaining({ code: 'queue.closed' }));
  });
});
