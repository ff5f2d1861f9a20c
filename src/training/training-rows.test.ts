import { describe, expect, it } from 'vitest';
import { parseCsv } from './csv.js';
import { addMonths, expiryOf, parseTrainingDate, startOf } from './dates.js';
import { checkRow, parseHeader } from './training-rows.js';
import { TrainingImportError } from './types.js';

const SHANGHAI = 'Asia/Shanghai';
const NOW = new Date('2026-06-01T00:00:00Z');

function rows(text: string) {
  const [head, ...data] = parseCsv(text);
  const header = parseHeader(head);
  return data.map((r) => checkRow(r, header, SHANGHAI, NOW));
}

describe('training dates', () => {
  it('reads days in the corp time zone and date-times with or without an offset', () => {
    const day = parseTrainingDate('2026-01-15', SHANGHAI)!;
    expect(startOf(day, SHANGHAI).toISOString()).toBe('2026-01-14T16:00:00.000Z');
    // An expiry day is valid through its end.
    expect(expiryOf(day, SHANGHAI).toISOString()).toBe('2026-01-15T16:00:00.000Z');
    expect(startOf(parseTrainingDate('2026-01-15T09:30', SHANGHAI)!, SHANGHAI).toISOString()).toBe(
      '2026-01-15T01:30:00.000Z',
    );
    expect(startOf(parseTrainingDate('2026-01-15 09:30:05Z', SHANGHAI)!, SHANGHAI).toISOString()).toBe(
      '2026-01-15T09:30:05.000Z',
    );
    expect(startOf(parseTrainingDate('2026-01-15T09:30:00.5-05:00', SHANGHAI)!, SHANGHAI).toISOString()).toBe(
      '2026-01-15T14:30:00.500Z',
    );
    // Daylight saving: midnight in New York is 05:00Z in winter, 04:00Z in summer.
    expect(
      startOf(parseTrainingDate('2026-07-01', 'America/New_York')!, 'America/New_York').toISOString(),
    ).toBe('2026-07-01T04:00:00.000Z');
    for (const bad of [
      '2026-02-30',
      '2026-13-01',
      '2026/01/15',
      '15.01.2026',
      '2026-01-15T25:00',
      'soon',
      '',
    ])
      expect(parseTrainingDate(bad, SHANGHAI), bad).toBeUndefined();
  });

  it('adds calendar months, clamping to the end of shorter months', () => {
    expect(addMonths(parseTrainingDate('2026-01-15', SHANGHAI)!, 12, SHANGHAI).toISOString()).toBe(
      '2027-01-14T16:00:00.000Z',
    );
    expect(addMonths(parseTrainingDate('2026-01-31', SHANGHAI)!, 1, SHANGHAI).toISOString()).toBe(
      '2026-02-27T16:00:00.000Z',
    );
    expect(addMonths(parseTrainingDate('2025-11-30T10:00:00Z', SHANGHAI)!, 3, SHANGHAI).toISOString()).toBe(
      '2026-02-28T10:00:00.000Z',
    );
  });
});

describe('training CSV rows', () => {
  it('requires a person column, course and completed_at in the header', () => {
    expect(() => parseHeader(parseCsv('course,completed_at')[0])).toThrow(/missing userid or username/);
    expect(() => parseHeader(parseCsv('userid,completed_at')[0])).toThrow(/missing course/);
    expect(() => parseHeader(parseCsv('userid,course,completed_at,Course')[0])).toThrow(/course twice/);
    expect(() => parseHeader(undefined)).toThrow(TrainingImportError);
    const header = parseHeader(parseCsv(' UserID ,Course,Completed_At,department')[0]);
    expect(header.index).toEqual({ userid: 0, course: 1, completed_at: 2 });
    expect(header.ignored).toEqual(['department']);
  });

  it('accepts good rows and computes expiry from expires_at or valid_months', () => {
    const [a, b, c] = rows(
      'userid,username,course,completed_at,expires_at,valid_months\n' +
        'zhangsan,,AML,2026-01-15,2026-12-31,\n' +
        ',Li.Lei,AML,2026-01-15T10:00:00+08:00,,24\n' +
        'wangwu,,Ethics,2026-03-01,,\n',
    );
    expect(a).toMatchObject({ line: 2, userid: 'zhangsan', username: null, problems: [] });
    expect(a!.expiresAt!.toISOString()).toBe('2026-12-31T16:00:00.000Z');
    expect(b).toMatchObject({ username: 'li.lei', problems: [] });
    expect(b!.expiresAt!.toISOString()).toBe('2028-01-15T02:00:00.000Z');
    expect(c).toMatchObject({ course: 'Ethics', expiresAt: null, problems: [] });
  });

  it('names every problem of a bad row', () => {
    const checked = rows(
      'userid,course,completed_at,expires_at,valid_months\n' +
        'a,,2026-01-01,,\n' +
        ',AML,2026-01-01,,\n' +
        'b,AML,2026-02-30,,\n' +
        'c,AML,,,\n' +
        'd,AML,2026-05-01,2026-04-30,\n' +
        'e,AML,2026-05-01,2027-01-01,12\n' +
        'f,AML,2026-05-01,,zwölf\n' +
        'g,AML,2027-01-01,,\n' +
        'h,Anti-bribery, 2026,2026-01-01,,\n',
    );
    expect(checked.map((r) => [r.line, r.problems.join('; ')])).toEqual([
      [2, 'missing course'],
      [3, 'no userid or username'],
      [4, 'bad date in completed_at: "2026-02-30" (expected YYYY-MM-DD or an ISO 8601 date-time)'],
      [5, 'missing completed_at'],
      [6, 'expires before completion (expires_at is not after completed_at)'],
      [7, 'give expires_at or valid_months, not both'],
      [8, 'bad valid_months "zwölf" (expected whole months, 1–600)'],
      [9, 'completed_at is in the future'],
      [
        10,
        '6 fields, the header has 5 (quote fields with commas); ' +
          'bad date in completed_at: "2026" (expected YYYY-MM-DD or an ISO 8601 date-time)',
      ],
    ]);
  });
});
