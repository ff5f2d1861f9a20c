import type { CanonicalMessage } from '../types.js';

/** External contacts' ids start with wo/wm (WeCom protocol §3.1). */
export function isExternalId(id: string | undefined): boolean {
  return id !== undefined && (id.startsWith('wo') || id.startsWith('wm'));
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Local weekday (0 = Sunday) and minutes since midnight in a time zone. */
export function localTime(ms: number, timeZone: string): { weekday: number; minutes: number } {
  if (timeZone === 'Asia/Shanghai') {
    // China has had no DST since 1991: a fixed +8 offset avoids Intl on the hot path.
    const d = new Date(ms + 8 * 3600_000);
    return { weekday: d.getUTCDay(), minutes: d.getUTCHours() * 60 + d.getUTCMinutes() };
  }
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  const parts = Object.fromEntries(f.formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  const weekday = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(parts.weekday ?? '');
  return { weekday, minutes: Number(parts.hour) * 60 + Number(parts.minute) };
}

function hhmmToMinutes(s: string): number {
  return Number(s.slice(0, 2)) * 60 + Number(s.slice(3, 5));
}

/** True outside working hours (an overnight window like 22:00–06:00 is allowed). */
export function isOffHours(
  ms: number,
  o: { workStart: string; workEnd: string; weekends: boolean; timezone: string },
): boolean {
  const { weekday, minutes } = localTime(ms, o.timezone);
  if (o.weekends && (weekday === 0 || weekday === 6)) return true;
  const start = hhmmToMinutes(o.workStart);
  const end = hhmmToMinutes(o.workEnd);
  const inside = start <= end ? minutes >= start && minutes < end : minutes >= start || minutes < end;
  return !inside;
}

/** Validates an IANA time zone name. */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export function isRedpacket(m: CanonicalMessage): boolean {
  return m.msgtype === 'redpacket' || m.msgtype === 'external_redpacket';
}
