import { describe, expect, it } from 'vitest';
import { buildCorpus } from './corpus/generate.js';
import { evaluateCorpus, loadCorpus } from './quality.js';
import { loadTemplate } from './scan.js';

describe('labelled corpus quality (bundled templates)', () => {
  const entries = loadCorpus();

  it('the committed corpus is what the generator produces', () => {
    expect(entries).toEqual(buildCorpus());
    expect(entries.length).toBeGreaterThanOrEqual(1000);
  });

  it('keeps recall and precision above the floor in every category', () => {
    const report = evaluateCorpus(loadTemplate('all'), entries);
    for (const c of report.categories) {
      expect(c.recall, `${c.category} recall`).toBeGreaterThanOrEqual(0.95);
      expect(c.precision, `${c.category} precision`).toBeGreaterThanOrEqual(0.95);
    }
    expect(report.overall.recall).toBeGreaterThanOrEqual(0.98);
    expect(report.overall.precision).toBeGreaterThanOrEqual(0.98);
  });

  it('no hard negative hits', () => {
    const hard = entries.filter((e) => e.variant.startsWith('hard-negative'));
    const report = evaluateCorpus(loadTemplate('all'), hard);
    expect(report.misses.map((m) => m.entry.text)).toEqual([]);
  });
});
