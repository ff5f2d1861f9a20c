/**
 * Blind (keyed-hash) full-text index for Chinese and mixed-script chat content.
 *
 * Text is split into units: each CJK character is a unit; each run of other letters/digits is a
 * Latin "word" unit. Lexemes: a unigram per CJK char, a bigram per two adjacent CJK chars (not
 * across spaces or punctuation), and one lexeme per word — each replaced by
 * base32(HMAC-SHA256(per-corp search key, kind ‖ token))[:13] (64 bits). Lexemes carry the unit's
 * position, so the result is a PostgreSQL `tsvector` literal and phrase search is tsquery's
 * native `<->`/`<N>` operator on a GIN index: a CJK phrase of n ≥ 2 chars becomes a chain of
 * n−1 bigrams, a single char its unigram. No plaintext reaches the database; highlighting
 * happens after decryption (`highlight`). See README.md for what the index reveals.
 */
import { createHmac } from 'node:crypto';

// ---------------------------------------------------------------------------------------------
// Tokenizer

/** A searchable unit of text with its UTF-16 range in the original string. */
export interface Unit {
  kind: 'cjk' | 'word';
  /** Normalized text: NFKC, lower-case. */
  text: string;
  start: number;
  end: number;
  /** For CJK units: the previous unit is a CJK char with nothing in between (a bigram spans them). */
  glued: boolean;
}

const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\p{Script=Bopomofo}]/u;
const WORD = /[\p{L}\p{N}\p{M}]/u;
const MARK = /\p{M}/u;

// Indexing runs once per archived message, so the per-character Unicode work is memoized by
// code point: whether it is a combining mark, what a lone code point normalizes to, and the kind
// of each normalized character. The results are exactly those of the regular expressions above.
const MEMO_LIMIT = 65_536;
const markMemo = new Map<number, boolean>();
const normMemo = new Map<number, string>();
/** 1 CJK, 2 word character, 0 anything else. */
const kindMemo = new Map<string, number>();

function remember<K, V>(memo: Map<K, V>, key: K, value: V): V {
  if (memo.size >= MEMO_LIMIT) memo.clear(); // adversarial text cannot grow it without bound
  memo.set(key, value);
  return value;
}

function isMark(cp: number): boolean {
  if (cp < 0x300) return false; // no combining mark below U+0300
  return markMemo.get(cp) ?? remember(markMemo, cp, MARK.test(String.fromCodePoint(cp)));
}

/** NFKC then lower case of a segment that is one code point (as its own segment, in isolation). */
function normalizeOne(cp: number): string {
  return normMemo.get(cp) ?? remember(normMemo, cp, String.fromCodePoint(cp).normalize('NFKC').toLowerCase());
}

function kindOf(ch: string): number {
  return kindMemo.get(ch) ?? remember(kindMemo, ch, CJK.test(ch) ? 1 : WORD.test(ch) ? 2 : 0);
}

/** Receives the units of a text in order (see scanUnits). */
interface UnitVisitor {
  unit(kind: Unit['kind'], text: string, start: number, end: number, glued: boolean): void;
}

/** Splits text into CJK-char and word units: NFKC (full-width folded), lower-cased, with original offsets. */
export function tokenize(text: string): Unit[] {
  const units: Unit[] = [];
  scanUnits(text, {
    unit: (kind, unit, start, end, glued) => units.push({ kind, text: unit, start, end, glued }),
  });
  return units;
}

/**
 * The units of `text` in order, as tokenize returns them, handed to `visitor` one by one:
 * indexing every archived message this way allocates no unit objects.
 */
