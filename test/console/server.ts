import { execFileSync } from 'node:child_process';
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'otplib';
import { pino } from 'pino';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { accessModule } from '../../src/access/module.js';
import { AccessRepository } from '../../src/access/access.repository.js';
import { contentAccessModule } from '../../src/access/content/index.js';
import { aesGcmSecretBox } from '../../src/access/secret-box.js';
import type { RoleInput } from '../../src/access/users.service.js';
import type { MessageToArchive } from '../../src/archive/types.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { FsBlobBackend } from '../../src/crypto/blob/backend.js';
import { BlobStore } from '../../src/crypto/blob/blobstore.js';
import { getOrCreateSecret } from '../../src/crypto/keyring/corp-keys.js';
import { SecretNames } from '../../src/crypto/keyring/types.js';
import { detectionModule } from '../../src/detection/store/index.js';
import { NotificationService } from '../../src/notifications/notifications.service.js';
import { OrgRepository } from '../../src/org/org.repository.js';
import type { Corp } from '../../src/org/types.js';
import { configSchema } from '../../src/platform/config/schema.js';
import { createPool, withTransaction, type Pool } from '../../src/platform/db/pool.js';
import { migrate } from '../../src/platform/db/migrations.js';
import { consoleRoutes } from '../../src/platform/http/console.routes.js';
import { Metrics } from '../../src/platform/http/metrics.js';
import { buildHttpServer } from '../../src/platform/http/server.js';
import { JobRepository } from '../../src/platform/jobs/queue.js';
import { packageRoot } from '../../src/platform/paths.js';
import { createAlerts } from '../../src/review/alerts/create-alerts.js';
import { ingestFindings } from '../../src/review/alerts/intake.js';
import { Rng } from '../../src/wecom/emulator/prng.js';
import { reviewModule } from '../../src/review/module.js';
import { privacyModule } from '../../src/privacy/module.js';
import { captureRoutes } from '../../src/wecom/connector/capture.routes.js';
import { connectorSettingsRoutes } from '../../src/wecom/connector/connector-settings.routes.js';
import { keysRoutes } from '../../src/crypto/keys.routes.js';
import { KeyService } from '../../src/crypto/keys.service.js';
import type { Keyring } from '../../src/crypto/keyring/types.js';
import { detectMediaType } from '../../src/wecom/connector/media-type.js';
import { makeUser, PASSWORD, type Harness } from '../access/harness.js';
import { testArchive, textMessage } from '../support/archive.js';
import { createTestCorp, scratchDatabase } from '../support/db.js';

// End-to-end journeys in Debian's Chromium (never a downloaded browser). Outside CI a machine
// without /usr/bin/chromium skips them; in CI a missing browser fails the run.
export const CHROMIUM = '/usr/bin/chromium';
export const available = existsSync(CHROMIUM);
if (!available && process.env.CI)
  throw new Error(`${CHROMIUM} is missing: install Debian's chromium package`);

export const SCREENSHOTS = join(packageRoot(), 'docs', 'screenshots');
export const KICKBACK = '这单给你三个点回扣，老规矩';

export interface TestUser {
  id: string;
  username: string;
  totpSecret?: string;
}

export interface ConsoleServer {
  /** The console's origin, e.g. http://127.0.0.1:41234. */
  base: string;
  h: Harness;
  /** This file's own migrated database. */
  pool: Pool;
  corp: Corp;
  org: OrgRepository;
  archive: Awaited<ReturnType<typeof testArchive>>['archive'];
  content: ReturnType<typeof contentAccessModule>;
  blobs: BlobStore;
  /** The keyring, key service and job queue behind the keys and connector routes (no job runner). */
  keyring: Keyring;
  keys: KeyService;
  jobs: JobRepository;
  browser: Browser;
  users: Record<string, TestUser>;
  /** A user with one role in the corp (TOTP unless an employee), known to signIn by `name`. */
  addUser(name: string, role: string, options?: { employee?: string; global?: boolean }): Promise<TestUser>;
  /** A page signed in as `name`; each user signs in once (a TOTP code is single-use per step). */
  signIn(name: string): Promise<Page>;
  /** A fresh browser context at the sign-in page (for accounts made during a test). */
  anonymous(): Promise<Page>;
  close(): Promise<void>;
}

