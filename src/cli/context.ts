import type { Command } from 'commander';
import { openCore, type Core } from '../app.js';
import { cliPrincipal } from '../access/cli-principal.js';
import { contentAccessModule } from '../access/content/index.js';
import type { Viewer } from '../access/content/content-access.service.js';
import { AuditLog } from '../audit/audit-log.js';
import { loadConfig } from '../platform/config/load.js';
import type { VigilConfig } from '../platform/config/schema.js';
import { createLogger, type Logger } from '../platform/logging/logger.js';

/** Loads the configuration named by the global `--config` option. */
export function configFrom(command: Command): VigilConfig {
  const options = command.optsWithGlobals<{ config?: string }>();
  return loadConfig({ file: options.config });
}

/** A logger for short CLI commands: warnings only, unless configured otherwise. */
export function cliLogger(config: VigilConfig): Logger {
  return createLogger({ level: config.log.level === 'info' ? 'warn' : config.log.level, pretty: false });
}

/** Runs `stop` once on SIGINT/SIGTERM; a second signal exits at once. */
export function onShutdown(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(130);
    stopping = true;
    process.stderr.write(`vigil: ${signal} received, shutting down…\n`);
    stop().then(
      () => process.exit(0),
      (err: Error) => {
        process.stderr.write(`vigil: shutdown failed: ${err.message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

/** Runs `work` with the database, keyring and module services open, closing them afterwards. */
export async function withCore<T>(command: Command, work: (core: Core) => Promise<T>): Promise<T> {
  const config = configFrom(command);
  const core = await openCore(config, cliLogger(config));
  try {
    return await work(core);
  } finally {
    await core.close();
  }
}

/** Runs `work` as a Vigil user through the content access service (scope, grants, masking, audit). */
export async function withContentAccess<T>(
  command: Command,
  username: string,
  work: (access: ReturnType<typeof contentAccessModule>, viewer: Viewer, core: Core) => Promise<T>,
): Promise<T> {
  const config = configFrom(command);
  return withCore(command, async (core) => {
    const access = contentAccessModule({
      pool: core.pool,
      archive: core.archive,
      audit: new AuditLog(core.pool),
      keyring: core.crypto.keyring,
      org: core.org,
      config: config.access,
      blobs: core.blobs,
    });
    return work(access, { principal: await cliPrincipal(core.pool, username), ip: null }, core);
  });
}