function scanUnits(text: string, visitor: UnitVisitor): void {
  let word = ''; // the word being read, visited once it ends
  let wordStart = 0;
  let wordEnd = 0;
  let prevCjk = false; // previous normalized char was CJK (for glue)
  const n = text.length;
  let i = 0;
  while (i < n) {
    // A segment is a character with the combining marks after it (or a run of marks), normalized
    // together so that é = e + U+0301 matches é.
    const start = i;
    const first = text.codePointAt(i)!;
    i += first > 0xffff ? 2 : 1;
    let single = true;
    while (i < n) {
      const cp = text.codePointAt(i)!;
      if (!isMark(cp)) break;
      i += cp > 0xffff ? 2 : 1;
      single = false;
    }
    const norm = single ? normalizeOne(first) : text.slice(start, i).normalize('NFKC').toLowerCase();
    // Code point by code point; mostly there is one, the memoized string itself (no new string).
    const oneChar = norm.length === 1 || (norm.length === 2 && norm.codePointAt(0)! > 0xffff);
    for (let k = 0; k < norm.length;) {
      let ch = norm;
      if (oneChar) k = norm.length;
      else {
        const width = norm.codePointAt(k)! > 0xffff ? 2 : 1;
        ch = norm.slice(k, k + width);
        k += width;
      }
      const kind = kindOf(ch);
      if (kind === 2) {
        if (word === '') wordStart = start;
        word += ch;
        wordEnd = i;
        prevCjk = false;
        continue;
      }
      if (word !== '') {
        visitor.unit('word', word, wordStart, wordEnd, false);
        word = '';
      }
      if (kind === 1) {
        visitor.unit('cjk', ch, start, i, prevCjk);
        prevCjk = true;
      } else prevCjk = false;
    }
  }
  if (word !== '') visitor.unit('word', word, wordStart, wordEnd, false);
}

// ---------------------------------------------------------------------------------------------
// Lexemes

/** PostgreSQL limits: positions are clamped to 16383 and a lexeme keeps at most 256 positions. */
export const PG_MAX_POSITION = 16383;
export const PG_MAX_POSITIONS_PER_LEXEME = 256;

const B32 = 'abcdefghijklmnopqrstuvwxyz234567';

function base32(bytes: Uint8Array): string {
  let out = '';
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += B32[(acc >>> (bits - 5)) & 31];
      bits -= 5;
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) out += B32[(acc << (5 - bits)) & 31];
  return out;
}

/** One positioned lexeme of a phrase query: `offset` is relative to the phrase's first unit. */
interface PhraseTerm {
  lexeme: string;
  offset: number;
}

export interface IndexedText {
  /** tsvector literal, e.g. `'k3x…':1,5 'ab2…':2`; bind as `$1::tsvector`, never through to_tsvector. */
  tsvector: string;
  /** Distinct lexemes. */
  lexemeCount: number;
  /** Units (CJK chars + words), i.e. the highest position used. */
  tokenCount: number;
  /** True when PostgreSQL limits dropped or clamped positions (text > 16383 units, or a lexeme > 256 times): phrase matches may be missed; split such text into several index rows. */
  lossy: boolean;
}

/**
 * Keyed tokenizer/query builder for one corp's search key. Reuse one instance per corp: it
 * memoizes token hashes.
 */
export class BlindIndex {
  /**
   * Lexeme entries by token: unigrams and words by their text, bigrams by their first then second
   * char (no key string to build per lookup). Each memo is emptied when it outgrows `memoSize`.
   */
  private readonly unigrams = new Map<string, LexemeEntry>();
  private readonly words = new Map<string, LexemeEntry>();
  private readonly bigrams = new Map<string, Map<string, LexemeEntry>>();
  private bigramCount = 0;
  /** The state of the collect call in progress (one object, so no closure per message). */
  private readonly collector = new LexemeCollector(this);
  private sortKeys = new Float64Array(256);
  private readonly sortedEntries: LexemeEntry[] = [];
  private readonly positions: boolean;
  private readonly memoSize: number;

  /**
   * `positions: false` stores lexemes without positions (a bag of tokens): the database can no
   * longer line tokens up into sequences (much weaker frequency analysis, see README), phrases
   * become an AND of their lexemes, and exact phrase matching moves to `matchesQuery` after
   * decryption. Rows indexed one way must be queried the same way.
   */
  constructor(
    private readonly key: Uint8Array,
    options: { positions?: boolean; memoSize?: number } = {},
  ) {
    if (key.length < 16) throw new RangeError('search key must be at least 16 bytes');
    this.positions = options.positions ?? true;
    this.memoSize = options.memoSize ?? 50_000;
  }

  /** The lexeme for a token of a kind: 'u' CJK unigram, 'b' CJK bigram, 'w' word. */
  lexeme(kind: 'u' | 'b' | 'w', token: string): string {
    this.bound();
    if (kind !== 'b') return this.entry(kind, token).lexeme;
    const split = token.codePointAt(0)! > 0xffff ? 2 : 1;
    return this.bigram(token.slice(0, split), token.slice(split)).lexeme;
  }

