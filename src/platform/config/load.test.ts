import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './load.js';

const noFile = join(tmpdir(), 'vigil-no-such-config.yaml');

/** Loads from an empty config file plus `env`, independent of any vigil.yaml in the working directory. */
function load(env: Record<string, string>) {
  const file = join(mkdtempSync(join(tmpdir(), 'vigil-cfg-')), 'vigil.yaml');
  writeFileSync(file, '');
  return loadConfig({ env, file });
}

describe('loadConfig', () => {
  it('gives working defaults with nothing configured', () => {
    const config = load({});
    expect(config.server.port).toBe(8080);
    expect(config.database.url).toBeUndefined();
    expect(config.dataDir).toBe('./data');
    expect(config.log.level).toBe('info');
    expect(config.jobs.enabled).toBe(true);
  });

  it('reads a YAML file and lets the environment override it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-cfg-'));
    const file = join(dir, 'vigil.yaml');
    writeFileSync(file, 'server:\n  port: 9000\n  host: 127.0.0.1\nlog:\n  level: debug\n');
    const config = loadConfig({
      file,
      env: { PORT: '9100', VIGIL__JOBS__CONCURRENCY: '4', VIGIL__JOBS__ENABLED: 'false' },
    });
    expect(config.server.port).toBe(9100);
    expect(config.server.host).toBe('127.0.0.1');
    expect(config.log.level).toBe('debug');
    expect(config.jobs.concurrency).toBe(4);
    expect(config.jobs.enabled).toBe(false);
  });

  it('maps camelCase fields from VIGIL__ variables', () => {
    const config = load({ VIGIL__JOBS__POLL_INTERVAL_MS: '250', VIGIL__SERVER__RATE_LIMIT_PER_MINUTE: '5' });
    expect(config.jobs.pollIntervalMs).toBe(250);
    expect(config.server.rateLimitPerMinute).toBe(5);
  });

  it('reads secrets from *_FILE variables', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-cfg-'));
    const secret = join(dir, 'db-url');
    writeFileSync(secret, 'postgres://vigil:s3cret@db.internal:5432/vigil\n');
    const config = load({ DATABASE_URL_FILE: secret });
    expect(config.database.url).toBe('postgres://vigil:s3cret@db.internal:5432/vigil');
  });

  it('names the field and the expectation in one line for a bad port', () => {
    const error = captureError(() => load({ PORT: 'abc' }));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(/^config server\.port: expected a port number/);
    expect(error.message).toContain('"abc"');
    expect(error.message).not.toContain('\n');
  });

  it('rejects unknown fields instead of ignoring a typo', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-cfg-'));
    const file = join(dir, 'vigil.yaml');
    writeFileSync(file, 'server:\n  prot: 80\n');
    expect(captureError(() => loadConfig({ file, env: {} })).message).toBe(
      'config server: unknown field(s) prot',
    );
  });

  it('never echoes a secret value in an error', () => {
    const error = captureError(() => load({ DATABASE_URL: 'not a url with password hunter2' }));
    expect(error.message).toMatch(/^config database\.url: expected a postgres:\/\/ URL/);
    expect(error.message).not.toContain('hunter2');
  });

  it('reports a config file that was asked for but is missing', () => {
    expect(captureError(() => loadConfig({ file: noFile, env: { VIGIL_CONFIG: noFile } })).message).toContain(
      'not found',
    );
  });

  it('requires TLS cert and key together', () => {
    const error = captureError(() => load({ VIGIL__SERVER__TLS__CERT: '/etc/cert.pem' }));
    expect(error.message).toContain('config server.tls: expected both cert and key');
  });
});

function captureError(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error');
}
