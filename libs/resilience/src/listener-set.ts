/**
 * A tiny typed listener set (no `node:events`, so it runs in the browser too). A listener that
 * throws does not stop the others nor corrupt the emitter's state: its error is re-thrown
 * asynchronously, where it is reported like any uncaught error. Internal.
 */
export class ListenerSet<A extends unknown[]> {
  private readonly listeners = new Set<(...args: A) => void>();

  /** Adds `listener`; returns a function that removes it. */
  add(listener: (...args: A) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  emit(...args: A): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(...args);
      } catch (e) {
        queueMicrotask(() => {
          throw e;
        });
      }
    }
  }

  get size(): number {
    return this.listeners.size;
  }
}