  /** @internal the memo entry of a unigram or word. */
  entry(kind: 'u' | 'w', token: string): LexemeEntry {
    const memo = kind === 'u' ? this.unigrams : this.words;
    let e = memo.get(token);
    if (e === undefined) memo.set(token, (e = newEntry(this.hash(kind, token))));
    return e;
  }

  /** @internal the memo entry of a bigram. */
  bigram(first: string, second: string): LexemeEntry {
    let inner = this.bigrams.get(first);
    if (inner === undefined) this.bigrams.set(first, (inner = new Map()));
    let e = inner.get(second);
    if (e === undefined) {
      inner.set(second, (e = newEntry(this.hash('b', first + second))));
      this.bigramCount++;
    }
    return e;
  }

  private hash(kind: 'u' | 'b' | 'w', token: string): string {
    return base32(
      createHmac('sha256', this.key)
        .update('vigil-blind-index-v1\u0000')
        .update(`${kind}\u0000${token}`, 'utf8')
        .digest()
        .subarray(0, 8),
    );
  }

  /** Keeps the memos bounded; only between texts, so one text never meets two entries of a token. */
  private bound(): void {
    if (this.unigrams.size > this.memoSize) this.unigrams.clear();
    if (this.words.size > this.memoSize) this.words.clear();
    if (this.bigramCount > this.memoSize) {
      this.bigrams.clear();
      this.bigramCount = 0;
    }
  }

  /**
   * The distinct lexemes of a plaintext in tsvector order, each with its positions (1-based,
   * ascending, clamped to PostgreSQL's limits) in `first` and `more`. The positions live on the
   * memo entries, stamped with this call, so indexing a message allocates next to nothing; the
   * returned array is reused by the next call.
   */
  private collect(text: string): { entries: LexemeEntry[]; tokenCount: number; lossy: boolean } {
    this.bound();
    const c = this.collector;
    c.stamp++;
    c.pos = 0;
    c.prevCjk = '';
    c.lossy = false;
    c.seen.length = 0;
    scanUnits(text, c);
    return { entries: this.sorted(c.seen), tokenCount: c.pos, lossy: c.lossy };
  }

  /**
   * The entries in tsvector order. Sorting numbers in a reused typed array (sort key and index
   * in one float) spares the per-message work arrays of Array#sort.
   */
  private sorted(seen: LexemeEntry[]): LexemeEntry[] {
    const n = seen.length;
    if (n > 0xffff) return seen.slice().sort(inTsvectorOrder);
    if (this.sortKeys.length < n) this.sortKeys = new Float64Array(Math.max(n, 2 * this.sortKeys.length));
    const keys = this.sortKeys;
    for (let i = 0; i < n; i++) keys[i] = seen[i]!.order * 0x10000 + i;
    keys.subarray(0, n).sort();
    const out = this.sortedEntries;
    out.length = n;
    for (let i = 0; i < n; i++) out[i] = seen[keys[i]! % 0x10000]!;
    // Equal six-character prefixes (about one pair in 2^30) are ordered by the whole lexeme.
    for (let i = 1; i < n; i++) {
      let j = i;
      while (j > 0 && out[j - 1]!.order === out[j]!.order && inTsvectorOrder(out[j - 1]!, out[j]!) > 0) {
        [out[j - 1], out[j]] = [out[j]!, out[j - 1]!];
        j--;
      }
    }
    return out;
  }

  /** Builds the tsvector literal for a plaintext. */
  indexText(text: string): IndexedText {
    const { entries, tokenCount, lossy } = this.collect(text);
    if (!this.positions)
      return {
        tsvector: entries.map((e) => `'${e.lexeme}'`).join(' '),
        lexemeCount: entries.length,
        tokenCount,
        lossy: false,
      };
    let tsvector = '';
    for (const e of entries)
      tsvector += `${tsvector ? ' ' : ''}'${e.lexeme}':${e.first}${e.more ? `,${e.more.join(',')}` : ''}`;
    return { tsvector, lexemeCount: entries.length, tokenCount, lossy };
  }

