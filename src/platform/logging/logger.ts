import { pino, type Logger, type LoggerOptions } from 'pino';

/**
 * Paths redacted from every log line. Secrets never reach logs, and neither does message content:
 * a log file is not an access-controlled store.
 */
export const REDACT_PATHS = [
  'password',
  '*.password',
  'passphrase',
  '*.passphrase',
  'secret',
  '*.secret',
  'token',
  '*.token',
  'accessToken',
  '*.accessToken',
  'access_token',
  '*.access_token',
  'databaseUrl',
  '*.databaseUrl',
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'content',
  '*.content',
  'text',
  '*.text',
  'plaintext',
  '*.plaintext',
];

export interface LogOptions {
  level: string;
  pretty?: boolean;
  name?: string;
}

/** Creates the process logger: structured JSON to stdout, secrets and content redacted. */
export function createLogger(options: LogOptions): Logger {
  const config: LoggerOptions = {
    name: options.name ?? 'vigil',
    level: options.level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (options.pretty) {
    return pino({
      ...config,
      transport: { target: 'pino-pretty', options: { translateTime: 'SYS:standard' } },
    });
  }
  return pino(config);
}

/** Replaces the password of a connection URL with `***` for display. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}

export type { Logger };
