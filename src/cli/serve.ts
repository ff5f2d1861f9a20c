import { Command } from 'commander';
import { startVigil, type Mode, type Vigil } from '../app.js';
import { configFrom, onShutdown } from './context.js';

function startCommand(mode: Mode, description: string): Command {
  return new Command(mode).description(description).action(async (_options, command: Command) => {
    const config = configFrom(command);
    const vigil = await startVigil(config, mode);
    onShutdown(() => vigil.close());
    if (mode === 'serve')
      printBanner(vigil.url!, vigil.demo, Boolean(vigil.embedded), vigil.admin, vigil.setup);
    else process.stderr.write(`vigil worker ${vigil.runner?.workerId} running background jobs\n`);
  });
}

export const serveCommand = () =>
  startCommand('serve', 'run the API, the console and background jobs (default)');
export const workerCommand = () => startCommand('worker', 'run background jobs only (scale-out)');

function printBanner(
  url: string,
  demo: Vigil['demo'],
  embedded: boolean,
  admin: { username: string; password?: string } | undefined,
  setup?: Vigil['setup'],
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
  for (const account of demo?.accounts ?? [])
    lines.push(`  Demo ${account.role.padEnd(19)} ${account.username} / ${account.password}`);
  if (demo?.accounts?.length)
    lines.push(
      '                      shown once: sign in at the console, scan the TOTP QR code, review alerts.',
    );
  if (admin?.password) {
    lines.push(
      `  Administrator:      ${admin.username} / ${admin.password}`,
      '                      shown once: sign in at the console and enrol TOTP, then create users there',
      '                      or with `vigil users create`. Reset it with `vigil users reset-password`.',
    );
  } else if (setup) {
    lines.push(
      `  First-run setup:    open ${local} and create the administrator with the setup token`,
      `                      ${setup.token}`,
      `                      (one-time${setup.file ? `; also in ${setup.file}` : ''}). Or use \`vigil users create\`.`,
    );
  } else {
    lines.push('  Sign-in:            with your account; `vigil users list` shows who has one.');
  }
  lines.push('');
  process.stdout.write(lines.join('\n') + '\n');
}
