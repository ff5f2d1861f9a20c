import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { VigilConfig } from './platform/config/schema.js';
import { createLogger, redactUrl, type Logger } from './platform/logging/logger.js';
import { createPool, type Pool } from './platform/db/pool.js';
import { discoverMigrations, migrate, migrationStatus } from './platform/db/migrations.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './platform/db/embedded.js';
import { buildHttpServer } from './platform/http/server.js';
import { healthRoutes, type ReadinessCheck } from './platform/http/health.routes.js';
import { consoleRoutes } from './platform/http/console.routes.js';
import { Metrics } from './platform/http/metrics.js';
import { JobRepository, JobRunner } from './platform/jobs/index.js';
import { jobRoutes } from './platform/jobs/jobs.routes.js';
import type { JobDefinition, ScheduleDefinition } from './platform/jobs/types.js';
import { OrgRepository } from './org/org.repository.js';
import { orgRoutes } from './org/org.routes.js';
import { archiveJobs } from './archive/archive.jobs.js';
import { ArchiveService } from './archive/archive.service.js';
import { openCrypto, type CryptoServices } from './crypto/setup.js';
import { KeyService } from './crypto/keys.service.js';
import type { BlobStore } from './crypto/blob/blobstore.js';
import { openBlobStore } from './wecom/connector/runtime.js';
import { connectorJobs } from './wecom/connector/connector.jobs.js';
import { ensureDemoCorp, startDemoWecom } from './wecom/demo.js';
import { seedDemoSupervision, type DemoAccount } from './demo-seed.js';
import { captureRoutes } from './wecom/connector/capture.routes.js';
import { connectorSettingsRoutes } from './wecom/connector/connector-settings.routes.js';
import { keysRoutes } from './crypto/keys.routes.js';
import { registerCaptureMetrics } from './wecom/connector/capture.metrics.js';
import { contactsJobs, CONTACTS_SYNC_JOB } from './wecom/contacts/contacts.jobs.js';
import { wecomCallbackRoutes } from './wecom/callback/callback.routes.js';
import { INGEST_JOB } from './wecom/connector/connector.jobs.js';
import { accessModule } from './access/module.js';
import { contentAccessModule } from './access/content/index.js';
import { reviewModule } from './review/module.js';
import { detectionModule, type DetectionService } from './detection/store/index.js';
import { notificationsModule } from './notifications/module.js';
import { trainingModule } from './training/module.js';
import { privacyModule } from './privacy/module.js';
import { keyringAuditSigner, keyringSecretBox } from './crypto/keyring-services.js';
import type { Emulator } from './wecom/emulator/index.js';

export type Mode = 'serve' | 'worker';

/** A running Vigil process: what `vigil serve` and `vigil worker` start and stop. */
export interface Vigil {
  config: VigilConfig;
  logger: Logger;
  pool: Pool;
  databaseUrl: string;
  embedded?: EmbeddedPostgres;
  runner?: JobRunner;
  http?: FastifyInstance;
  /** The address the HTTP server listens on (serve mode). */
  url?: string;
  demo?: { corpSlug: string; created: boolean; accounts?: DemoAccount[] };
  /** Set on the first start: the bootstrap administrator and its one-time password. */
  admin?: { username: string; password?: string };
  /** Set while no administrator exists (no demo): the first-run setup token and its file. */
  setup?: { token: string; file?: string };
  close(): Promise<void>;
}

export class DatabaseUnavailableError extends Error {
  constructor(url: string, cause: Error) {
    super(`database: cannot connect to ${redactUrl(url)}: ${cause.message}`);
    this.name = 'DatabaseUnavailableError';
  }
}

/**
 * Opens the database (embedded when none is configured) and migrates it.
 * Shared by every command that needs the database.
 */
export async function openDatabase(
  config: VigilConfig,
  logger: Logger,
  options: { migrate?: boolean } = {},
): Promise<{ pool: Pool; url: string; embedded?: EmbeddedPostgres; close(): Promise<void> }> {
  let embedded: EmbeddedPostgres | undefined;
  let url = config.database.url;
  if (!url) {
    embedded = await startEmbeddedPostgres({
      dir: join(resolve(config.dataDir), 'postgres'),
      port: config.database.embedded.port,
      logger,
    });
    url = embedded.url;
  }
  const pool = createPool(url, config.database);
  const close = async () => {
    await pool.end().catch(() => undefined);
    await embedded?.stop();
  };
  try {
    await pool.query('SELECT 1');
    if (options.migrate !== false) {
      const applied = await migrate(pool);
      if (applied.length)
        logger.info({ versions: applied.map((m) => m.version) }, `applied ${applied.length} migration(s)`);
    }
  } catch (err) {
    await close();
    if (
      (err as { code?: string }).code &&
      /^(ECONN|ENOTFOUND|ETIMEDOUT|EAI_AGAIN|28P01|3D000)/.test((err as { code: string }).code)
    ) {
      throw new DatabaseUnavailableError(url, err as Error);
    }
    if ((err as Error).message.includes('timeout')) throw new DatabaseUnavailableError(url, err as Error);
    throw err;
  }
  return { pool, url, embedded, close };
}

