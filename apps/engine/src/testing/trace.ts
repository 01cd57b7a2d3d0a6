import { until } from './helpers';

/** What a test reads of a stored trace event. */
export interface TraceEventView {
  event: string;
  detail: Record<string, unknown> | null;
}

/**
 * The first event of a message at an item other than `queued` (its `delivered`, `discarded` or
 * `failed`), waiting until the store has it.
 */
export async function itemEvent(
  messages: { trace(projectId: string, messageId: string): Promise<(TraceEventView & { item: string })[]> },
  projectId: string,
  messageId: string,
  item: string,
): Promise<TraceEventView> {
  let found: TraceEventView | undefined;
  await until(async () => {
    found = (await messages.trace(projectId, messageId)).find((e) => e.item === item && e.event !== 'queued');
    return found !== undefined;
  });
  return found!;
}
