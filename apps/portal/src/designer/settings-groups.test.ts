import { describe, expect, it } from 'vitest';
import { builtinItemTypes, commonSettingsSchema } from '@hie/config';
import { commonGroup, typeSettingGroup } from './settings-groups';

describe('inspector setting groups', () => {
  it('puts each built-in setting where an analyst looks for it', () => {
    const groups = (type: string) => {
      const d = builtinItemTypes.find((t) => t.type === type)!;
      const shape = (d.settings as unknown as { shape: Record<string, unknown> }).shape;
      const out: Record<string, string[]> = {};
      for (const k of Object.keys(shape)) (out[typeSettingGroup(k)] ??= []).push(k);
      return out;
    };
    const mllpOut = groups('hl7.mllp.out');
    expect(mllpOut.Connection).toEqual(expect.arrayContaining(['host', 'port', 'tls', 'poolSize', 'connectTimeoutMs', 'reconnectDelayMs']));
    expect(mllpOut.Reliability).toEqual(expect.arrayContaining(['ackTimeoutMs', 'replyCodes', 'nackRetries']));
    expect(mllpOut.Advanced).toEqual(['maxMessageBytes']);
    expect(groups('hl7.router').Basics).toEqual(['mode', 'rules', 'otherwise']);
    expect(groups('hl7.transform').Basics).toEqual(['operations']);
    expect(groups('file.out').Connection).toEqual(['directory', 'filename']);
  });

  it('common settings: queue & execution, reliability', () => {
    const keys = Object.keys((commonSettingsSchema as unknown as { shape: Record<string, unknown> }).shape);
    const by = Object.fromEntries(keys.map((k) => [k, commonGroup(k)]));
    expect(by).toMatchObject({ execution: 'Queue & execution', queue: 'Queue & execution', restart: 'Reliability', messaging: 'Reliability', circuitBreaker: 'Reliability', rateLimit: 'Reliability' });
  });
});
