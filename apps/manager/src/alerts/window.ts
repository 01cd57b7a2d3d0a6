/** Time windows of silence alerts ("07:00–19:00 on weekdays, Europe/London"), in the window's own zone. */
import type { AlertWindow } from '@hie/config';

const WEEKDAYS: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };

/** The local weekday (ISO, 1 = Monday) and minutes since local midnight of `at` in `timeZone`. */
export function localTime(at: Date, timeZone: string): { weekday: number; minutes: number; seconds: number } {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).formatToParts(at);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '0';
  return { weekday: WEEKDAYS[get('weekday')] ?? 1, minutes: Number(get('hour')) * 60 + Number(get('minute')), seconds: Number(get('second')) };
}

function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return h * 60 + m;
}

/**
 * When the window containing `at` opened (a Date), or undefined when `at` is outside the window.
 * Silence is counted from the later of this and the last message, so the night's silence does
 * not fire the moment a 07:00 window opens.
 */
export function windowOpenedAt(at: Date, window: AlertWindow | undefined): Date | undefined {
  if (!window) return new Date(0);
  const local = localTime(at, window.timeZone);
  if (!window.days.includes(local.weekday)) return undefined;
  const from = minutesOf(window.from);
  if (local.minutes < from || local.minutes >= minutesOf(window.to)) return undefined;
  return new Date(at.getTime() - ((local.minutes - from) * 60 + local.seconds) * 1000 - at.getMilliseconds());
}
