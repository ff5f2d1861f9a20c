/**
 * Deterministically expands phrases.ts into labelled.jsonl: every positive line plain, in context
 * and (for bracketed phrases) rewritten with evasion forms; every negative line in a few contexts.
 * Run: npx tsx src/detection/corpus/generate.ts
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as OpenCC from 'opencc-js';
import { pinyin } from 'pinyin-pro';
import { SPLIT_FORMS } from '../normalize/char-tables.js';
import { HARD_NEGATIVES, HOMOPHONES, NEGATIVES, POSITIVES, PREFIXES, SUFFIXES } from './phrases.js';

export interface CorpusEntry {
  id: string;
  text: string;
  categories: string[];
  variant: string;
}

const toTraditional = OpenCC.Converter({ from: 'cn', to: 'tw' });
/** Terms whose template enables pinyin matching. */
const PINYIN_TERMS = new Set([
  '回扣',
  '返点',
  '好处费',
  '飞单',
  '私单',
  '保本',
  '保底',
  '稳赚',
  '傻逼',
  '内幕消息',
  '删记录',
]);
const FULLWIDTH = (s: string): string =>
  s.replace(/[!-~]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));
const CIRCLED = '⓪①②③④⑤⑥⑦⑧⑨';

type Transform = [name: string, apply: (term: string) => string | undefined];

const TRANSFORMS: readonly Transform[] = [
  ['noise-space', (t) => [...t].join(' ')],
  ['noise-symbol', (t) => [...t].join('*')],
  ['noise-emoji', (t) => [...t].join('😀')],
  ['noise-zero-width', (t) => [...t].join('\u200b')],
  ['repeat', (t) => (t.length >= 2 ? t[0]! + t : undefined)],
  ['traditional', (t) => (toTraditional(t) !== t ? toTraditional(t) : undefined)],
  ['pinyin', (t) => (PINYIN_TERMS.has(t) ? pinyin(t, { toneType: 'none', separator: '' }) : undefined)],
  ['homophone', (t) => HOMOPHONES[t]],
  [
    'split',
    (t) =>
      [...t].some((c) => SPLIT_FORMS[c]) ? [...t].map((c) => SPLIT_FORMS[c]?.[0] ?? c).join('') : undefined,
  ],
  ['fullwidth', (t) => (/[A-Za-z0-9]/.test(t) ? FULLWIDTH(t) : undefined)],
  ['number-form', (t) => (/\d/.test(t) ? t.replace(/\d/g, (d) => CIRCLED[Number(d)]!) : undefined)],
];

/** Builds the corpus entries (pure and deterministic). */
export function buildCorpus(): CorpusEntry[] {
  const out: CorpusEntry[] = [];
  const seen = new Set<string>();
  let n = 0;
  const add = (text: string, categories: string[], variant: string): void => {
    if (seen.has(text)) return;
    seen.add(text);
    out.push({ id: `c${String(++n).padStart(4, '0')}`, text, categories, variant });
  };
  let k = 0;
  for (const [category, lines] of Object.entries(POSITIVES)) {
    for (const line of lines) {
      const plain = line.replace(/[[\]]/g, '');
      add(plain, [category], 'plain');
      add(
        PREFIXES[k % PREFIXES.length]! + plain + SUFFIXES[(k * 3 + 1) % SUFFIXES.length]!,
        [category],
        'context',
      );
      add(toTraditional(plain), [category], 'traditional-sentence');
      const digits = plain.match(/\d/);
      if (digits)
        add(
          plain.replace(/\d/g, (d) => CIRCLED[Number(d)]!),
          [category],
          'number-form',
        );
      const marked = line.match(/\[([^\]]+)\]/);
      if (marked) {
        const term = marked[1]!;
        let applied = 0;
        for (let i = 0; i < TRANSFORMS.length && applied < 4; i++) {
          const [name, apply] = TRANSFORMS[(k + i) % TRANSFORMS.length]!;
          const rewritten = apply(term);
          if (rewritten === undefined) continue;
          add(line.replace(/\[[^\]]+\]/, rewritten), [category], name);
          applied++;
        }
        for (const name of ['pinyin', 'homophone', 'split'] as const) {
          const rewritten = TRANSFORMS.find(([t]) => t === name)![1](term);
          if (rewritten !== undefined) add(line.replace(/\[[^\]]+\]/, rewritten), [category], name);
        }
      }
      k++;
    }
  }
  HARD_NEGATIVES.forEach((line, i) => {
    add(line, [], 'hard-negative');
    add(
      PREFIXES[(i + 2) % PREFIXES.length]! + line + SUFFIXES[i % SUFFIXES.length]!,
      [],
      'hard-negative-context',
    );
    add(toTraditional(line), [], 'hard-negative-traditional');
    add(
      PREFIXES[(i + 5) % PREFIXES.length]! + line + SUFFIXES[(i + 3) % SUFFIXES.length]!,
      [],
      'hard-negative-context',
    );
  });
  NEGATIVES.forEach((line, i) => {
    add(line, [], 'negative');
    add(
      PREFIXES[(i + 1) % PREFIXES.length]! + line + SUFFIXES[(i + 2) % SUFFIXES.length]!,
      [],
      'negative-context',
    );
    add(
      PREFIXES[(i + 4) % PREFIXES.length]! + line + SUFFIXES[(i + 5) % SUFFIXES.length]!,
      [],
      'negative-context',
    );
    if (i % 2 === 0) add(toTraditional(line), [], 'negative-traditional');
    if (i % 3 === 0) add(`${line}\n${NEGATIVES[(i + 7) % NEGATIVES.length]!}`, [], 'negative-multiline');
  });
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const entries = buildCorpus();
  const target = fileURLToPath(new URL('./labelled.jsonl', import.meta.url));
  writeFileSync(target, entries.map((e) => JSON.stringify(e)).join('\n') + '\n');
  console.log(`wrote ${entries.length} entries to ${target}`);
}
