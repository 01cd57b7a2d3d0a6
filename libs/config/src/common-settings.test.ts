import { describe, expect, it } from 'vitest';
import {
  circuitBreakerSchema,
  commonSettingsSchema,
  executionSchema,
  messagingSchema,
  queueSchema,
  rateLimitSchema,
  restartSchema,
} from './common-settings';

describe('common settings', () => {
  it('fills every default from {}', () => {
    expect(commonSettingsSchema.parse({})).toEqual({
      execution: { mode: 'async', workers: 1 },
      queue: { type: 'fifo', size: 10_000, overflow: 'block', ttlMs: 0, partitionKey: 'PID-3.1' },
      restart: { policy: 'on_failure', maxRestarts: 5, delayMs: 1000, windowMs: 60_000, backoffFactor: 2, maxDelayMs: 30_000 },
      messaging: { pattern: 'async_reliable', timeoutMs: 30_000, concurrency: 1, retries: null, retryDelayMs: 1000, retryMaxDelayMs: 60_000 },
      circuitBreaker: { enabled: false, failureThreshold: 5, resetTimeoutMs: 30_000, halfOpenTrials: 1, whenOpen: 'wait' },
      rateLimit: { enabled: false, ratePerSecond: 100, burst: 100 },
      priority: { from: 'message', value: 5, field: 'MSH-11', map: {} },
      enabled: true,
      logLevel: 'inherit',
    });
  });

  it('fills the defaults of a partially given group', () => {
    expect(commonSettingsSchema.parse({ queue: { type: 'priority' } }).queue).toEqual({
      type: 'priority',
      size: 10_000,
      overflow: 'block',
      ttlMs: 0,
      partitionKey: 'PID-3.1',
    });
  });

  it('takes an HL7 field path as the partition key of a fifo queue (PID-3.1 by default)', () => {
    expect(queueSchema.parse({}).partitionKey).toBe('PID-3.1');
    expect(queueSchema.parse({ partitionKey: 'PID-3.1' }).partitionKey).toBe('PID-3.1');
    expect(queueSchema.parse({ partitionKey: 'OBX[2]-5[2].1.2' }).partitionKey).toBe('OBX[2]-5[2].1.2');
    for (const bad of ['PID', 'pid-3', 'PID-0', 'PID-3.1.2.3', 'PID-3 ', '']) {
      expect(queueSchema.safeParse({ partitionKey: bad }).success, bad).toBe(false);
    }
  });

  it('enforces ranges and enums', () => {
    expect(executionSchema.safeParse({ workers: 0 }).success).toBe(false);
    expect(executionSchema.safeParse({ workers: 65 }).success).toBe(false);
    expect(executionSchema.safeParse({ workers: 1.5 }).success).toBe(false);
    expect(executionSchema.safeParse({ mode: 'fork' }).success).toBe(false);
    expect(queueSchema.safeParse({ size: 10_000_001 }).success).toBe(false);
    expect(queueSchema.safeParse({ size: 10_000_000 }).success).toBe(true);
    expect(queueSchema.safeParse({ overflow: 'spill' }).success).toBe(false);
    expect(restartSchema.safeParse({ maxRestarts: -1 }).success).toBe(false);
    expect(messagingSchema.safeParse({ pattern: 'concurrent_sync', concurrency: 8 }).success).toBe(true);
    expect(circuitBreakerSchema.safeParse({ whenOpen: 'drop' }).success).toBe(false);
    expect(rateLimitSchema.safeParse({ ratePerSecond: 0 }).success).toBe(false);
  });

  it('rejects unknown keys (a typo is an error, not a silent default)', () => {
    const r = commonSettingsSchema.safeParse({ queue: { sise: 5 } });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]).toMatchObject({ code: 'unrecognized_keys', path: ['queue'], keys: ['sise'] });
  });
});
