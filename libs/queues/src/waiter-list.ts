/** A node of a {@link WaiterList}; the waiter object itself carries the links. */
export interface WaiterNode {
  prev: WaiterNode | null;
  next: WaiterNode | null;
  /** True while linked into a list. */
  linked: boolean;
}

/**
 * An intrusive doubly-linked FIFO list for waiters (blocked producers, takers): O(1) push,
 * shift and removal from the middle (abort). Waiters are the slow path, so one node per waiter
 * is fine. Internal; not exported from the package.
 */
export class WaiterList<W extends WaiterNode> {
  private first: W | null = null;
  private last: W | null = null;
  /** Number of linked waiters. */
  size = 0;

  push(w: W): void {
    w.prev = this.last;
    w.next = null;
    if (this.last) this.last.next = w;
    else this.first = w;
    this.last = w;
    w.linked = true;
    this.size++;
  }

  shift(): W | null {
    const w = this.first;
    if (w) this.remove(w);
    return w;
  }

  peek(): W | null {
    return this.first;
  }

  remove(w: W): void {
    if (!w.linked) return;
    if (w.prev) w.prev.next = w.next;
    else this.first = w.next as W | null;
    if (w.next) w.next.prev = w.prev;
    else this.last = w.prev as W | null;
    w.prev = null;
    w.next = null;
    w.linked = false;
    this.size--;
  }
}
