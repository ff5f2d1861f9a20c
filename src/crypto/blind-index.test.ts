import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  BlindIndex,
  buildQuery,
  highlight,
  indexText,
  matchesQuery,
  parseQuery,
  QuerySyntaxError,
  tokenize,
  type QueryNode,
} from './blind-index.js';

const key = Buffer.alloc(32, 1);
const bi = new BlindIndex(key);

// ---- a tiny evaluator of tsvector/tsquery literals with PostgreSQL's semantics ----------------

function parseTsvector(lit: string): Map<string, number[]> {
  // A lexeme may carry no positions (positionless mode): it matches plain lexeme queries only.
  const m = new Map<string, number[]>();
  for (const [, lex, pos] of lit.matchAll(/'([^']+)'(?::([\d,]+))?/g))
    m.set(lex!, pos ? pos.split(',').map(Number) : []);
  return m;
}

type TsNode =
  | { op: 'lex'; v: string }
  | { op: '&' | '|'; l: TsNode; r: TsNode }
  | { op: '!'; c: TsNode }
  | { op: 'phrase'; l: TsNode; r: TsNode; d: number };

/** Parses tsquery with PostgreSQL precedence: ! > <N> > & > |. */
function parseTsquery(q: string): TsNode {
  const toks = q.match(/'[^']*'|<->|<\d+>|[!&|()]/g)!;
  expect(toks.join('').replace(/\s/g, '')).toBe(q.replace(/\s/g, '')); // nothing unexpected
  let i = 0;
  const or = (): TsNode => {
    let l = and();
    while (toks[i] === '|') {
      i++;
      l = { op: '|', l, r: and() };
    }
    return l;
  };
  const and = (): TsNode => {
    let l = phrase();
    while (toks[i] === '&') {
      i++;
      l = { op: '&', l, r: phrase() };
    }
    return l;
  };
  const phrase = (): TsNode => {
    let l = not();
    while (toks[i]?.startsWith('<')) {
      const t = toks[i++]!;
      l = { op: 'phrase', l, r: not(), d: t === '<->' ? 1 : Number(t.slice(1, -1)) };
    }
    return l;
  };
  const not = (): TsNode => {
    if (toks[i] === '!') return (i++, { op: '!', c: not() });
    if (toks[i] === '(') {
      i++;
      const n = or();
      expect(toks[i++]).toBe(')');
      return n;
    }
    const t = toks[i++]!;
    expect(t.startsWith("'")).toBe(true);
    return { op: 'lex', v: t.slice(1, -1) };
  };
  const n = or();
  expect(i).toBe(toks.length);
  return n;
}

/** Positions where a phrase (left-deep chain of lexemes) ends, as PostgreSQL's TS_phrase_execute reports them. */
function phrasePositions(n: TsNode, vec: Map<string, number[]>): Set<number> {
  if (n.op === 'lex') return new Set(vec.get(n.v) ?? []);
  if (n.op !== 'phrase' || n.r.op !== 'lex') throw new Error('only left-deep lexeme chains are generated');
  const left = phrasePositions(n.l, vec);
  return new Set([...(vec.get(n.r.v) ?? [])].filter((p) => left.has(p - n.d)));
}

function tsMatch(n: TsNode, vec: Map<string, number[]>): boolean {
  switch (n.op) {
    case '&':
      return tsMatch(n.l, vec) && tsMatch(n.r, vec);
    case '|':
      return tsMatch(n.l, vec) || tsMatch(n.r, vec);
    case '!':
      return !tsMatch(n.c, vec);
    case 'lex':
      return vec.has(n.v);
    default:
      return phrasePositions(n, vec).size > 0;
  }
}

const dbMatches = (text: string, query: string | QueryNode): boolean =>
  tsMatch(parseTsquery(bi.buildQuery(query)), parseTsvector(bi.indexText(text).tsvector));

// ---- tokenizer -----------------------------------------------------------------------------

