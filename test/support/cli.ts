import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const VIGIL_BIN = join(import.meta.dirname, '..', '..', 'bin', 'vigil.js');

/** The parent environment without any Vigil or database settings, plus `extra`. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(VIGIL|DATABASE_URL|PORT$|TEST_DATABASE_URL)/.test(key)) env[key] = value;
  }
  return { ...env, VIGIL_LOG_LEVEL: 'warn', ...extra };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `vigil …` to completion. */
export function runVigil(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [VIGIL_BIN, ...args], {
      env: options.env ?? cleanEnv(),
      cwd: options.cwd,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`vigil ${args.join(' ')} timed out\n${stdout}\n${stderr}`));
    }, options.timeoutMs ?? 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A `vigil serve` (or worker) running in the background. */
export interface RunningVigil {
  child: ChildProcess;
  url: string;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `vigil serve` and resolves once it prints the address it listens on. */
export async function startVigilProcess(
  args: string[],
  options: { env: NodeJS.ProcessEnv; cwd?: string },
): Promise<RunningVigil> {
  const child = spawn(process.execPath, [VIGIL_BIN, ...args], { env: options.env, cwd: options.cwd });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const deadline = Date.now() + 90_000;
  let url: string | undefined;
  while (!url) {
    url = /Vigil is running at (http\S+)/.exec(output)?.[1];
    if (child.exitCode !== null) throw new Error(`vigil exited early (${child.exitCode}):\n${output}`);
    if (Date.now() > deadline) throw new Error(`vigil did not start in time:\n${output}`);
    await sleep(100);
  }
  return {
    child,
    url,
    output: () => output,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}
