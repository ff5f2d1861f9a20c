/**
 * Compiles the stand-in libWeWorkFinanceSdk_C.so with the system C compiler into a cache
 * directory when it is missing or its sources changed (content hash in a sidecar file).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Repository root (same depth from src/ and dist/). */
function repoRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
}

export interface BuildStandinOptions {
  /** Output directory (default <repo>/.tmp/native). */
  outDir?: string;
  /** C compiler (default $CC or cc). */
  cc?: string;
}

const FLAGS = ['-std=c11', '-O2', '-Wall', '-Wextra', '-fPIC', '-shared'];

/** Returns the path of an up-to-date stand-in library, building it if needed. */
export async function ensureStandinLibrary(opts: BuildStandinOptions = {}): Promise<string> {
  const srcDir = join(repoRoot(), 'native', 'wework-finance-standin');
  const source = join(srcDir, 'WeWorkFinanceSdk_C.c');
  const header = join(srcDir, 'WeWorkFinanceSdk_C.h');
  const outDir = opts.outDir ?? join(repoRoot(), '.tmp', 'native');
  const out = join(outDir, 'libWeWorkFinanceSdk_C.so');
  const cc = opts.cc ?? process.env.CC ?? 'cc';
  const hash = createHash('sha256')
    .update(readFileSync(source))
    .update(readFileSync(header))
    .update(FLAGS.join(' '))
    .update(cc)
    .digest('hex');
  const stamp = `${out}.sha256`;
  if (existsSync(out) && existsSync(stamp) && readFileSync(stamp, 'utf8') === hash) return out;
  mkdirSync(outDir, { recursive: true });
  // Build to a unique name and rename: parallel test workers may build at the same time.
  const tmp = `${out}.${process.pid}.${Date.now()}.tmp`;
  try {
    await run(cc, [...FLAGS, '-o', tmp, source], { timeout: 120_000 });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`building the stand-in finance SDK with ${cc} failed: ${err.stderr ?? err.message}`, {
      cause: e,
    });
  }
  renameSync(tmp, out);
  writeFileSync(stamp, hash);
  return out;
}