describe('tokenize', () => {
  it('splits mixed text into CJK chars and lower-cased words with original offsets', () => {
    const t = tokenize('给张总的回扣iPhone15手机, 2024年5月！');
    expect(t.map((u) => u.text)).toEqual([
      '给',
      '张',
      '总',
      '的',
      '回',
      '扣',
      'iphone15',
      '手',
      '机',
      '2024',
      '年',
      '5',
      '月',
    ]);
    expect(t.map((u) => u.glued)).toEqual([
      false,
      true,
      true,
      true,
      true,
      true,
      false,
      false,
      true,
      false,
      false,
      false,
      false,
    ]);
    const iphone = t[6]!;
    expect('给张总的回扣iPhone15手机, 2024年5月！'.slice(iphone.start, iphone.end)).toBe('iPhone15');
  });

  it('folds full-width forms and compatibility characters (NFKC) and keeps original ranges', () => {
    const s = 'ＡＢＣ１２３ 回扣ｶﾀｶﾅ';
    const t = tokenize(s);
    expect(t.map((u) => u.text)).toEqual(['abc123', '回', '扣', 'カ', 'タ', 'カ', 'ナ']);
    expect(s.slice(t[0]!.start, t[0]!.end)).toBe('ＡＢＣ１２３');
    expect(t[3]!.glued).toBe(true); // 扣 → カ: both CJK, written together
  });

  it('normalizes combining sequences and treats punctuation and spaces as breaks (no bigram across them)', () => {
    expect(tokenize('cafe\u0301 café').map((u) => u.text)).toEqual(['café', 'café']);
    const t = tokenize('回，扣 回扣');
    expect(t.map((u) => [u.text, u.glued])).toEqual([
      ['回', false],
      ['扣', false],
      ['回', false],
      ['扣', true],
    ]);
    expect(tokenize('😀 -- ...')).toEqual([]);
  });

  it('handles astral-plane Han characters', () => {
    const s = '𠀀𠀁a';
    const t = tokenize(s);
    expect(t.map((u) => u.text)).toEqual(['𠀀', '𠀁', 'a']);
    expect(s.slice(t[1]!.start, t[1]!.end)).toBe('𠀁');
  });
});

// ---- index and query ----------------------------------------------------------------------------

describe('indexText / buildQuery', () => {
  it('emits unigrams and bigrams with positions, and no plaintext', () => {
    const r = indexText('回扣回扣 ok', key);
    expect(r.tokenCount).toBe(5);
    // unigrams 回,扣 (2 positions each), bigrams 回扣 (1,3) 扣回 (2), word ok
    expect(r.lexemeCount).toBe(5);
    expect(r.tsvector).toMatch(/^('[a-z2-7]{13}':\d+(,\d+)* ?)+$/);
    expect(r.tsvector).not.toMatch(/回|ok/);
    const v = parseTsvector(r.tsvector);
    expect(v.get(bi.lexeme('b', '回扣'))).toEqual([1, 3]);
    expect(r.lossy).toBe(false);
  });

  it('different corp keys give unrelated lexemes', () => {
    expect(indexText('回扣', key).tsvector).not.toBe(indexText('回扣', randomBytes(32)).tsvector);
  });

  it('builds phrase chains: 1 char = unigram, n chars = n-1 bigrams, mixed with words', () => {
    const l = (k: 'u' | 'b' | 'w', t: string) => `'${bi.lexeme(k, t)}'`;
    expect(buildQuery('回', key)).toBe(l('u', '回'));
    expect(buildQuery('回扣', key)).toBe(l('b', '回扣'));
    expect(buildQuery('好处费', key)).toBe(`(${l('b', '好处')} <-> ${l('b', '处费')})`);
    expect(buildQuery('"iphone手机x"', key)).toBe(
      `(${l('w', 'iphone')} <-> ${l('b', '手机')} <2> ${l('w', 'x')})`,
    );
    expect(buildQuery('回扣 AND (返点 OR 好处费) NOT 测试', key)).toBe(
      `(${l('b', '回扣')} & (${l('b', '返点')} | (${l('b', '好处')} <-> ${l('b', '处费')})) & !${l('b', '测试')})`,
    );
  });

  it('matches as a user expects', () => {
    const text = '张总，这次的回扣按老规矩，返点走私人账户。iPhone15手机也算好处费';
    expect(dbMatches(text, '回扣')).toBe(true);
    expect(dbMatches(text, '回扣 AND (返点 OR 好处费) NOT 测试')).toBe(true);
    expect(dbMatches(text, '回扣 NOT 返点')).toBe(false);
    expect(dbMatches(text, '"iphone15 手机"')).toBe(true);
    expect(dbMatches(text, 'IPHONE15手机')).toBe(true);
    expect(dbMatches(text, 'iphone')).toBe(false); // word-level for Latin
    expect(dbMatches(text, '扣按')).toBe(true);
    expect(dbMatches(text, '扣返')).toBe(false);
    expect(dbMatches(text, '规矩返点')).toBe(false); // a comma separates them
    expect(dbMatches(text, '"规矩 返点"')).toBe(true); // adjacent units, separator allowed
    expect(dbMatches('回扣', '回扣扣')).toBe(false);
    expect(dbMatches('哈哈哈', '哈哈哈')).toBe(true);
    expect(dbMatches('哈哈', '哈哈哈')).toBe(false);
  });

  it('flags texts beyond PostgreSQL tsvector limits as lossy', () => {
    expect(indexText('哈'.repeat(300), key).lossy).toBe(true);
    expect(indexText('a '.repeat(16_400), key).lossy).toBe(true);
  });
});

