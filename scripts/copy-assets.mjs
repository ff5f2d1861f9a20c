// Copies the non-TypeScript files that modules read at run time (policy templates, the labelled
// corpus) next to the compiled code in dist/. Migrations are read from src/ in both layouts.
import { cpSync } from 'node:fs';

for (const dir of ['detection/templates', 'detection/corpus']) {
  cpSync(`src/${dir}`, `dist/${dir}`, { recursive: true, filter: (path) => !path.endsWith('.ts') });
}