/**
 * The API's real routes (access, content, review, detection, capture) and the built console over
 * a database of the test file's own (so a file may even tamper with the audit chain), with a
 * corp, and Chromium. Each console test file starts one.
 */
export async function startConsoleServer(
  label: string,
  /** `access` configuration (e.g. OIDC) and a fixed port (for callback URLs known in advance). */
  options: { access?: Record<string, unknown>; port?: number } = {},
): Promise<ConsoleServer> {
  buildConsole();
  const db = await scratchDatabase();
  const pool = createPool(db.url, { ssl: { mode: 'disable' }, poolMax: 8 });
  await migrate(pool);
  const { archive, keyring, store, envelope } = await testArchive(pool);
  const keys = new KeyService(pool, { keyring, deks: store, envelope });
  const jobs = new JobRepository(pool);
  const audit = new AuditLog(pool);
  const notifications = new NotificationService(pool);
  const config = configSchema.parse({
    server: { rateLimitPerMinute: 100_000 },
    ...(options.access ? { access: options.access } : {}),
  });
  const org = new OrgRepository(pool);
  const blobs = new BlobStore({
    backend: new FsBlobBackend(mkdtempSync(join(tmpdir(), 'vigil-console-blobs-'))),
    corpKey: (id) => getOrCreateSecret(keyring, SecretNames.blobKey(id)),
  });
  const content = contentAccessModule({
    pool,
    archive,
    keyring,
    audit,
    org,
    config: config.access,
    notifications,
    blobs,
  });
  const review = reviewModule({
    pool,
    audit,
    content: content.content,
    org,
    keyring,
    notifications,
    config: config.review,
    baseUrl: 'http://localhost',
  });
  const detection = detectionModule({
    pool,
    archive,
    jobs: new JobRepository(pool),
    logger: pino({ level: 'silent' }),
  });
  // As test/access/harness.ts builds it, over this file's database.
  const secrets = aesGcmSecretBox(randomBytes(32));
  const mod = accessModule({
    pool,
    config,
    logger: pino({ level: 'silent' }),
    dataDir: mkdtempSync(join(tmpdir(), 'vigil-console-')),
    secrets,
  });
  const app = await buildHttpServer({
    config,
    logger: pino({ level: 'silent' }),
    metrics: new Metrics(),
    authorize: mod.authorize,
    routes: [
      ...mod.routes,
      ...content.routes,
      ...review.routes,
      ...detection.routes,
      ...privacyModule({ pool, audit }).routes,
      captureRoutes(pool, org),
      connectorSettingsRoutes({ pool, keyring, audit, org }),
      keysRoutes({ keys, jobs, audit, pool }),
      consoleRoutes(),
    ],
  });
  const h: Harness = {
    app,
    mod,
    repo: new AccessRepository(pool),
    secrets,
    ip: () => `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`,
  };
  const base = await app.listen({ host: '127.0.0.1', port: options.port ?? 0 });
  const corp = await createTestCorp(pool, label);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
  mkdirSync(SCREENSHOTS, { recursive: true });

  const users: Record<string, TestUser> = {};
  const contexts = new Map<string, BrowserContext>();
  const newContext = () =>
    browser.newContext({ viewport: { width: 1366, height: 900 }, locale: 'zh-CN', acceptDownloads: true });

  return {
    base,
    h,
    pool,
    corp,
    org,
    archive,
    content,
    blobs,
    keyring,
    keys,
    jobs,
    browser,
    users,
    async addUser(name, role, options = {}) {
      const roles: RoleInput[] = [
        { role: role as RoleInput['role'], corpId: options.global ? null : corp.id },
      ];
      const u = await makeUser(h, roles, { totp: role !== 'employee', username: `${name}-${corp.id}` });
      if (options.employee)
        await pool.query('UPDATE users SET corp_id = $2, employee_userid = $3 WHERE id = $1', [
          u.id,
          corp.id,
          options.employee,
        ]);
      users[name] = u;
      return u;
    },
    async signIn(name) {
      const existing = contexts.get(name);
      if (existing) {
        const page = await existing.newPage();
        await page.goto(base);
        await page.getByTestId('current-user').waitFor();
        return page;
      }
      const context = await newContext();
      contexts.set(name, context);
      const page = await context.newPage();
      page.on('pageerror', (e) => console.error(`[${name}] page error: ${e.message}`));
      await page.goto(base);
      await page.getByLabel('用户名').fill(users[name]!.username);
      await page.getByLabel('密码').fill(PASSWORD);
      await page.getByRole('button', { name: '登录' }).click();
      const secret = users[name]!.totpSecret;
      if (secret) {
        await page.getByLabel('动态验证码').fill(await generate({ secret }));
        await page.getByRole('button', { name: '验证' }).click();
      }
      await page.getByTestId('current-user').waitFor();
      return page;
    },
    async anonymous() {
      const page = await (await newContext()).newPage();
      await page.goto(base);
      return page;
    },
    async close() {
      await browser.close();
      await app.close();
      await pool.end();
      await db.drop();
    },
  };
}