  /**
   * The same tsvector as indexText, in PostgreSQL's binary format (what `tsvectorrecv` reads:
   * lexeme count; then per lexeme its bytes, a NUL, the position count and the positions as
   * uint16, weight D). Bound as a binary parameter it spares the server the text parser, which
   * costs more than the insert itself.
   */
  indexTextBinary(text: string): { tsvector: Buffer; lossy: boolean } {
    const { entries, lossy } = this.collect(text);
    const withPositions = this.positions;
    let size = 4;
    for (const e of entries)
      size += e.lexeme.length + 3 + (withPositions ? 2 * (1 + (e.more ? e.more.length : 0)) : 0);
    const out = Buffer.allocUnsafe(size);
    let o = out.writeInt32BE(entries.length, 0);
    for (const e of entries) {
      const l = e.lexeme;
      for (let k = 0; k < l.length; k++) out[o++] = l.charCodeAt(k); // base32: ASCII only
      out[o++] = 0;
      if (!withPositions) {
        out[o++] = 0;
        out[o++] = 0;
        continue;
      }
      const count = 1 + (e.more ? e.more.length : 0);
      out[o++] = count >>> 8;
      out[o++] = count & 0xff;
      out[o++] = e.first >>> 8;
      out[o++] = e.first & 0xff;
      if (e.more)
        for (const v of e.more) {
          out[o++] = v >>> 8;
          out[o++] = v & 0xff;
        }
    }
    return { tsvector: out, lossy: withPositions && lossy };
  }

  /** Positioned lexemes of one phrase (what a `<->` chain must find). */
  phraseTerms(units: readonly Unit[]): PhraseTerm[] {
    const terms: PhraseTerm[] = [];
    for (let i = 0; i < units.length; i++) {
      const u = units[i]!;
      if (u.kind === 'word') terms.push({ lexeme: this.lexeme('w', u.text), offset: i });
      else {
        const next = units[i + 1];
        if (next?.kind === 'cjk' && next.glued)
          terms.push({ lexeme: this.lexeme('b', u.text + next.text), offset: i });
        else if (!(u.glued && units[i - 1]?.kind === 'cjk'))
          terms.push({ lexeme: this.lexeme('u', u.text), offset: i });
        // else: the last char of a CJK run is already covered by the previous bigram
      }
    }
    return terms;
  }

  /** tsquery literal for a parsed query; bind as `$2::tsquery`. */
  buildQuery(query: QueryNode | string): string {
    const node = typeof query === 'string' ? parseQuery(query) : query;
    return this.render(node);
  }

  private render(node: QueryNode): string {
    switch (node.type) {
      case 'phrase': {
        const terms = this.phraseTerms(node.units);
        if (!this.positions) {
          const distinct = [...new Set(terms.map((t) => `'${t.lexeme}'`))];
          return distinct.length > 1 ? `(${distinct.join(' & ')})` : distinct[0]!;
        }
        let s = `'${terms[0]!.lexeme}'`;
        for (let i = 1; i < terms.length; i++) {
          const d = terms[i]!.offset - terms[i - 1]!.offset;
          s += ` ${d === 1 ? '<->' : `<${d}>`} '${terms[i]!.lexeme}'`;
        }
        return terms.length > 1 ? `(${s})` : s;
      }
      case 'and':
        return `(${node.children.map((c) => this.render(c)).join(' & ')})`;
      case 'or':
        return `(${node.children.map((c) => this.render(c)).join(' | ')})`;
      case 'not':
        return `!${this.render(node.child)}`;
    }
  }
}

/**
 * Turns the units of one text into lexeme positions: each position is written on the lexeme's
 * memo entry, stamped with the text being indexed, and the entry listed once in `seen`.
 */
class LexemeCollector implements UnitVisitor {
  stamp = 0;
  pos = 0;
  prevCjk = '';
  lossy = false;
  readonly seen: LexemeEntry[] = [];

  constructor(private readonly index: BlindIndex) {}

  unit(kind: Unit['kind'], text: string, _start: number, _end: number, glued: boolean): void {
    this.pos++;
    if (kind === 'word') {
      this.note(this.index.entry('w', text), this.pos);
      this.prevCjk = '';
      return;
    }
    this.note(this.index.entry('u', text), this.pos);
    // The bigram of the previous char and this one sits at the previous char's position.
    if (glued && this.prevCjk !== '') this.note(this.index.bigram(this.prevCjk, text), this.pos - 1);
    this.prevCjk = text;
  }

