import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root (where package.json is), whether running from src/ or dist/. */
export function packageRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
}

/** `src/`, where module migrations and templates live in both source and built installs. */
export function sourceRoot(): string {
  return join(packageRoot(), 'src');
}
