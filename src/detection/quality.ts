import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CompiledPolicySet } from './rules/policy-set.js';
import { message } from './test-support.js';

/** One labelled corpus line. */
export interface LabelledEntry {
  id: string;
  text: string;
  categories: string[];
  variant: string;
}

export interface CategoryScore {
  category: string;
  tp: number;
  fp: number;
  fn: number;
  precision: number;
  recall: number;
}

export interface QualityReport {
  categories: CategoryScore[];
  overall: CategoryScore;
  misses: { entry: LabelledEntry; predicted: string[] }[];
}

/** Reads src/detection/corpus/labelled.jsonl. */
export function loadCorpus(): LabelledEntry[] {
  const path = fileURLToPath(new URL('./corpus/labelled.jsonl', import.meta.url));
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as LabelledEntry);
}

function score(category: string, tp: number, fp: number, fn: number): CategoryScore {
  return {
    category,
    tp,
    fp,
    fn,
    precision: tp + fp === 0 ? 1 : tp / (tp + fp),
    recall: tp + fn === 0 ? 1 : tp / (tp + fn),
  };
}

/** Scans each entry as an outbound text message to a customer and scores categories. */
export function evaluateCorpus(policy: CompiledPolicySet, entries: readonly LabelledEntry[]): QualityReport {
  const counts = new Map<string, { tp: number; fp: number; fn: number }>();
  const misses: QualityReport['misses'] = [];
  const bump = (c: string, k: 'tp' | 'fp' | 'fn'): void => {
    const v = counts.get(c) ?? { tp: 0, fp: 0, fn: 0 };
    v[k]++;
    counts.set(c, v);
  };
  entries.forEach((e, i) => {
    const hits = policy.scanMessage(message({ msgid: e.id, conversationId: `q${i}`, text: e.text }));
    const predicted = [...new Set(hits.map((h) => h.category))].filter((c) => c !== 'sensitive_behaviour');
    let wrong = false;
    for (const c of e.categories) {
      if (predicted.includes(c)) bump(c, 'tp');
      else {
        bump(c, 'fn');
        wrong = true;
      }
    }
    for (const c of predicted) {
      if (!e.categories.includes(c)) {
        bump(c, 'fp');
        wrong = true;
      }
    }
    if (wrong) misses.push({ entry: e, predicted });
  });
  const categories = [...counts.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([c, v]) => score(c, v.tp, v.fp, v.fn));
  const sum = (k: 'tp' | 'fp' | 'fn'): number => categories.reduce((s, c) => s + c[k], 0);
  return { categories, overall: score('overall', sum('tp'), sum('fp'), sum('fn')), misses };
}

/** Formats a report as a fixed-width table. */
export function formatReport(r: QualityReport): string {
  const row = (c: CategoryScore): string =>
    `${c.category.padEnd(22)} ${String(c.tp).padStart(5)} ${String(c.fp).padStart(5)} ${String(c.fn).padStart(5)} ${c.precision.toFixed(3).padStart(9)} ${c.recall.toFixed(3).padStart(7)}`;
  return [
    `${'category'.padEnd(22)} ${'tp'.padStart(5)} ${'fp'.padStart(5)} ${'fn'.padStart(5)} ${'precision'.padStart(9)} ${'recall'.padStart(7)}`,
    ...r.categories.map(row),
    row(r.overall),
  ].join('\n');
}