/** The database and the module services built on it: what the CLI and the server share. */
export interface Core {
  pool: Pool;
  databaseUrl: string;
  embedded?: EmbeddedPostgres;
  crypto: CryptoServices;
  org: OrgRepository;
  archive: ArchiveService;
  keys: KeyService;
  jobs: JobRepository;
  blobs: BlobStore;
  close(): Promise<void>;
}

/** Opens the database (migrated) and the keyring, and builds the module services. */
export async function openCore(
  config: VigilConfig,
  logger: Logger,
  options: { migrate?: boolean } = {},
): Promise<Core> {
  const db = await openDatabase(config, logger, options);
  let crypto: CryptoServices;
  try {
    crypto = await openCrypto(config, db.pool);
  } catch (err) {
    await db.close();
    throw err;
  }
  return {
    pool: db.pool,
    databaseUrl: db.url,
    embedded: db.embedded,
    crypto,
    org: new OrgRepository(db.pool),
    archive: new ArchiveService(db.pool, crypto.envelope, crypto.keyring),
    keys: new KeyService(db.pool, crypto),
    jobs: new JobRepository(db.pool),
    blobs: openBlobStore(config.blobs.dir ?? join(resolve(config.dataDir), 'blobs'), crypto.keyring),
    async close() {
      await crypto.keyring.close().catch(() => undefined);
      await db.close();
    },
  };
}

/** Every module's background jobs and schedules. */
function moduleJobs(
  core: Core,
  detection: DetectionService,
  notifications: ReturnType<typeof notificationsModule>['service'],
): {
  jobs: JobDefinition[];
  schedules: ScheduleDefinition[];
  close(): Promise<void>;
} {
  const archive = archiveJobs(core.pool);
  const wecom = connectorJobs({ ...core, keyring: core.crypto.keyring, detection, notifications });
  const contacts = contactsJobs({ pool: core.pool, keyring: core.crypto.keyring });
  return {
    close: () => wecom.close(),
    jobs: [
      ...archive.jobs,
      ...wecom.jobs,
      ...contacts.jobs,
      core.keys.rewrapJob(),
      { name: 'jobs.prune', handler: async () => ({ deleted: await core.jobs.pruneFinished(14) }) },
    ],
    schedules: [
      ...archive.schedules,
      ...wecom.schedules,
      ...contacts.schedules,
      { name: 'jobs.prune', cron: '0 30 4 * * *', job: 'jobs.prune' },
    ],
  };
}

