/**
 * First load of the web console in Chromium: a new visitor with an empty cache opening
 * http://localhost:<port>/ until the sign-in form can be typed into, against a baseline measured
 * in the same run (the same server answering a navigation to /healthz, i.e. one round trip and an
 * empty document). Also prints what the first load transfers (scripts, styles) — the production
 * build is split by route, so it carries only the shell and the sign-in page.
 *
 *   npx tsx bench/console/first-load.ts [--runs 15]
 *
 * Runs the real `vigil serve` stack (startVigil) over a fresh database (BENCH_DATABASE_URL or
 * TEST_DATABASE_URL, a server URL) with no demo seed. Target: under 2 s.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { chromium, type Browser } from 'playwright-core';
import { pino } from 'pino';
import { startVigil } from '../../src/app.js';
import { configSchema } from '../../src/platform/config/schema.js';
import { packageRoot } from '../../src/platform/paths.js';
import { databaseUrlFor } from '../../test/support/urls.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '15' } } });
const RUNS = Number(values.runs);
const serverUrl = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
if (!serverUrl) throw new Error('set BENCH_DATABASE_URL or TEST_DATABASE_URL (a PostgreSQL server URL)');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.ceil(xs.length * 0.95) - 1]!;

/** Milliseconds from navigation start until `ready` resolves, in a fresh context (cold cache). */
async function coldLoad(browser: Browser, url: string, ready: string | null) {
  const context = await browser.newContext({ locale: 'zh-CN' });
  const page = await context.newPage();
  const started = performance.now();
  await page.goto(url, { waitUntil: ready ? 'commit' : 'load' });
  if (ready) await page.getByLabel(ready).waitFor();
  const ms = performance.now() - started;
  const bytes = await page.evaluate(() =>
    performance
      .getEntriesByType('resource')
      .map((e) => e as unknown as { name: string; encodedBodySize: number })
      .filter((e) => /\.(js|css)$/.test(new URL(e.name).pathname))
      .reduce((sum, e) => sum + e.encodedBodySize, 0),
  );
  await context.close();
  return { ms, bytes };
}

async function main() {
  execFileSync(process.execPath, [join(packageRoot(), 'scripts', 'ensure-console.mjs')], {
    stdio: 'inherit',
  });
  const name = `vigil_bench_console_${Date.now()}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const dataDir = mkdtempSync(join(tmpdir(), 'vigil-bench-console-'));
  const config = configSchema.parse({
    dataDir,
    database: { url: databaseUrlFor(serverUrl!, name) },
    server: { host: '127.0.0.1', port: 0 },
    demo: { seed: 'never' },
  });
  const vigil = await startVigil(config, 'serve', pino({ level: 'silent' }));
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  try {
    const base = vigil.url!;
    await coldLoad(browser, base, '用户名'); // warm the server (and the OS file cache) once
    const baseline: number[] = [];
    const console: number[] = [];
    let bytes = 0;
    for (let i = 0; i < RUNS; i++) {
      baseline.push((await coldLoad(browser, `${base}/healthz`, null)).ms);
      const load = await coldLoad(browser, base, '用户名');
      console.push(load.ms);
      bytes = load.bytes;
    }
    const row = (label: string, xs: number[]) =>
      `${label.padEnd(44)}${median(xs).toFixed(0).padStart(8)}${p95(xs).toFixed(0).padStart(8)}`;
    process.stdout.write(
      [
        `console first load, ${RUNS} cold loads each, Chromium ${browser.version()}`,
        '',
        `${''.padEnd(44)}${'p50 ms'.padStart(8)}${'p95 ms'.padStart(8)}`,
        row('baseline: navigation to /healthz', baseline),
        row('console: / until the sign-in form is usable', console),
        '',
        `console / baseline (p50)                    ${(median(console) / median(baseline)).toFixed(1)}×`,
        `scripts and styles transferred              ${(bytes / 1024).toFixed(0)} KiB (compressed as served)`,
        `target: under 2000 ms                       ${median(console) < 2000 ? 'met' : 'NOT met'} at p50`,
        '',
      ].join('\n'),
    );
  } finally {
    await browser.close();
    await vigil.close();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