  private note(e: LexemeEntry, at: number): void {
    if (at > PG_MAX_POSITION) {
      this.lossy = true;
      at = PG_MAX_POSITION;
    }
    if (e.stamp !== this.stamp) {
      e.stamp = this.stamp;
      e.first = at;
      e.more = null;
      this.seen.push(e);
    } else if ((e.more ? e.more[e.more.length - 1] : e.first) !== at) {
      if (!e.more) e.more = [at];
      else if (e.more.length + 1 < PG_MAX_POSITIONS_PER_LEXEME) e.more.push(at);
      else this.lossy = true;
    }
  }
}

/** A token's lexeme, and its positions in the text being indexed (BlindIndex#collect). */
interface LexemeEntry {
  lexeme: string;
  /** The lexeme's first six characters as a number that sorts as the string does. */
  order: number;
  stamp: number;
  first: number;
  more: number[] | null;
}

/** Rank of each base32 character in byte order ('2'…'7' before 'a'…'z'), as PostgreSQL sorts. */
const BYTE_RANK = new Map([...'234567abcdefghijklmnopqrstuvwxyz'].map((c, i) => [c, i]));

function newEntry(lexeme: string): LexemeEntry {
  let order = 0;
  for (let k = 0; k < 6; k++) order = order * 32 + BYTE_RANK.get(lexeme[k]!)!;
  return { lexeme, order, stamp: 0, first: 0, more: null };
}

function inTsvectorOrder(a: LexemeEntry, b: LexemeEntry): number {
  return a.order - b.order || (a.lexeme < b.lexeme ? -1 : a.lexeme > b.lexeme ? 1 : 0);
}

const indexCache = new WeakMap<Uint8Array, BlindIndex>();
function indexFor(key: Uint8Array): BlindIndex {
  let bi = indexCache.get(key);
  if (!bi) indexCache.set(key, (bi = new BlindIndex(key)));
  return bi;
}

/** Function form of BlindIndex#indexText. */
export function indexText(text: string, key: Uint8Array): IndexedText {
  return indexFor(key).indexText(text);
}

/** Function form of BlindIndex#buildQuery: a tsquery literal for a query string or parsed query. */
export function buildQuery(query: QueryNode | string, key: Uint8Array): string {
  return indexFor(key).buildQuery(query);
}

// ---------------------------------------------------------------------------------------------
// Query language: terms and "quoted phrases", AND / OR / NOT (also & | ! and a leading -),
// parentheses; juxtaposition means AND, so `回扣 AND (返点 OR 好处费) NOT 测试` works as read.

export type QueryNode =
  | { type: 'phrase'; text: string; units: Unit[] }
  | { type: 'and'; children: QueryNode[] }
  | { type: 'or'; children: QueryNode[] }
  | { type: 'not'; child: QueryNode };

export type QueryErrorCode =
  | 'EMPTY'
  | 'UNBALANCED_PAREN'
  | 'UNTERMINATED_QUOTE'
  | 'MISSING_OPERAND'
  | 'NO_SEARCHABLE_TEXT'
  | 'ONLY_NEGATIVE'
  | 'TOO_COMPLEX';

/** A user error in a search query; `code` is stable for translation, `offset` points into the query. */
export class QuerySyntaxError extends Error {
  constructor(
    readonly code: QueryErrorCode,
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'QuerySyntaxError';
  }
}

type Tok =
  { t: 'term' | 'phrase'; v: string; at: number } | { t: 'and' | 'or' | 'not' | '(' | ')'; at: number };

const QUOTES: Record<string, string> = { '"': '"', '“': '”', '「': '」' };
const MAX_QUERY_LENGTH = 1000;
const MAX_PHRASES = 64;

