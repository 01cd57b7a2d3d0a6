/**
 * The inspector's groups: every setting of an item, common or of its type, falls in one of
 * Basics, Connection, Queue & execution, Reliability, Advanced. Type settings are grouped by
 * their key, so a plugin's settings land somewhere sensible with no UI code.
 */
export const SETTING_GROUPS = ['Basics', 'Connection', 'Queue & execution', 'Reliability', 'Advanced'] as const;
export type SettingGroup = (typeof SETTING_GROUPS)[number];

/** Common settings (top-level keys of an item) by group; `enabled` and the name are in Basics. */
const COMMON: Record<string, SettingGroup> = {
  execution: 'Queue & execution',
  queue: 'Queue & execution',
  priority: 'Queue & execution',
  restart: 'Reliability',
  messaging: 'Reliability',
  circuitBreaker: 'Reliability',
  rateLimit: 'Reliability',
};

/** The group of a common setting (a top-level key of an item); unknown keys are Advanced. */
export function commonGroup(key: string): SettingGroup {
  return COMMON[key] ?? 'Advanced';
}

const CONNECTION = /^(host|port|tls|url|path|method|headers|bearerToken|token|auth.*|directory|filename|glob|archiveDirectory|errorDirectory|poolSize|maxConnections|pollIntervalMs)$|connect|idle|reconnect|address/i;
const RELIABILITY = /ack|retr|reply|nack|timeout|overwrite/i;
const ADVANCED = /^(max|min)|bytes|validate|split|contentType|charset|encoding/i;

/** The group of a type setting (a key of the item's `settings`). */
export function typeSettingGroup(key: string): SettingGroup {
  if (CONNECTION.test(key)) return 'Connection';
  if (RELIABILITY.test(key)) return 'Reliability';
  if (ADVANCED.test(key)) return 'Advanced';
  return 'Basics';
}
