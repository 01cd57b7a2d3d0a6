import { describe, expect, it } from 'vitest';
import { uuidv7, uuidv7Time } from './uuid';

describe('uuidv7', () => {
  it('has the v7 layout and embeds the time', () => {
    const id = uuidv7(1_700_000_000_123);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(uuidv7Time(id)).toBe(1_700_000_000_123);
    expect(uuidv7Time('not-an-id')).toBeUndefined();
  });

  it('strictly increases, even within one millisecond, and never repeats', () => {
    const ids = Array.from({ length: 20_000 }, () => uuidv7(1_800_000_000_000));
    expect(new Set(ids).size).toBe(ids.length);
    for (let i = 1; i < ids.length; i++) expect(ids[i] > ids[i - 1]).toBe(true);
  });

  it('keeps increasing when the clock goes back', () => {
    const a = uuidv7(1_900_000_000_000);
    const b = uuidv7(1_000);
    expect(b > a).toBe(true);
  });
});
