import { readFileSync, existsSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { configSchema, type VigilConfig } from './schema.js';

/** A configuration problem, reported as one line naming the field. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export interface LoadOptions {
  /** Path of the YAML/JSON config file; default `VIGIL_CONFIG` or ./vigil.yaml when present. */
  file?: string;
  env?: NodeJS.ProcessEnv;
}

/** Well-known environment variables and the config paths they set. */
const ENV_ALIASES: Record<string, string> = {
  DATABASE_URL: 'database.url',
  PORT: 'server.port',
  VIGIL_HOST: 'server.host',
  VIGIL_DATA_DIR: 'dataDir',
  VIGIL_LOG_LEVEL: 'log.level',
  VIGIL_PUBLIC_URL: 'server.publicUrl',
  VIGIL_KEYRING_PASSPHRASE: 'keyring.local.passphrase',
  VIGIL_HSM_PIN: 'keyring.pkcs11.pin',
};

/**
 * Loads configuration: file, then environment overrides, validated with zod.
 * `VIGIL__A__B=v` sets `a.b`; any variable with a `_FILE` suffix reads its value from that file,
 * so secrets can come from mounted files (Docker/Kubernetes secrets).
 */
export function loadConfig(options: LoadOptions = {}): VigilConfig {
  const env = options.env ?? process.env;
  const raw = readConfigFile(
    options.file ?? env.VIGIL_CONFIG,
    options.file !== undefined || !!env.VIGIL_CONFIG,
  );
  for (const [name, value] of envEntries(env)) {
    const path = ENV_ALIASES[name] ?? envPath(name);
    if (path) setPath(raw, path, coerceScalar(value));
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(describeIssue(parsed.error.issues[0]!, raw));
  return parsed.data;
}

function readConfigFile(file: string | undefined, explicit: boolean): Record<string, unknown> {
  const path = file ?? 'vigil.yaml';
  if (!existsSync(path)) {
    if (explicit) throw new ConfigError(`config file ${path}: not found`);
    return {};
  }
  try {
    const value: unknown = parseYaml(readFileSync(path, 'utf8'));
    if (value === null || value === undefined) return {};
    if (typeof value !== 'object' || Array.isArray(value))
      throw new Error('expected a mapping at the top level');
    return value as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError(`config file ${path}: ${(err as Error).message.split('\n')[0]}`);
  }
}

/** Yields [NAME, value] for each variable, resolving NAME_FILE indirections. */
function* envEntries(env: NodeJS.ProcessEnv): Generator<[string, string]> {
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if (name.endsWith('_FILE') && (ENV_ALIASES[name.slice(0, -5)] || name.startsWith('VIGIL__'))) {
      const target = name.slice(0, -5);
      try {
        yield [target, readFileSync(value, 'utf8').trim()];
      } catch {
        throw new ConfigError(`${name}: cannot read secret file ${value}`);
      }
    } else if (ENV_ALIASES[name] || name.startsWith('VIGIL__')) {
      yield [name, value];
    }
  }
}

function envPath(name: string): string | undefined {
  if (!name.startsWith('VIGIL__')) return undefined;
  return name
    .slice('VIGIL__'.length)
    .split('__')
    .map((part) => part.toLowerCase().replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()))
    .join('.');
}

function coerceScalar(value: string): unknown {
  if (value === 'true') return true;
  if (value === 'false') return false;
  return value;
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (typeof next !== 'object' || next === null) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1]!] = value;
}

function describeIssue(issue: z.core.$ZodIssue, raw: Record<string, unknown>): string {
  const path = issue.path.map(String).join('.') || '(root)';
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') {
    return `config ${path === '(root)' ? '' : path + ': '}unknown field(s) ${issue.keys.join(', ')}`;
  }
  const got = getPath(raw, issue.path.map(String));
  const shown = isSecretPath(path) ? '(hidden)' : JSON.stringify(got);
  if (message.startsWith('Invalid input')) message = 'invalid value';
  return `config ${path}: ${message}${got === undefined ? ' (missing)' : `, got ${shown}`}`;
}

function getPath(raw: unknown, parts: string[]): unknown {
  let node = raw;
  for (const part of parts) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

function isSecretPath(path: string): boolean {
  return (
    path === 'database.url' || path.endsWith('.key') || /secret|password|passphrase|token|pin$/i.test(path)
  );
}
