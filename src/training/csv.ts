/**
 * A streaming RFC 4180 CSV parser: comma-separated fields, double-quoted fields that may hold
 * commas, quotes ("") and line breaks, CRLF or LF (or a lone CR) between records, and a UTF-8
 * byte order mark. Each record carries the physical line it starts on, so importers can name the
 * line of a bad row. Malformed quoting does not stop the parse: the record carries an `error`.
 */

export interface CsvRecord {
  /** 1-based physical line where the record starts. */
  line: number;
  fields: string[];
  /** Why the record is malformed (bad quoting); its fields are then a best effort. */
  error?: string;
}

type State = 'fieldStart' | 'unquoted' | 'quoted' | 'quoteInQuoted' | 'afterQuoted';

/** Incremental parser: `push` chunks of text, then `end`; both return the completed records. */
export class CsvParser {
  private state: State = 'fieldStart';
  private field = '';
  private fields: string[] = [];
  private error: string | undefined;
  private line = 1;
  private recordLine = 1;
  private started = false;
  private recordHasData = false;
  /** A CR ended the previous chunk: an LF at the start of the next belongs to it. */
  private pendingCr = false;
  private crInQuoted = false;

  push(chunk: string): CsvRecord[] {
    const out: CsvRecord[] = [];
    let text = chunk;
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    for (let i = 0; i < text.length; i++) {
      const c = text[i]!;
      if (this.pendingCr) {
        this.pendingCr = false;
        if (c === '\n') continue;
      }
      this.recordHasData ||= c !== '\r' && c !== '\n';
      switch (this.state) {
        case 'fieldStart':
          if (c === '"') this.state = 'quoted';
          else if (c === ',') this.endField();
          else if (c === '\r' || c === '\n') this.endRecord(c, out);
          else {
            this.field += c;
            this.state = 'unquoted';
          }
          break;
        case 'unquoted':
          if (c === ',') this.endField();
          else if (c === '\r' || c === '\n') this.endRecord(c, out);
          else this.field += c;
          break;
        case 'quoted':
          if (c === '"') this.state = 'quoteInQuoted';
          else {
            // CRLF inside a quoted field is one line break, also when split across chunks.
            if (c === '\r' || (c === '\n' && !this.crInQuoted)) this.line++;
            this.field += c;
          }
          this.crInQuoted = c === '\r';
          break;
        case 'quoteInQuoted':
          if (c === '"') {
            this.field += '"';
            this.state = 'quoted';
          } else this.afterClosingQuote(c, out);
          break;
        case 'afterQuoted':
          this.afterClosingQuote(c, out);
          break;
      }
    }
    return out;
  }

  /** Flushes the last record (a file need not end with a line break). */
  end(): CsvRecord[] {
    const out: CsvRecord[] = [];
    if (this.state === 'quoted') this.error ??= 'unterminated quoted field';
    if (this.recordHasData || this.fields.length > 0 || this.state !== 'fieldStart') {
      this.fields.push(this.field);
      out.push(this.take());
    }
    return out;
  }

  private afterClosingQuote(c: string, out: CsvRecord[]): void {
    if (c === ',') this.endField();
    else if (c === '\r' || c === '\n') this.endRecord(c, out);
    else {
      // RFC 4180 allows nothing between a closing quote and the delimiter: keep the text, flag it.
      this.error ??= 'unexpected text after a closing quote';
      this.field += c;
      this.state = 'afterQuoted';
    }
  }

  private endField(): void {
    this.fields.push(this.field);
    this.field = '';
    this.state = 'fieldStart';
  }

  private endRecord(c: string, out: CsvRecord[]): void {
    this.fields.push(this.field);
    out.push(this.take());
    this.line++;
    this.recordLine = this.line;
    if (c === '\r') this.pendingCr = true;
  }

  private take(): CsvRecord {
    const record: CsvRecord = { line: this.recordLine, fields: this.fields };
    if (this.error) record.error = this.error;
    this.fields = [];
    this.field = '';
    this.error = undefined;
    this.state = 'fieldStart';
    this.recordHasData = false;
    return record;
  }
}

/** True for a record from an empty line (one empty field). */
export const isBlankRecord = (r: CsvRecord): boolean =>
  !r.error && r.fields.length === 1 && r.fields[0] === '';

/** Parses a whole CSV text. */
export function parseCsv(text: string): CsvRecord[] {
  const parser = new CsvParser();
  return [...parser.push(text), ...parser.end()];
}

/** The bytes are not valid in the expected encoding (e.g. a GBK file read as UTF-8). */
export class CsvEncodingError extends Error {
  constructor(encoding: string) {
    super(`the file is not valid ${encoding}; save it as "CSV UTF-8" or name its encoding (e.g. gb18030)`);
    this.name = 'CsvEncodingError';
  }
}

/** Records of a text or of a byte/text stream, decoded with `encoding` (default UTF-8). */
export async function* csvRecords(
  source: string | AsyncIterable<string | Uint8Array>,
  encoding = 'utf-8',
): AsyncGenerator<CsvRecord> {
  const parser = new CsvParser();
  if (typeof source === 'string') {
    yield* parser.push(source);
    yield* parser.end();
    return;
  }
  // fatal: a wrongly decoded file must fail, not become replacement characters in course names.
  const decoder = new TextDecoder(encoding, { fatal: true });
  const decode = (bytes?: Uint8Array): string => {
    try {
      return bytes ? decoder.decode(bytes, { stream: true }) : decoder.decode();
    } catch {
      throw new CsvEncodingError(encoding);
    }
  };
  for await (const chunk of source) yield* parser.push(typeof chunk === 'string' ? chunk : decode(chunk));
  yield* parser.push(decode());
  yield* parser.end();
}