/** Starts Vigil: database, migrations, demo seed, HTTP (serve) and background jobs. */
export async function startVigil(
  config: VigilConfig,
  mode: Mode,
  logger = createLogger(config.log),
): Promise<Vigil> {
  const core = await openCore(config, logger);
  const { pool } = core;
  const metrics = new Metrics();
  registerCaptureMetrics(metrics.registry, pool);
  let runner: JobRunner | undefined;
  let http: FastifyInstance | undefined;
  let url: string | undefined;
  let demo: Vigil['demo'];
  let demoAccounts: DemoAccount[] | undefined;
  let admin: Vigil['admin'];
  let setup: Vigil['setup'];

  let contributions: ReturnType<typeof moduleJobs> | undefined;
  let demoWecom: Emulator | undefined;
  const close = async () => {
    await http?.close();
    await runner?.stop();
    await contributions?.close();
    await demoWecom?.stop();
    await core.close();
  };

  try {
    if (config.demo.seed === 'always' || (config.demo.seed === 'auto' && core.embedded)) {
      const seeded = await ensureDemoCorp(core);
      demoWecom = await startDemoWecom(core, seeded.corp);
      await core.jobs.enqueue(CONTACTS_SYNC_JOB, { corpId: seeded.corp.id }, { priority: 10 });
      demo = { corpSlug: seeded.corp.slug, created: seeded.created };
    }

    const access = accessModule({
      pool,
      config,
      logger,
      dataDir: config.dataDir,
      // The TOTP sealing key and the audit signing key live in the keyring, beside the KEKs.
      secrets: await keyringSecretBox(core.crypto.keyring),
      signer: () => keyringAuditSigner(core.crypto.keyring, config.audit.keyName, config.audit.signature),
      keyring: core.crypto.keyring,
    });
    // The demo prints its administrator's password; a real deployment creates its first
    // administrator in the console's setup page, with a one-time token from the log.
    if (demo) admin = await access.bootstrapAdmin();
    else if (mode === 'serve') setup = await access.setup.prepare();
    if (demo?.created)
      demoAccounts = await seedDemoSupervision({
        pool,
        users: access.users,
        corpId: (await core.org.findCorp(demo.corpSlug))!.id,
      });
    const notifications = notificationsModule({
      pool,
      keyring: core.crypto.keyring,
      // The same self-built app users sign in with sends their notifications.
      agents: config.access.wecom?.agents,
      publicUrl: config.server.publicUrl,
      logger,
    });
    const contentAccess = contentAccessModule({
      pool,
      archive: core.archive,
      audit: access.auditLog,
      keyring: core.crypto.keyring,
      org: core.org,
      config: config.access,
      blobs: core.blobs,
      notifications: notifications.service,
    });
    const review = reviewModule({
      pool,
      audit: access.auditLog,
      content: contentAccess.content,
      org: core.org,
      keyring: core.crypto.keyring,
      notifications: notifications.service,
      config: config.review,
      baseUrl: config.review.linkBaseUrl ?? config.server.publicUrl ?? 'http://localhost',
    });
    const detection = detectionModule({
      pool,
      archive: core.archive,
      jobs: core.jobs,
      audit: access.auditLog,
      logger,
    });
    const training = trainingModule({ pool, audit: access.auditLog });
    const privacy = privacyModule({ pool, audit: access.auditLog });

    if (mode === 'worker' || config.jobs.enabled) {
      runner = new JobRunner(core.jobs, logger, config.jobs, {
        onJobFinished: (name, outcome, seconds) => {
          metrics.jobsFinished.labels(name, outcome).inc();
          metrics.jobDuration.labels(name).observe(seconds);
        },
      });
      contributions = moduleJobs(core, detection.detection, notifications.service);
      const modules = [contributions, access, detection, notifications, review];
      modules.flatMap((m) => m.jobs).forEach((job) => runner!.define(job));
      for (const schedule of modules.flatMap((m) => m.schedules)) {
        const override = config.jobs.schedules[schedule.name];
        runner.schedule({
          ...schedule,
          ...(override?.cron ? { cron: override.cron } : {}),
          enabled: override?.enabled ?? true,
        });
      }
      runner.start();
    }

    if (mode === 'serve') {
      const readiness = async (): Promise<ReadinessCheck[]> => readinessChecks(pool, runner, mode);
      http = await buildHttpServer({
        config,
        logger,
        metrics,
        authorize: access.authorize,
        routes: [
          ...access.routes,
          ...detection.routes,
          ...notifications.routes,
          ...training.routes,
          ...privacy.routes,
          healthRoutes(readiness, metrics),
          consoleRoutes(),
          jobRoutes(core.jobs),
          orgRoutes(core.org),
          ...contentAccess.routes,
          ...review.routes,
          captureRoutes(pool, core.org),
          connectorSettingsRoutes({
            pool,
            keyring: core.crypto.keyring,
            audit: access.auditLog,
            org: core.org,
          }),
          keysRoutes({ keys: core.keys, jobs: core.jobs, audit: access.auditLog, pool }),
          wecomCallbackRoutes({
            pool,
            keyring: core.crypto.keyring,
            // WeCom's wake-up: pull now rather than at the next poll.
            onNotify: async (corpId) =>
              void (await core.jobs.enqueue(INGEST_JOB, { corpId }, { maxAttempts: 3, priority: 10 })),
          }),
        ],
      });
      url = await http.listen({ host: config.server.host, port: config.server.port });
    }
  } catch (err) {
    await close();
    throw err;
  }
  return {
    config,
    logger,
    pool,
    databaseUrl: core.databaseUrl,
    embedded: core.embedded,
    runner,
    http,
    url,
    demo: demo && { ...demo, accounts: demoAccounts },
    admin,
    setup,
    close,
  };
}

async function readinessChecks(
  pool: Pool,
  runner: JobRunner | undefined,
  mode: Mode,
): Promise<ReadinessCheck[]> {
  const checks: ReadinessCheck[] = [];
  try {
    await pool.query('SELECT 1');
    checks.push({ name: 'database', ok: true });
    const pending = (await migrationStatus(pool, discoverMigrations())).filter((m) => !m.appliedAt);
    checks.push({
      name: 'migrations',
      ok: pending.length === 0,
      detail: pending.length ? `${pending.length} pending` : undefined,
    });
  } catch (err) {
    checks.push({ name: 'database', ok: false, detail: (err as Error).message });
  }
  if (mode === 'worker' || runner) checks.push({ name: 'jobs', ok: runner?.isRunning ?? false });
  return checks;
}
