import { describe, expect, it } from 'vitest';
import { CsvEncodingError, CsvParser, csvRecords, isBlankRecord, parseCsv } from './csv.js';

const fields = (text: string) => parseCsv(text).map((r) => r.fields);

async function collect(source: AsyncIterable<Uint8Array>, encoding?: string) {
  const out = [];
  for await (const r of csvRecords(source, encoding)) out.push(r);
  return out;
}

async function* bytes(...chunks: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const c of chunks) yield c;
}

describe('RFC 4180 CSV parser', () => {
  it('splits fields and records; no record after the final line break', () => {
    expect(fields('a,b,c\n1,2,3\n')).toEqual([
      ['a', 'b', 'c'],
      ['1', '2', '3'],
    ]);
    expect(fields('a,b\n1,2')).toEqual([
      ['a', 'b'],
      ['1', '2'],
    ]);
    expect(fields(',\n')).toEqual([['', '']]);
    expect(fields('')).toEqual([]);
  });

  it('handles quoted fields with commas, doubled quotes and line breaks, keeping line numbers', () => {
    const records = parseCsv(
      'course,note\r\n"反洗钱, 2026","He said ""ok"""\r\n"two\r\nlines",x\r\nlast,"y"\r\n',
    );
    expect(records).toEqual([
      { line: 1, fields: ['course', 'note'] },
      { line: 2, fields: ['反洗钱, 2026', 'He said "ok"'] },
      { line: 3, fields: ['two\r\nlines', 'x'] },
      { line: 5, fields: ['last', 'y'] },
    ]);
  });

  it('strips a byte order mark and accepts LF, CRLF and lone CR line breaks', () => {
    expect(fields('\uFEFFuserid,course\r\nzhangsan,AML\rlisi,AML\nwangwu,AML')).toEqual([
      ['userid', 'course'],
      ['zhangsan', 'AML'],
      ['lisi', 'AML'],
      ['wangwu', 'AML'],
    ]);
    // A BOM later in the text is data.
    expect(fields('a\n\uFEFFb')).toEqual([['a'], ['\uFEFFb']]);
  });

  it('gives the same records whatever the chunk boundaries', () => {
    const text = '\uFEFFa,"b\r\nc",d\r\n"e""f",g\r\n\r\nh,"i"\r\n';
    const whole = parseCsv(text);
    for (let cut = 0; cut <= text.length; cut++) {
      for (let cut2 = cut; cut2 <= text.length; cut2 += 3) {
        const parser = new CsvParser();
        const records = [
          ...parser.push(text.slice(0, cut)),
          ...parser.push(text.slice(cut, cut2)),
          ...parser.push(text.slice(cut2)),
          ...parser.end(),
        ];
        expect(records).toEqual(whole);
      }
    }
    expect(whole.map((r) => r.line)).toEqual([1, 3, 4, 5]);
  });

  it('reports blank lines as blank records and flags malformed quoting without stopping', () => {
    const records = parseCsv('a,b\n\n"x"y,z\n1,2\n"open,3\n4,5\n');
    expect(records.map((r) => r.line)).toEqual([1, 2, 3, 4, 5]);
    expect(isBlankRecord(records[1]!)).toBe(true);
    expect(records[2]).toMatchObject({ fields: ['xy', 'z'], error: 'unexpected text after a closing quote' });
    expect(records[3]).toEqual({ line: 4, fields: ['1', '2'] });
    expect(records[4]).toMatchObject({ line: 5, error: 'unterminated quoted field' });
  });

  it('keeps a quote inside an unquoted field literally', () => {
    expect(fields('5" pipe,x')).toEqual([['5" pipe', 'x']]);
  });
});

describe('csvRecords', () => {
  it('decodes UTF-8 split inside a character, and refuses bytes that are not UTF-8', async () => {
    const utf8 = Buffer.from('\uFEFFcourse\n反洗钱培训\n');
    const records = await collect(bytes(utf8.subarray(0, 12), utf8.subarray(12)));
    expect(records.map((r) => r.fields)).toEqual([['course'], ['反洗钱培训']]);

    const gbk = Buffer.from([0xb7, 0xb4, 0xcf, 0xb4, 0xc7, 0xae]); // 反洗钱 in GB18030
    await expect(collect(bytes(Buffer.from('course\n'), gbk))).rejects.toBeInstanceOf(CsvEncodingError);
    const decoded = await collect(bytes(Buffer.from('course\n'), gbk), 'gb18030');
    expect(decoded[1]!.fields).toEqual(['反洗钱']);
  });
});
