import { Command } from 'commander';
import { startVigil, type Mode } from '../app.js';
import { configFrom, onShutdown } from './context.js';

function startCommand(mode: Mode, description: string): Command {
  return new Command(mode).description(description).action(async (_options, command: Command) => {
    const config = configFrom(command);
    const vigil = await startVigil(config, mode);
    onShutdown(() => vigil.close());
    if (mode === 'serve') printBanner(vigil.url!, vigil.demo, Boolean(vigil.embedded));
    else process.stderr.write(`vigil worker ${vigil.runner?.workerId} running background jobs\n`);
  });
}

export const serveCommand = () =>
  startCommand('serve', 'run the API, the console and background jobs (default)');
export const workerCommand = () => startCommand('worker', 'run background jobs only (scale-out)');

function printBanner(
  url: string,
  demo: { corpSlug: string; created: boolean } | undefined,
  embedded: boolean,
): void {
  const local = url.replace(/:\/\/(0\.0\.0\.0|127\.0\.0\.1|\[::1?\])/, '://localhost');
  const lines = [
    '',
    `  Vigil is running at ${local}`,
    `  API reference:      ${local}/api/docs`,
    `  Health:             ${local}/readyz`,
  ];
  if (embedded) lines.push('  Database:           embedded PostgreSQL (set DATABASE_URL to use your own)');
  if (demo) {
    lines.push(
      `  Demo corp:          "${demo.corpSlug}" ${demo.created ? '(created now)' : '(already seeded)'}`,
    );
  }
  lines.push(
    '  Sign-in:            console accounts arrive with the access module; until then the API',
    '                      answers public endpoints only (health, metrics, API reference).',
    '',
  );
  process.stdout.write(lines.join('\n') + '\n');
}
