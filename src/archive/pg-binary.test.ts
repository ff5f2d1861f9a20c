import { afterAll, describe, expect, it } from 'vitest';
import { closeTestPool, testPool } from '../../test/support/db.js';
import { int8Array, textArray, timestamptzArray } from './pg-binary.js';

afterAll(closeTestPool);

describe('binary array parameters, read back by PostgreSQL', () => {
  it('bigint[]: safe integers, negatives, strings and values beyond 2^53', async () => {
    const values = [
      '0',
      '1',
      '-1',
      '4294967296',
      '-4294967297',
      9007199254740991,
      '9223372036854775807',
      null,
    ];
    const { rows } = await testPool().query<{ v: string[] }>('SELECT $1::bigint[]::text[] AS v', [
      int8Array(values),
    ]);
    expect(rows[0]!.v).toEqual(values.map((v) => (v === null ? null : String(v))));
  });

  it('timestamptz[] keeps milliseconds, before and after 2000', async () => {
    const dates = [new Date('1999-12-31T23:59:59.999Z'), new Date('2026-11-24T08:00:00.123Z')];
    const { rows } = await testPool().query<{ v: Date[] }>('SELECT $1::timestamptz[] AS v', [
      timestamptzArray(dates),
    ]);
    expect(rows[0]!.v.map((d) => d.toISOString())).toEqual(dates.map((d) => d.toISOString()));
  });

  it('text[] in UTF-8 with NULLs', async () => {
    const values = ['回扣', '', null, 'a"b'];
    const { rows } = await testPool().query<{ v: Array<string | null> }>('SELECT $1::text[] AS v', [
      textArray(values),
    ]);
    expect(rows[0]!.v).toEqual(values);
  });
});
