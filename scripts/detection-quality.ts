/**
 * Prints recall and precision per category for the bundled templates on the labelled corpus.
 * Run: npx tsx scripts/detection-quality.ts [--misses]
 */
import { evaluateCorpus, formatReport, loadCorpus } from '../src/detection/quality.js';
import { loadTemplate } from '../src/detection/scan.js';

const entries = loadCorpus();
const report = evaluateCorpus(loadTemplate('all'), entries);
console.log(
  `labelled corpus: ${entries.length} messages, ${entries.filter((e) => e.categories.length > 0).length} positive\n`,
);
console.log(formatReport(report));
if (process.argv.includes('--misses')) {
  console.log('\nmisclassified:');
  for (const m of report.misses)
    console.log(
      `  ${m.entry.id} [${m.entry.variant}] expected=${m.entry.categories.join(',') || '-'} got=${m.predicted.join(',') || '-'}  ${JSON.stringify(m.entry.text)}`,
    );
}
