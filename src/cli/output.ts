import { ConfigError } from '../platform/config/load.js';
import { DatabaseUnavailableError } from '../app.js';

/** Exit codes: 1 runtime failure, 2 bad configuration or usage. */
export const EXIT = { failure: 1, config: 2 } as const;

/**
 * Prints a failure as one line (the stack only with --debug or VIGIL_DEBUG=1) and exits.
 * Operators read this line first: it must name the problem.
 */
export function fail(err: unknown): never {
  const debug = process.argv.includes('--debug') || process.env.VIGIL_DEBUG === '1';
  const error = err instanceof Error ? err : new Error(String(err));
  process.stderr.write(`vigil: ${error.message.split('\n')[0]}\n`);
  if (debug && error.stack) process.stderr.write(error.stack + '\n');
  process.exit(error instanceof ConfigError ? EXIT.config : EXIT.failure);
}

export { ConfigError, DatabaseUnavailableError };
