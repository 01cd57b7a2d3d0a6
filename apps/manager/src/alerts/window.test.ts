import { describe, expect, it } from 'vitest';
import { localTime, windowOpenedAt } from './window.js';

const weekdays = { from: '07:00', to: '19:00', days: [1, 2, 3, 4, 5], timeZone: 'Europe/London' };

describe('alert windows', () => {
  it('reads local weekday and time in the zone, across summer time', () => {
    expect(localTime(new Date('2027-01-04T07:30:00Z'), 'Europe/London')).toMatchObject({ weekday: 1, minutes: 7 * 60 + 30 });
    expect(localTime(new Date('2027-07-05T07:30:00Z'), 'Europe/London')).toMatchObject({ weekday: 1, minutes: 8 * 60 + 30 });
    // Sunday 23:30 UTC is already Monday in Tokyo.
    expect(localTime(new Date('2027-07-04T23:30:00Z'), 'Asia/Tokyo')).toMatchObject({ weekday: 1, minutes: 8 * 60 + 30 });
  });

  it('gives when the window containing the instant opened, or undefined outside it', () => {
    expect(windowOpenedAt(new Date('2027-07-05T09:15:42Z'), weekdays)?.toISOString()).toBe('2027-07-05T06:00:00.000Z');
    expect(windowOpenedAt(new Date('2027-01-04T09:15:00Z'), weekdays)?.toISOString()).toBe('2027-01-04T07:00:00.000Z');
    expect(windowOpenedAt(new Date('2027-07-05T05:59:00Z'), weekdays)).toBeUndefined(); // 06:59 local
    expect(windowOpenedAt(new Date('2027-07-05T18:00:00Z'), weekdays)).toBeUndefined(); // 19:00 local: the end is exclusive
    expect(windowOpenedAt(new Date('2027-07-03T09:00:00Z'), weekdays)).toBeUndefined(); // Saturday
    expect(windowOpenedAt(new Date('2027-07-03T09:00:00Z'), undefined)?.getTime()).toBe(0); // no window: always
  });
});