describe('parseQuery errors', () => {
  const cases: Array<[string, string]> = [
    ['', 'EMPTY'],
    ['   ', 'EMPTY'],
    ['(回扣', 'UNBALANCED_PAREN'],
    ['回扣)', 'UNBALANCED_PAREN'],
    ['()', 'UNBALANCED_PAREN'],
    ['"回扣', 'UNTERMINATED_QUOTE'],
    ['回扣 AND', 'MISSING_OPERAND'],
    ['OR 回扣', 'MISSING_OPERAND'],
    ['回扣 AND OR 返点', 'MISSING_OPERAND'],
    ['NOT', 'MISSING_OPERAND'],
    ['NOT 测试', 'ONLY_NEGATIVE'],
    ['回扣 OR NOT 测试', 'ONLY_NEGATIVE'],
    ['"，。！"', 'NO_SEARCHABLE_TEXT'],
    ['回'.repeat(1001), 'TOO_COMPLEX'],
    [Array(65).fill('词').join(' '), 'TOO_COMPLEX'],
  ];
  for (const [q, code] of cases) {
    it(`${JSON.stringify(q.slice(0, 20))} → ${code}`, () => {
      const err = (() => {
        try {
          parseQuery(q);
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(QuerySyntaxError);
      expect((err as QuerySyntaxError).code).toBe(code);
    });
  }

  it('accepts symbol operators, full-width parentheses, Chinese quotes and a leading minus', () => {
    const a = parseQuery('回扣 & （返点 | “好 处 费”） -测试');
    const b = parseQuery('回扣 AND (返点 OR "好 处 费") NOT 测试');
    const strip = (n: QueryNode): unknown =>
      JSON.parse(JSON.stringify(n, (k, v: unknown) => (k === 'units' || k === 'text' ? undefined : v)));
    expect(strip(a)).toEqual(strip(b));
    expect(parseQuery('e-mail').type).toBe('phrase');
  });
});

// ---- property tests: index + tsquery agree with plaintext semantics ---------------------------

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}
const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

describe('property: phrase occurs in text ⇔ tsquery matches the tsvector', () => {
  it('CJK-only text without separators: substring ⇔ match (3000 cases)', () => {
    const r = rng(1);
    const alphabet = ['回', '扣', '返', '点', '费'];
    for (let n = 0; n < 3000; n++) {
      const text = Array.from({ length: 1 + Math.floor(r() * 12) }, () => pick(r, alphabet)).join('');
      const phrase = Array.from({ length: 1 + Math.floor(r() * 4) }, () => pick(r, alphabet)).join('');
      expect(dbMatches(text, phrase), `${text} / ${phrase}`).toBe(text.includes(phrase));
    }
  });

  it('mixed scripts with separators: structural occurrence ⇔ match (3000 cases)', () => {
    // Build texts from known pieces so the oracle does not use the tokenizer under test.
    type Piece = { s: string; cjk: boolean };
    const cjk: Piece[] = ['回', '扣', '返', '点'].map((s) => ({ s, cjk: true }));
    const words: Piece[] = ['ab', 'Ab', 'ＡＢ', 'x1', '12'].map((s) => ({ s, cjk: false }));
    const norm = (p: Piece) => p.s.normalize('NFKC').toLowerCase();
    const gen = (r: () => number, len: number) => {
      const pieces: Piece[] = [];
      const seps: string[] = []; // seps[i] is written before pieces[i] (i > 0)
      for (let i = 0; i < len; i++) {
        const p = r() < 0.6 ? pick(r, cjk) : pick(r, words);
        const prev = pieces[i - 1];
        // two words must be separated or they merge into one word
        const sep = prev && !prev.cjk && !p.cjk ? pick(r, [' ', '，', '-']) : pick(r, ['', '', ' ', '，']);
        pieces.push(p);
        seps.push(sep);
      }
      return { pieces, seps, text: pieces.map((p, i) => (i > 0 ? seps[i] : '') + p.s).join('') };
    };
    const occurs = (t: ReturnType<typeof gen>, q: ReturnType<typeof gen>) => {
      for (let i = 0; i + q.pieces.length <= t.pieces.length; i++) {
        let ok = true;
        for (let k = 0; k < q.pieces.length && ok; k++) {
          const a = t.pieces[i + k]!;
          const b = q.pieces[k]!;
          ok = norm(a) === norm(b);
          // CJK written together in the query must be together in the text
          if (ok && k > 0 && b.cjk && q.pieces[k - 1]!.cjk && q.seps[k] === '') ok = t.seps[i + k] === '';
        }
        if (ok) return true;
      }
      return false;
    };
    const r = rng(2);
    let positives = 0;
    for (let n = 0; n < 3000; n++) {
      const t = gen(r, 1 + Math.floor(r() * 14));
      // half the phrases are cut from the text, half random
      let q: ReturnType<typeof gen>;
      if (r() < 0.5) {
        const a = Math.floor(r() * t.pieces.length);
        const b = a + 1 + Math.floor(r() * Math.min(4, t.pieces.length - a));
        q = { pieces: t.pieces.slice(a, b), seps: t.seps.slice(a, b), text: '' };
        q.text = q.pieces.map((p, i) => (i > 0 ? q.seps[i] : '') + p.s).join('');
      } else q = gen(r, 1 + Math.floor(r() * 3));
      const expected = occurs(t, q);
      if (expected) positives++;
      const quoted = `"${q.text}"`;
      expect(dbMatches(t.text, quoted), `${t.text} / ${quoted}`).toBe(expected);
      expect(matchesQuery(t.text, quoted)).toBe(expected);
    }
    expect(positives).toBeGreaterThan(1000);
  });

  it('boolean queries: tsquery over the index ⇔ plaintext evaluation (1500 cases)', () => {
    const r = rng(3);
    const terms = ['回扣', '返点', '好处费', '扣', 'ok', '"回 扣"', 'x1'];
    const genQ = (depth: number): string => {
      const x = r();
      if (depth === 0 || x < 0.4) return pick(r, terms);
      if (x < 0.65) return `(${genQ(depth - 1)} AND ${genQ(depth - 1)})`;
      if (x < 0.9) return `(${genQ(depth - 1)} OR ${genQ(depth - 1)})`;
      return `(${pick(r, terms)} NOT ${genQ(depth - 1)})`;
    };
    const bits = ['回扣', '返点', '好处', '费', '扣', ' ok ', 'x1', '回 扣', '，'];
    for (let n = 0; n < 1500; n++) {
      const text = Array.from({ length: Math.floor(r() * 8) }, () => pick(r, bits)).join('');
      let q: QueryNode;
      try {
        q = parseQuery(genQ(3));
      } catch {
        continue;
      }
      expect(dbMatches(text, q)).toBe(matchesQuery(text, q));
    }
  });
});

describe('property: the index equals its definition over the units', () => {
  /** The tsvector as defined in the module comment, straight from tokenize's units. */
  function reference(text: string): Map<string, number[]> {
    const units = tokenize(text);
    const vec = new Map<string, number[]>();
    const add = (lexeme: string, pos: number) => {
      const list = vec.get(lexeme) ?? [];
      const p = Math.min(pos, 16383);
      if (list.at(-1) !== p && list.length < 256) list.push(p);
      vec.set(lexeme, list);
    };
    units.forEach((u, i) => {
      if (u.kind === 'word') return add(bi.lexeme('w', u.text), i + 1);
      add(bi.lexeme('u', u.text), i + 1);
      const next = units[i + 1];
      if (next?.kind === 'cjk' && next.glued) add(bi.lexeme('b', u.text + next.text), i + 1);
    });
    return vec;
  }

  /** Decodes the binary tsvector (tsvectorrecv's format) into the literal form. */
  function fromBinary(b: Buffer): string {
    const parts: string[] = [];
    let o = 4;
    for (let n = b.readInt32BE(0); n > 0; n--) {
      const nul = b.indexOf(0, o);
      const lexeme = b.toString('latin1', o, nul);
      o = nul + 1;
      const positions: number[] = [];
      for (let k = b.readUInt16BE(o), p = o + 2; k > 0; k--, p += 2) positions.push(b.readUInt16BE(p));
      o += 2 + 2 * positions.length;
      parts.push(`'${lexeme}':${positions.join(',')}`);
    }
    expect(o).toBe(b.length);
    return parts.join(' ');
  }

  it('literal and binary forms agree with the definition, limits included (2000 texts)', () => {
    const r = rng(7);
    const tinyMemo = new BlindIndex(key, { memoSize: 4 }); // emptied between most texts
    const pieces = [
      '回',
      '扣',
      '返',
      '点',
      '𠀀',
      'ab',
      'ＡＢ',
      'e\u0301',
      '\u0301',
      'x1',
      ' ',
      '，',
      '。',
      '\n',
      'ﬁ',
    ];
    for (let n = 0; n < 2000; n++) {
      const long = n % 100 === 0; // beyond 16,383 units or 256 repeats: clamped and flagged lossy
      const count = long ? 17_000 : Math.floor(r() * 40);
      const text = Array.from({ length: count }, () => pick(r, pieces)).join('');
      const want = reference(text);
      const literal = bi.indexText(text);
      expect(parseTsvector(literal.tsvector), text.slice(0, 40)).toEqual(
        new Map([...want].sort(([a], [b]) => (a < b ? -1 : 1))),
      );
      expect([...parseTsvector(literal.tsvector).keys()]).toEqual([...want.keys()].sort());
      expect(tinyMemo.indexText(text)).toEqual(literal);
      const binary = bi.indexTextBinary(text);
      expect(fromBinary(binary.tsvector)).toBe(literal.tsvector);
      expect(binary.lossy).toBe(literal.lossy);
      if (long) expect(literal.lossy).toBe(true);
    }
  });
});

describe('tsvector order', () => {
  it('orders lexemes byte-wise, also those sharing their six-character sort prefix', () => {
    type Entry = { lexeme: string; order: number };
    const sorted = (entries: Entry[]): Entry[] =>
      (bi as unknown as { sorted(e: Entry[]): Entry[] }).sorted(entries).slice();
    const r = rng(11);
    const alphabet = '234567abcdefghijklmnopqrstuvwxyz';
    // Few prefixes, many lexemes each: ties on the prefix are the rule here, not one in 2^30.
    const prefixes = ['2zzzzz', 'aaaaaa', 'aaaaab', 'zzzzzz']; // byte order: their index is `order`
    const entries = Array.from({ length: 300 }, () => {
      const order = Math.floor(r() * prefixes.length);
      const rest = Array.from({ length: 7 }, () => pick(r, [...alphabet])).join('');
      return { lexeme: prefixes[order]! + rest, order };
    });
    expect(sorted(entries).map((e) => e.lexeme)).toEqual(entries.map((e) => e.lexeme).sort());
  });
});

describe('positionless mode', () => {
  const bag = new BlindIndex(key, { positions: false });
  const bagMatches = (text: string, q: string) =>
    tsMatch(parseTsquery(bag.buildQuery(q)), parseTsvector(bag.indexText(text).tsvector));

  it('stores no positions and turns phrases into AND of lexemes', () => {
    expect(bag.indexText('回扣回扣').tsvector).not.toMatch(/:\d/);
    expect(bag.buildQuery('好处费')).toBe(`('${bag.lexeme('b', '好处')}' & '${bag.lexeme('b', '处费')}')`);
  });

  it('is a superset of exact phrase matching; matchesQuery after decryption restores exactness', () => {
    const r = rng(4);
    const alphabet = ['回', '扣', '返', '点'];
    for (let n = 0; n < 1000; n++) {
      const text = Array.from({ length: 1 + Math.floor(r() * 10) }, () => pick(r, alphabet)).join('');
      const phrase = Array.from({ length: 1 + Math.floor(r() * 4) }, () => pick(r, alphabet)).join('');
      const exact = text.includes(phrase);
      if (exact) expect(bagMatches(text, phrase)).toBe(true);
      expect(bagMatches(text, phrase) && matchesQuery(text, phrase)).toBe(exact);
    }
  });
});

describe('highlight', () => {
  it('returns ranges in the original text, full-width and case preserved', () => {
    const text = '请把ＩＰＨＯＮＥ15手机的回扣打到账户，回扣别走公账';
    const h = highlight(text, '回扣 OR "iphone15手机" NOT 测试');
    expect(h.matched).toBe(true);
    expect(h.ranges.map((r) => h.snippet.slice(r.start, r.end))).toEqual([
      'ＩＰＨＯＮＥ15手机',
      '回扣',
      '回扣',
    ]);
  });

  it('cuts a snippet around the first match and reports truncation', () => {
    const text = '无关内容'.repeat(50) + '这里有回扣' + '其他内容'.repeat(50);
    const h = highlight(text, '回扣', 40);
    expect(h.snippet.length).toBeLessThanOrEqual(41);
    expect(h.truncatedStart && h.truncatedEnd).toBe(true);
    expect(h.snippet.slice(h.ranges[0]!.start, h.ranges[0]!.end)).toBe('回扣');
    expect(text.slice(h.offset + h.ranges[0]!.start, h.offset + h.ranges[0]!.end)).toBe('回扣');
  });

  it('does not highlight negated terms and reports non-matches', () => {
    const h = highlight('测试回扣', '回扣 NOT 测试');
    expect(h.matched).toBe(false);
    expect(h.ranges).toEqual([{ start: 2, end: 4 }]);
  });
});
