/**
 * Dates of training records: `YYYY-MM-DD` is a calendar day in the corp's time zone, an ISO 8601
 * date-time without an offset is a wall-clock time there, and one with `Z` or `±HH:MM` is exact.
 */

/** A parsed date: a calendar day (no time given) or an exact instant. */
export type TrainingDate =
  { kind: 'day'; year: number; month: number; day: number } | { kind: 'instant'; at: Date };

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?$/i;

const daysInMonth = (year: number, month: number): number => new Date(Date.UTC(year, month, 0)).getUTCDate();

function validDay(year: number, month: number, day: number): boolean {
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

/** Parses a date or date-time of a CSV cell; undefined when it is neither. */
export function parseTrainingDate(text: string, timeZone: string): TrainingDate | undefined {
  const value = text.trim();
  const day = DAY.exec(value);
  if (day) {
    const [year, month, d] = [Number(day[1]), Number(day[2]), Number(day[3])];
    return validDay(year, month, d) ? { kind: 'day', year, month, day: d } : undefined;
  }
  const m = DATE_TIME.exec(value);
  if (!m) return undefined;
  const [year, month, d, hour, minute] = [1, 2, 3, 4, 5].map((i) => Number(m[i]));
  const second = Number(m[6] ?? 0);
  const ms = Number((m[7] ?? '0').padEnd(3, '0').slice(0, 3));
  if (!validDay(year!, month!, d!) || hour! > 23 || minute! > 59 || second > 59) return undefined;
  const wall = Date.UTC(year!, month! - 1, d!, hour!, minute!, second, ms);
  const zone = m[8];
  if (zone === undefined) return { kind: 'instant', at: zonedWallTime(wall, timeZone) };
  if (zone.toUpperCase() === 'Z') return { kind: 'instant', at: new Date(wall) };
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const offsetMinutes = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2)));
  return { kind: 'instant', at: new Date(wall - offsetMinutes * 60_000) };
}

/** The instant a training date stands for; a day means its start (midnight in the corp's zone). */
export function startOf(date: TrainingDate, timeZone: string): Date {
  if (date.kind === 'instant') return date.at;
  return zonedWallTime(Date.UTC(date.year, date.month - 1, date.day), timeZone);
}

/**
 * The instant an expiry date stands for: a day is valid through its end, so the record expires at
 * the start of the next day.
 */
export function expiryOf(date: TrainingDate, timeZone: string): Date {
  if (date.kind === 'instant') return date.at;
  return zonedWallTime(Date.UTC(date.year, date.month - 1, date.day + 1), timeZone);
}

/**
 * `months` calendar months after a completion (the 31st becomes the month's last day). A day
 * stays a day: completed 2026-01-15 with 12 months expires at the start of 2027-01-15.
 */
export function addMonths(date: TrainingDate, months: number, timeZone: string): Date {
  if (date.kind === 'day') {
    const total = date.year * 12 + (date.month - 1) + months;
    const year = Math.floor(total / 12);
    const month = (total % 12) + 1;
    const day = Math.min(date.day, daysInMonth(year, month));
    return zonedWallTime(Date.UTC(year, month - 1, day), timeZone);
  }
  const at = date.at;
  const total = at.getUTCFullYear() * 12 + at.getUTCMonth() + months;
  const year = Math.floor(total / 12);
  const month = total % 12;
  const day = Math.min(at.getUTCDate(), daysInMonth(year, month + 1));
  return new Date(
    Date.UTC(
      year,
      month,
      day,
      at.getUTCHours(),
      at.getUTCMinutes(),
      at.getUTCSeconds(),
      at.getUTCMilliseconds(),
    ),
  );
}

/** Offset of `timeZone` from UTC at an instant, in milliseconds. */
function offsetAt(instant: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(new Date(instant));
  const get = (type: string): number => Number(parts.find((p) => p.type === type)!.value);
  const asUtc = Date.UTC(
    get('year'),
    get('month') - 1,
    get('day'),
    get('hour'),
    get('minute'),
    get('second'),
  );
  return asUtc - Math.floor(instant / 1000) * 1000;
}

/** The instant at which the wall clock of `timeZone` shows `wall` (given as a UTC timestamp). */
export function zonedWallTime(wall: number, timeZone: string): Date {
  // Twice: the offset at the first guess may differ across a daylight-saving change.
  const guess = wall - offsetAt(wall, timeZone);
  return new Date(wall - offsetAt(guess, timeZone));
}