/** Stores `bytes` as the downloaded file of an archived message, as capture's media stage would. */
export async function storeMedia(
  s: ConsoleServer,
  msgid: string,
  kind: string,
  bytes: Buffer,
): Promise<void> {
  const stored = await s.blobs.put(String(s.corp.id), bytes);
  await s.pool.query(
    `INSERT INTO attachments (corp_id, message_id, msg_time, msgid, path, kind, status, blob_address,
       detected_type, stored_size, stored_at)
     SELECT corp_id, message_id, msg_time, msgid, $3, $4, 'stored', $5, $6, $7, now()
     FROM message_keys WHERE corp_id = $1 AND msgid = $2`,
    [s.corp.id, msgid, kind, kind, stored.address, detectMediaType(bytes), stored.size],
  );
}

/** The alert a kickback promise (and `extra` messages in the same conversation) raises. */
export async function seedKickbackAlert(
  s: ConsoleServer,
  extra: (start: Date) => MessageToArchive[] = () => [],
): Promise<{ alertId: string; conversationId: string }> {
  const { pool, corp, org } = s;
  await org.upsertDepartments([{ corpId: corp.id, id: 1, parentId: null, name: '销售部' }]);
  await org.upsertEmployees([
    {
      corpId: corp.id,
      userid: 'alice',
      name: '李娜',
      departmentIds: [1],
      mainDepartment: 1,
      leaderOf: [],
      position: '客户经理',
      status: 1,
      sensitivePost: false,
    },
  ]);
  const start = new Date(Date.now() - 3 * 3_600_000);
  const at = new Date(start.getTime() - 60_000);
  const kickback = textMessage('kickback-1', KICKBACK, at, {
    senderId: 'alice',
    raw: JSON.stringify({
      msgid: 'kickback-1',
      action: 'send',
      from: 'alice',
      tolist: ['wmCust1'],
      roomid: '',
      msgtime: at.getTime(),
      msgtype: 'text',
      text: { content: KICKBACK },
    }),
    conversation: {
      kind: 'external',
      key: 'alice|wmCust1',
      roomId: null,
      members: [
        { id: 'alice', kind: 'employee' },
        { id: 'wmCust1', kind: 'external' },
      ],
    },
  });
  await s.archive.storeBatch(corp.id, [kickback, ...extra(start)]);
  const { rows } = await pool.query<{ id: string }>('SELECT id::text FROM conversations WHERE corp_id = $1', [
    corp.id,
  ]);
  const conversationId = rows[0]!.id;
  await pool.query(
    `INSERT INTO detection_findings (corp_id, conversation_id, category, window_start, window_end, severity, rule_ids, hit_count, msgids)
     VALUES ($1, $2, 'bribery', $3, $3, 'high', '{bribery.kickback-explicit}', 1, '{kickback-1}')`,
    [corp.id, conversationId, at],
  );
  await ingestFindings(pool, corp.id);
  const alert = await pool.query<{ id: string }>('SELECT id::text FROM review_alerts WHERE corp_id = $1', [
    corp.id,
  ]);
  return { alertId: alert.rows[0]!.id, conversationId };
}

