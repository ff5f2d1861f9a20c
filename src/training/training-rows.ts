import type { CsvRecord } from './csv.js';
import { addMonths, expiryOf, parseTrainingDate, startOf } from './dates.js';
import { TrainingImportError } from './types.js';

/** Columns of a training CSV; `userid` (WeCom employee) or `username` (Vigil account) names the person. */
export const TRAINING_COLUMNS = [
  'userid',
  'username',
  'course',
  'completed_at',
  'expires_at',
  'valid_months',
] as const;
type Column = (typeof TRAINING_COLUMNS)[number];

export interface TrainingHeader {
  index: Partial<Record<Column, number>>;
  width: number;
  ignored: string[];
}

/** Reads the header row; throws when a required column is missing or one is given twice. */
export function parseHeader(record: CsvRecord | undefined): TrainingHeader {
  if (!record) throw new TrainingImportError('the file is empty: expected a header row');
  if (record.error) throw new TrainingImportError(`header row: ${record.error}`);
  const index: Partial<Record<Column, number>> = {};
  const ignored: string[] = [];
  record.fields.forEach((raw, i) => {
    const name = raw.trim().toLowerCase();
    if (!(TRAINING_COLUMNS as readonly string[]).includes(name)) {
      if (name !== '') ignored.push(raw.trim());
      return;
    }
    if (index[name as Column] !== undefined) throw new TrainingImportError(`header: column ${name} twice`);
    index[name as Column] = i;
  });
  const missing = ['course', 'completed_at'].filter((c) => index[c as Column] === undefined);
  if (index.userid === undefined && index.username === undefined) missing.unshift('userid or username');
  if (missing.length > 0)
    throw new TrainingImportError(
      `header: missing ${missing.join(', ')} (columns: ${TRAINING_COLUMNS.join(', ')})`,
    );
  return { index, width: record.fields.length, ignored };
}

/** One data row, checked on its own; the person is resolved against the database afterwards. */
export interface CheckedRow {
  line: number;
  userid: string | null;
  username: string | null;
  course: string;
  completedAt: Date | null;
  expiresAt: Date | null;
  problems: string[];
}

const MAX_COURSE = 200;
const MAX_MONTHS = 600;
const quote = (v: string): string => JSON.stringify(v.length > 50 ? `${v.slice(0, 50)}…` : v);
const DATE_FORMS = 'expected YYYY-MM-DD or an ISO 8601 date-time';

/** Validates a data row: person named, course present, dates well-formed and in order. */
export function checkRow(record: CsvRecord, header: TrainingHeader, timeZone: string, now: Date): CheckedRow {
  const cell = (c: Column): string => {
    const i = header.index[c];
    return i === undefined ? '' : (record.fields[i] ?? '').trim();
  };
  const row: CheckedRow = {
    line: record.line,
    userid: cell('userid') || null,
    username: cell('username').toLowerCase() || null,
    course: cell('course'),
    completedAt: null,
    expiresAt: null,
    problems: [],
  };
  if (record.error) {
    row.problems.push(`malformed CSV: ${record.error}`);
    return row;
  }
  // More fields than the header usually means an unquoted comma shifted the columns.
  if (record.fields.length > header.width)
    row.problems.push(
      `${record.fields.length} fields, the header has ${header.width} (quote fields with commas)`,
    );
  if (!row.userid && !row.username) row.problems.push('no userid or username');
  if (!row.course) row.problems.push('missing course');
  else if (row.course.length > MAX_COURSE) row.problems.push(`course longer than ${MAX_COURSE} characters`);

  const completedText = cell('completed_at');
  const completed = completedText ? parseTrainingDate(completedText, timeZone) : undefined;
  if (!completedText) row.problems.push('missing completed_at');
  else if (!completed) row.problems.push(`bad date in completed_at: ${quote(completedText)} (${DATE_FORMS})`);
  else {
    row.completedAt = startOf(completed, timeZone);
    if (row.completedAt > now) row.problems.push('completed_at is in the future');
  }

  const expiresText = cell('expires_at');
  const monthsText = cell('valid_months');
  if (expiresText && monthsText) row.problems.push('give expires_at or valid_months, not both');
  else if (expiresText) {
    const expires = parseTrainingDate(expiresText, timeZone);
    if (!expires) row.problems.push(`bad date in expires_at: ${quote(expiresText)} (${DATE_FORMS})`);
    else row.expiresAt = expiryOf(expires, timeZone);
  } else if (monthsText) {
    const months = /^\d{1,4}$/.test(monthsText) ? Number(monthsText) : NaN;
    if (!(months >= 1 && months <= MAX_MONTHS))
      row.problems.push(`bad valid_months ${quote(monthsText)} (expected whole months, 1–${MAX_MONTHS})`);
    else if (completed) row.expiresAt = addMonths(completed, months, timeZone);
  }
  if (row.completedAt && row.expiresAt && row.expiresAt <= row.completedAt)
    row.problems.push('expires before completion (expires_at is not after completed_at)');
  return row;
}
