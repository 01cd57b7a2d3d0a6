/** A service's polling loop (file.in, sftp.in). */
export interface Poller {
  /** Runs the poll now, then `intervalMs` after each run ends. */
  start(): void;
  /** No further runs; resolves once a run in progress has ended. */
  stop(): Promise<void>;
  /** True between `stop()` and the next `start()`: a long run checks it to end early. */
  readonly stopped: boolean;
}

/**
 * Runs `poll` now and then `intervalMs` after each run ends — never two runs at once, however long
 * one takes. `poll` should catch its own errors (a rejection only ends that run).
 */
export function createPoller(poll: () => Promise<void>, intervalMs: number): Poller {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = true;
  const runThenSchedule = () => {
    running = poll()
      .catch(() => undefined)
      .finally(() => {
        if (!stopped) timer = setTimeout(runThenSchedule, intervalMs);
      });
  };
  return {
    start() {
      stopped = false;
      runThenSchedule();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
    get stopped() {
      return stopped;
    },
  };
}