/** Calls the API from a signed-in page, as that user (session cookie and CSRF token). */
export async function apiAs<T = unknown>(
  page: Page,
  method: string,
  url: string,
  body?: unknown,
): Promise<{ status: number; json: T }> {
  return page.evaluate(
    async ({ method, url, body }) => {
      const me = (await (await fetch('/api/v1/auth/me')).json()) as { csrfToken: string };
      const response = await fetch(url, {
        method,
        headers: {
          'x-csrf-token': me.csrfToken,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: response.status, json: (await response.json().catch(() => null)) as T };
    },
    { method, url, body },
  );
}

/** Runs SQL with the table's triggers off, as only a superuser could (tampering, in tests). */
export async function asSuperuser(pool: Pool, table: string, sql: string, params: unknown[] = []) {
  await withTransaction(pool, async (c) => {
    await c.query(`ALTER TABLE ${table} DISABLE TRIGGER USER`);
    await c.query(sql, params);
    await c.query(`ALTER TABLE ${table} ENABLE TRIGGER USER`);
  });
}

/**
 * Builds the console when its sources changed (scripts/ensure-console.mjs), one test file at a
 * time: vite empties console/dist first, which must never happen under another file's browser.
 */
function buildConsole(): void {
  const root = packageRoot();
  const id = createHash('sha256').update(root).digest('hex').slice(0, 12);
  const lock = join(tmpdir(), `vigil-console-build-${id}.lock`);
  const deadline = Date.now() + 300_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      if (Date.now() > deadline)
        throw new Error(`waited 5 minutes for ${lock}: remove it if stale`, { cause: e });
      try {
        // Left by a run that crashed mid-build.
        if (Date.now() - statSync(lock).mtimeMs > 240_000) rmSync(lock, { recursive: true, force: true });
      } catch {
        // gone meanwhile
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
  try {
    execFileSync(process.execPath, [join(root, 'scripts', 'ensure-console.mjs')], { stdio: 'inherit' });
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * Two weeks of alerts across departments, categories and severities, so the dashboard's charts
 * (and their screenshot) show something like a real month. Alerts are about the given
 * conversation; their employees route them to departments.
 */
export async function seedDashboardHistory(s: ConsoleServer, conversationId: string): Promise<void> {
  const { pool, corp, org } = s;
  const departments = ['华东销售部', '华南销售部', '采购部', '财务部', '客户服务部'];
  await org.upsertDepartments(
    departments.map((name, i) => ({ corpId: corp.id, id: 10 + i, parentId: 1, name })),
  );
  await org.upsertEmployees(
    departments.map((_, i) => ({
      corpId: corp.id,
      userid: `staff${i}`,
      name: `员工${i}`,
      departmentIds: [10 + i],
      mainDepartment: 10 + i,
      leaderOf: [],
      position: null,
      status: 1,
      sensitivePost: false,
    })),
  );
  const rng = Rng.from('console-dashboard');
  const categories = ['bribery', 'private_deal', 'data_leak', 'evidence_destruction', 'return_promise'];
  const severities = ['low', 'medium', 'high', 'critical'] as const;
  const drafts = Array.from({ length: 80 }, () => ({
    source: 'detection' as const,
    conversationId,
    windowStart: new Date(),
    windowEnd: new Date(),
    category: categories[rng.int(0, categories.length - 1)]!,
    severity: severities[Math.min(3, Math.floor(rng.next() * rng.next() * 4.5))]!,
    employeeUserids: [`staff${rng.int(0, departments.length - 1)}`],
  }));
  const created = await createAlerts(pool, corp.id, drafts);
  for (const alert of created)
    await pool.query(
      `UPDATE review_alerts SET created_at = now() - make_interval(days => $2, hours => $3),
         breached = $4, status = CASE WHEN $5 THEN 'closed' ELSE status END,
         disposition = CASE WHEN $5 THEN 'false_positive' END, closed_at = CASE WHEN $5 THEN now() END
       WHERE corp_id = $1 AND id = $6`,
      [corp.id, rng.int(1, 13), rng.int(0, 23), rng.next() < 0.1, rng.next() < 0.6, alert.id],
    );
}