function lex(q: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < q.length) {
    const c = q[i]!;
    if (/\s/u.test(c)) {
      i++;
    } else if (c === '(' || c === ')') {
      toks.push({ t: c, at: i++ });
    } else if (c === '&' || c === '|') {
      toks.push({ t: c === '&' ? 'and' : 'or', at: i++ });
    } else if (c === '!' || (c === '-' && i + 1 < q.length && !/\s/u.test(q[i + 1]!))) {
      toks.push({ t: 'not', at: i++ });
    } else if (QUOTES[c]) {
      const close = q.indexOf(QUOTES[c], i + 1);
      if (close < 0) throw new QuerySyntaxError('UNTERMINATED_QUOTE', 'unterminated quote', i);
      toks.push({ t: 'phrase', v: q.slice(i + 1, close), at: i });
      i = close + 1;
    } else {
      const start = i;
      while (i < q.length && !/[\s()"“「&|]/u.test(q[i]!)) i++;
      const v = q.slice(start, i);
      if (v === 'AND') toks.push({ t: 'and', at: start });
      else if (v === 'OR') toks.push({ t: 'or', at: start });
      else if (v === 'NOT') toks.push({ t: 'not', at: start });
      else toks.push({ t: 'term', v, at: start });
    }
  }
  return toks;
}

/** Parses a user query into an AST. Throws QuerySyntaxError. */
export function parseQuery(query: string): QueryNode {
  if (query.length > MAX_QUERY_LENGTH)
    throw new QuerySyntaxError(
      'TOO_COMPLEX',
      `query longer than ${MAX_QUERY_LENGTH} characters`,
      MAX_QUERY_LENGTH,
    );
  const toks = lex(query.normalize('NFKC'));
  if (toks.length === 0) throw new QuerySyntaxError('EMPTY', 'empty query', 0);
  let i = 0;
  let phrases = 0;
  const peek = (): Tok | undefined => toks[i];
  const end = (): number => query.length;

  const orExpr = (): QueryNode => {
    const children = [andExpr()];
    while (peek()?.t === 'or') {
      i++;
      children.push(andExpr());
    }
    return children.length === 1 ? children[0]! : { type: 'or', children };
  };
  const andExpr = (): QueryNode => {
    const children = [unary()];
    for (;;) {
      const t = peek();
      if (!t || t.t === 'or' || t.t === ')') break;
      if (t.t === 'and') i++;
      children.push(unary());
    }
    return children.length === 1 ? children[0]! : { type: 'and', children };
  };
  const unary = (): QueryNode => {
    const t = peek();
    if (t?.t === 'not') {
      i++;
      return { type: 'not', child: unary() };
    }
    return primary();
  };
  const primary = (): QueryNode => {
    const t = peek();
    if (!t)
      throw new QuerySyntaxError('MISSING_OPERAND', 'operator at the end of the query has no operand', end());
    if (t.t === '(') {
      i++;
      const inner = orExpr();
      if (peek()?.t !== ')')
        throw new QuerySyntaxError('UNBALANCED_PAREN', 'missing closing parenthesis', peek()?.at ?? end());
      i++;
      return inner;
    }
    if (t.t === 'term' || t.t === 'phrase') {
      i++;
      const units = tokenize(t.v);
      if (units.length === 0)
        throw new QuerySyntaxError('NO_SEARCHABLE_TEXT', `"${t.v}" contains no searchable characters`, t.at);
      if (++phrases > MAX_PHRASES)
        throw new QuerySyntaxError('TOO_COMPLEX', `more than ${MAX_PHRASES} terms`, t.at);
      return { type: 'phrase', text: t.v, units };
    }
    if (t.t === ')') throw new QuerySyntaxError('UNBALANCED_PAREN', 'unexpected closing parenthesis', t.at);
    throw new QuerySyntaxError(
      'MISSING_OPERAND',
      `operator ${t.t.toUpperCase()} needs an operand before it`,
      t.at,
    );
  };

  const ast = orExpr();
  const rest = peek();
  if (rest) throw new QuerySyntaxError('UNBALANCED_PAREN', 'unexpected closing parenthesis', rest.at);
  if (!requiresPositive(ast)) {
    throw new QuerySyntaxError(
      'ONLY_NEGATIVE',
      'the query must require at least one term (NOT alone would match everything)',
      0,
    );
  }
  return ast;
}

// True when every matching document must contain some positive term (so the GIN index can serve it).
function requiresPositive(n: QueryNode): boolean {
  switch (n.type) {
    case 'phrase':
      return true;
    case 'and':
      return n.children.some(requiresPositive);
    case 'or':
      return n.children.every(requiresPositive);
    case 'not':
      return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Plaintext matching and highlighting, after decryption

function phraseMatches(text: readonly Unit[], phrase: readonly Unit[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  outer: for (let i = 0; i + phrase.length <= text.length; i++) {
    for (let k = 0; k < phrase.length; k++) {
      const q = phrase[k]!;
      const u = text[i + k]!;
      if (u.kind !== q.kind || u.text !== q.text) continue outer;
      // Two CJK chars written together in the query must be together in the text (bigram).
      if (k > 0 && q.kind === 'cjk' && q.glued && !u.glued) continue outer;
    }
    out.push([i, i + phrase.length]);
  }
  return out;
}

function evaluate(node: QueryNode, units: readonly Unit[]): boolean {
  switch (node.type) {
    case 'phrase':
      return phraseMatches(units, node.units).length > 0;
    case 'and':
      return node.children.every((c) => evaluate(c, units));
    case 'or':
      return node.children.some((c) => evaluate(c, units));
    case 'not':
      return !evaluate(node.child, units);
  }
}

/**
 * Evaluates a query against decrypted text with exactly the index's semantics. Use it to drop
 * the (rare, ~2^-64 per lexeme) hash-collision false positives of the index.
 */
export function matchesQuery(plaintext: string, query: QueryNode | string): boolean {
  return evaluate(typeof query === 'string' ? parseQuery(query) : query, tokenize(plaintext));
}

function positivePhrases(node: QueryNode, negated = false, out: QueryNode[] = []): QueryNode[] {
  if (node.type === 'phrase') {
    if (!negated) out.push(node);
  } else if (node.type === 'not') positivePhrases(node.child, !negated, out);
  else for (const c of node.children) positivePhrases(c, negated, out);
  return out;
}

export interface Highlight {
  /** Excerpt of the plaintext around the first match (the whole text when short). */
  snippet: string;
  /** Matched ranges relative to `snippet`, sorted and merged; [start, end) in UTF-16 units. */
  ranges: Array<{ start: number; end: number }>;
  /** Snippet's offset in the plaintext. */
  offset: number;
  truncatedStart: boolean;
  truncatedEnd: boolean;
  /** Whether the plaintext satisfies the whole query (false: index false positive). */
  matched: boolean;
}

/** Finds the query's positive phrases in decrypted text and cuts a snippet of about `maxLength` chars around the first. */
export function highlight(plaintext: string, query: QueryNode | string, maxLength = 120): Highlight {
  const ast = typeof query === 'string' ? parseQuery(query) : query;
  const units = tokenize(plaintext);
  const ranges: Array<{ start: number; end: number }> = [];
  for (const p of positivePhrases(ast)) {
    if (p.type !== 'phrase') continue;
    for (const [a, b] of phraseMatches(units, p.units))
      ranges.push({ start: units[a]!.start, end: units[b - 1]!.end });
  }
  ranges.sort((x, y) => x.start - y.start || x.end - y.end);
  const merged: typeof ranges = [];
  for (const r of ranges) {
    const last = merged[merged.length - 1];
    if (last && r.start <= last.end) last.end = Math.max(last.end, r.end);
    else merged.push({ ...r });
  }
  let from = 0;
  let to = plaintext.length;
  if (plaintext.length > maxLength) {
    const first = merged[0] ?? { start: 0, end: 0 };
    from = Math.max(0, Math.min(first.start - Math.floor(maxLength / 4), plaintext.length - maxLength));
    to = Math.min(plaintext.length, from + maxLength);
    // don't split a surrogate pair
    if (from > 0 && /[\uDC00-\uDFFF]/.test(plaintext[from]!)) from--;
    if (to < plaintext.length && /[\uDC00-\uDFFF]/.test(plaintext[to]!)) to++;
  }
  return {
    snippet: plaintext.slice(from, to),
    ranges: merged
      .filter((r) => r.end > from && r.start < to)
      .map((r) => ({ start: Math.max(r.start, from) - from, end: Math.min(r.end, to) - from })),
    offset: from,
    truncatedStart: from > 0,
    truncatedEnd: to < plaintext.length,
    matched: evaluate(ast, units),
  };
}
