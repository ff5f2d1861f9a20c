/**
 * Blind-index throughput, printed as ratios against an in-process baseline (NFKC + lower-case of
 * the same text, the cheapest thing any tokenizer must do). Run: npx tsx bench/search/tokenizer.bench.ts
 */
import { createHmac, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { BlindIndex, parseQuery, tokenize } from '../../src/crypto/blind-index.js';

const samples = [
  '张总，这次的回扣按老规矩，返点走私人账户。iPhone15手机也算好处费',
  '客户说下周三之前要把合同盖章寄回来，麻烦尽快处理一下，谢谢！',
  'ＯＫ，收到。明天10:30在会议室B见，带上Q3的报表。',
  '这个产品保本保息，年化收益8%，绝对没有风险，您放心投。',
];
const corpus = Array.from({ length: 2000 }, (_, i) => samples[i % samples.length]! + ' #' + i);
const chars = corpus.reduce((n, t) => n + t.length, 0);

function time(label: string, fn: () => void, rounds = 5): number {
  fn(); // warm-up
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    fn();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

const key = randomBytes(32);
const baseline = time('baseline', () => {
  for (const t of corpus) t.normalize('NFKC').toLowerCase();
});
const hmacOnly = time('hmac per char', () => {
  for (const t of corpus) for (const ch of t) createHmac('sha256', key).update(ch).digest();
});
const tok = time('tokenize', () => {
  for (const t of corpus) tokenize(t);
});
const cold = time(
  'indexText (cold memo)',
  () => {
    const bi = new BlindIndex(key);
    for (const t of corpus) bi.indexText(t);
  },
  3,
);
const warmIndex = new BlindIndex(key);
const warm = time('indexText (warm memo)', () => {
  for (const t of corpus) warmIndex.indexText(t);
});
const query = time('parse+buildQuery', () => {
  for (let i = 0; i < 2000; i++) warmIndex.buildQuery(parseQuery('回扣 AND (返点 OR 好处费) NOT 测试'));
});

console.log(
  `corpus: ${corpus.length} messages, ${chars} chars; baseline (NFKC+lower) ${baseline.toFixed(2)} ms`,
);
for (const [label, ms] of [
  ['HMAC per char (naive)', hmacOnly],
  ['tokenize', tok],
  ['indexText, cold memo', cold],
  ['indexText, warm memo', warm],
  ['2000 × parse+buildQuery', query],
] as const) {
  console.log(
    `${label.padEnd(26)} ${(ms / baseline).toFixed(1).padStart(7)} × baseline   (${((corpus.length / ms) * 1000).toFixed(0)} msgs/s)`,
  );
}
