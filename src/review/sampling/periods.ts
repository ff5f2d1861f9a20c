import type { SamplingKind } from './types.js';

/**
 * A sampling period as calendar days in the corp's time zone: [firstDay, endDay). The instants
 * are resolved in SQL with the corp's zone, so daylight-saving changes are handled there.
 */
export interface LocalPeriod {
  kind: SamplingKind;
  /** `YYYY-MM`, `YYYY-Www` (ISO week) or `YYYY-MM-DD`. */
  label: string;
  firstDay: string;
  endDay: string;
}

const DAY_MS = 86_400_000;

/** Civil dates are handled as UTC midnights so that no local zone leaks in. */
const civil = (year: number, month: number, day: number): Date => new Date(Date.UTC(year, month - 1, day));
const iso = (d: Date): string => d.toISOString().slice(0, 10);
const addDays = (d: Date, days: number): Date => new Date(d.getTime() + days * DAY_MS);
const pad = (n: number): string => String(n).padStart(2, '0');
/** ISO weekday: Monday 1 … Sunday 7. */
const isoWeekday = (d: Date): number => d.getUTCDay() || 7;

/** A valid `YYYY-MM-DD` as a civil date; a RangeError otherwise. */
export function parseDay(text: string): Date {
  const [year, month, day] = text.split('-').map(Number) as [number, number, number];
  const date = civil(year, month, day);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text) || iso(date) !== text)
    throw new RangeError(`expected a day YYYY-MM-DD, got "${text}"`);
  return date;
}

function monthPeriod(year: number, month: number): LocalPeriod {
  return {
    kind: 'monthly_random',
    label: `${year}-${pad(month)}`,
    firstDay: iso(civil(year, month, 1)),
    endDay: iso(civil(year, month + 1, 1)),
  };
}

/** The ISO week (Monday to Sunday) that contains `day`. */
function weekPeriod(day: Date): LocalPeriod {
  const monday = addDays(day, 1 - isoWeekday(day));
  const thursday = addDays(monday, 3); // its year is the ISO week-numbering year
  const year = thursday.getUTCFullYear();
  const week = Math.floor((thursday.getTime() - civil(year, 1, 1).getTime()) / DAY_MS / 7) + 1;
  return {
    kind: 'weekly_sensitive',
    label: `${year}-W${pad(week)}`,
    firstDay: iso(monday),
    endDay: iso(addDays(monday, 7)),
  };
}

function dayPeriod(day: Date): LocalPeriod {
  return { kind: 'recheck', label: iso(day), firstDay: iso(day), endDay: iso(addDays(day, 1)) };
}

const FORMATS: Record<SamplingKind, string> = {
  monthly_random: 'YYYY-MM',
  weekly_sensitive: 'YYYY-Www (ISO week)',
  recheck: 'YYYY-MM-DD',
};

/** Parses the period of a run; a RangeError names the expected format. */
export function parsePeriod(kind: SamplingKind, text: string): LocalPeriod {
  const invalid = () => new RangeError(`period of ${kind} must be ${FORMATS[kind]}, got "${text}"`);
  const [year, second] = text.split(/-W?/).map(Number) as [number, number];
  if (year < 1970) throw invalid(); // Date.UTC reads years below 100 as 19xx
  if (kind === 'monthly_random') {
    if (!/^\d{4}-\d{2}$/.test(text) || second < 1 || second > 12) throw invalid();
    return monthPeriod(year, second);
  }
  if (kind === 'weekly_sensitive') {
    if (!/^\d{4}-W\d{2}$/.test(text) || second < 1) throw invalid();
    // Monday of week 1 is the Monday of the week holding 4 January.
    const week1 = civil(year, 1, 4);
    const period = weekPeriod(addDays(week1, (second - 1) * 7));
    if (period.label !== text) throw invalid(); // e.g. W53 of a 52-week year
    return period;
  }
  try {
    return dayPeriod(parseDay(text));
  } catch {
    throw invalid();
  }
}

/** The calendar day (`YYYY-MM-DD`) that `at` falls on in `timeZone`. */
export function localDay(at: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).formatToParts(at);
  const get = (type: string): string => parts.find((p) => p.type === type)!.value;
  return `${get('year')}-${get('month')}-${get('day')}`;
}

/** The last period of this kind that had ended by the start of `today` (a local `YYYY-MM-DD`). */
export function previousPeriod(kind: SamplingKind, today: string): LocalPeriod {
  const date = parseDay(today);
  const [year, month] = [date.getUTCFullYear(), date.getUTCMonth() + 1];
  if (kind === 'monthly_random')
    return monthPeriod(month === 1 ? year - 1 : year, month === 1 ? 12 : month - 1);
  if (kind === 'weekly_sensitive') return weekPeriod(addDays(date, -7));
  return dayPeriod(addDays(date, -1));
}

/** The ISO weeks that lie entirely within [firstDay, endDay) (local days). */
export function weeksWithin(firstDay: string, endDay: string): LocalPeriod[] {
  const start = parseDay(firstDay);
  const weeks: LocalPeriod[] = [];
  let week = weekPeriod(addDays(start, (8 - isoWeekday(start)) % 7)); // the first Monday on or after
  while (week.endDay <= endDay) {
    weeks.push(week);
    week = weekPeriod(parseDay(week.endDay));
  }
  return weeks;
}
