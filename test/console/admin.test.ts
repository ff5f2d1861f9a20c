import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobRunner } from '../../src/platform/jobs/runner.js';
import { keyringSecrets } from '../../src/wecom/api/secrets.js';
import { ConnectorRepository } from '../../src/wecom/connector/connector.repository.js';
import { textMessage } from '../support/archive.js';
import { available, startConsoleServer, type ConsoleServer } from './server.js';
import { violations } from './axe.js';

// The administration page's keyring, connector and sampling tabs, in Chromium against the real
// API over this file's own database.

let s: ConsoleServer;
const ARCHIVE_SECRET = `CANARY-${randomBytes(12).toString('hex')}`;
/** The input of an antd field, wherever it puts the test id (on the input or around it). */
const input = (page: Page, id: string) =>
  page.locator(`input[data-testid="${id}"], [data-testid="${id}"] input`).first();

/** Every API response body the page receives, to search for secrets. */
function recordResponses(page: Page): string[] {
  const bodies: string[] = [];
  page.on('response', (response) => {
    if (response.url().includes('/api/'))
      void response.text().then(
        (text) => bodies.push(text),
        () => undefined,
      );
  });
  return bodies;
}

describe.skipIf(!available)('administration in Chromium', () => {
  beforeAll(async () => {
    s = await startConsoleServer('admin');
    await s.addUser('admin', 'system_admin', { global: true });
    await s.addUser('lead', 'compliance_lead');
    // Three months of messages: three data keys under KEK v1.
    await s.archive.storeBatch(
      s.corp.id,
      ['2025-01-10', '2025-02-10', '2025-03-10'].map((d, i) =>
        textMessage(`adm-${i}`, `管理页测试消息 ${i}`, new Date(`${d}T09:00:00Z`)),
      ),
    );
  }, 180_000);

  afterAll(async () => {
    await s?.close();
  });

  it(
    'shows the keyring, rotates it as a background job and shows it complete',
    { timeout: 90_000 },
    async () => {
      const admin = await s.signIn('admin');
      admin.setDefaultTimeout(15_000);
      await admin.goto(`${s.base}/admin`);
      await admin.getByRole('tab').first().waitFor();
      expect(await admin.getByRole('tab').allInnerTexts()).toEqual([
        '用户',
        '审核队列',
        '抽样设置',
        '企业与连接器',
        '密钥',
      ]);
      await admin.getByRole('tab', { name: '密钥' }).click();
      expect(await admin.getByTestId('keys-provider').innerText()).toBe('本地密钥文件');
      expect(await admin.getByTestId('keys-current').innerText()).toBe('v1');
      const v1 = admin.locator('tr[data-row-key="1"]').first();
      expect(await v1.innerText()).toContain('当前使用');
      expect(await v1.innerText()).toContain('3 (100%)');
      expect(await admin.getByTestId(`keys-corp-${s.corp.slug}`).innerText()).toContain('100%');
      expect(await violations(admin)).toEqual([]);

      // The rewrap job runs in a worker, as `vigil serve` or `vigil worker` would run it.
      const runner = new JobRunner(s.jobs, pino({ level: 'silent' }), {
        concurrency: 1,
        pollIntervalMs: 100,
      });
      runner.define(s.keys.rewrapJob());
      runner.start();
      try {
        await admin.getByTestId('keys-rotate').click();
        await admin.locator('.ant-popconfirm-buttons .ant-btn-primary').click();
        await admin.getByText('已创建 KEK v2，重新封装任务已开始').waitFor();
        await admin.getByTestId('keys-rotation-status').getByText('已完成').waitFor({ timeout: 30_000 });
      } finally {
        await runner.stop();
      }
      await expect.poll(() => admin.getByTestId('keys-current').innerText()).toBe('v2');
      expect(await admin.getByTestId('keys-pending').innerText()).toBe('0');
      const v2 = admin.locator('tr[data-row-key="2"]').first();
      expect(await v2.innerText()).toContain('当前使用');
      expect(await v2.innerText()).toContain('3 (100%)');
      expect(await admin.locator('tr[data-row-key="1"]').first().innerText()).toContain('0 (0%)');
      expect(await admin.getByTestId(`keys-corp-${s.corp.slug}`).innerText()).toContain('100%');

      // Every data key rewrapped under v2, content still readable, the request audited.
      const { rows } = await s.pool.query('SELECT DISTINCT kek_version FROM data_keys');
      expect(rows).toEqual([{ kek_version: 2 }]);
      const read = await s.archive.getMessage(s.corp.id, 'adm-1');
      expect(read?.content).toMatchObject({ state: 'ok', raw: expect.stringContaining('管理页测试消息 1') });
      const audit = await s.pool.query(
        `SELECT actor, resource_ids FROM audit_events WHERE action = 'keys.rotate'`,
      );
      expect(audit.rows).toEqual([{ actor: `user:${s.users.admin!.id}`, resource_ids: ['2'] }]);
      await admin.close();
    },
  );

  it(
    'edits a corp’s connector and sets a secret that is never shown again',
    { timeout: 90_000 },
    async () => {
      const admin = await s.signIn('admin');
      admin.setDefaultTimeout(15_000);
      const bodies = recordResponses(admin);
      await admin.goto(`${s.base}/admin?tab=connectors`);
      const form = admin.getByTestId('connector-form');
      await form.waitFor();
      expect(await admin.locator(`tr[data-row-key="${s.corp.slug}"]`).innerText()).toContain('未连接');
      expect(await admin.getByTestId('secret-status-archive').innerText()).toBe('未设置');

      await input(admin, 'connector-wecomCorpId').fill('wwadmin0123456789');
      await admin.getByTestId('connector-sdkMode').click();
      await admin
        .locator('.ant-select-dropdown:visible .ant-select-item-option', { hasText: '模拟器' })
        .click();
      await input(admin, 'connector-apiBaseUrl').fill('http://127.0.0.1:18080');
      await input(admin, 'connector-poll').fill('45');
      await input(admin, 'secret-input-archive').fill(ARCHIVE_SECRET);
      await admin.getByTestId('connector-save').click();
      await admin.getByText('已保存', { exact: true }).first().waitFor();

      // The page says "set" (with when), the field is empty again, and the value is nowhere.
      await expect.poll(() => admin.getByTestId('secret-status-archive').innerText()).toBe('已设置');
      expect(await admin.getByTestId('secret-status-contacts').innerText()).toBe('未设置');
      expect(await input(admin, 'secret-input-archive').inputValue()).toBe('');
      expect(await form.innerText()).toMatch(/更新于/);
      expect(await admin.locator(`tr[data-row-key="${s.corp.slug}"]`).innerText()).toContain(
        'wwadmin0123456789',
      );

      const connector = await new ConnectorRepository(s.pool).connector(s.corp.id);
      expect(connector).toMatchObject({
        wecom_corp_id: 'wwadmin0123456789',
        sdk_mode: 'emulator',
        api_base_url: 'http://127.0.0.1:18080',
        poll_interval_seconds: 45,
        enabled: true,
      });
      // Stored where the connector reads it.
      expect(await keyringSecrets(s.keyring, s.corp.id)('archive')).toBe(ARCHIVE_SECRET);

      // A later change without a secret keeps it.
      await admin.reload();
      await expect.poll(() => input(admin, 'connector-poll').inputValue()).toBe('45');
      await input(admin, 'connector-poll').fill('90');
      await admin.getByTestId('connector-save').click();
      await expect
        .poll(async () => (await new ConnectorRepository(s.pool).connector(s.corp.id))?.poll_interval_seconds)
        .toBe(90);
      expect(await keyringSecrets(s.keyring, s.corp.id)('archive')).toBe(ARCHIVE_SECRET);
      expect(await admin.getByTestId('secret-status-archive').innerText()).toBe('已设置');

      expect(await violations(admin)).toEqual([]);
      expect(bodies.length).toBeGreaterThan(3);
      expect(bodies.join('\n')).not.toContain(ARCHIVE_SECRET);
      expect(await admin.content()).not.toContain(ARCHIVE_SECRET);
      const audit = await s.pool.query<{ details: unknown }>(
        `SELECT details FROM audit_events WHERE corp_id = $1 AND action = 'wecom.connector.update' ORDER BY seq`,
        [s.corp.id],
      );
      expect(audit.rows.map((r) => r.details)).toEqual([
        expect.objectContaining({ created: true, replaced: ['archive'] }),
        expect.objectContaining({ created: false, changed: ['pollIntervalSeconds'], replaced: [] }),
      ]);
      expect(JSON.stringify(audit.rows)).not.toContain(ARCHIVE_SECRET);
      await admin.close();
    },
  );

  it(
    'a compliance lead changes the corp’s sampling; connectors are read-only to them',
    { timeout: 90_000 },
    async () => {
      const lead = await s.signIn('lead');
      lead.setDefaultTimeout(15_000);
      await lead.goto(`${s.base}/admin`);
      await lead.getByRole('tab').first().waitFor();
      expect(await lead.getByRole('tab').allInnerTexts()).toEqual(['审核队列', '抽样设置', '企业与连接器']);

      await lead.getByRole('tab', { name: '企业与连接器' }).click();
      await lead.getByTestId('connector-form').waitFor();
      await lead.getByText('只读：修改连接器设置需要系统管理员').waitFor();
      expect(await lead.getByTestId('connector-save').count()).toBe(0);
      expect(await lead.getByTestId('secret-status-archive').innerText()).toBe('已设置');

      await lead.getByRole('tab', { name: '抽样设置' }).click();
      await expect.poll(() => lead.getByTestId('sampling-effective-monthlyRate').innerText()).toBe('5%');
      await lead.getByText('SLA 时限（首次处理、办结）与到期提醒按队列设置').waitFor();
      await input(lead, 'sampling-monthlyRate').fill('12');
      await input(lead, 'sampling-humanReviewTarget').fill('40');
      await lead.getByTestId('sampling-weeklySensitive').click();
      await lead.getByTestId('sampling-save').click();
      await lead.getByText('已保存', { exact: true }).first().waitFor();
      await expect.poll(() => lead.getByTestId('sampling-effective-monthlyRate').innerText()).toBe('12%');
      expect(await lead.getByTestId('sampling-effective-humanReviewTarget').innerText()).toBe('40%');
      expect(await lead.getByTestId('sampling-effective-recheckRate').innerText()).toBe('10%');
      expect(await lead.getByTestId('sampling-effective-weeklySensitive').innerText()).toBe('关闭');
      expect(await violations(lead)).toEqual([]);

      const { rows } = await s.pool.query(
        `SELECT monthly_rate, recheck_rate, human_review_target, weekly_sensitive, updated_by
       FROM review_sampling_settings WHERE corp_id = $1`,
        [s.corp.id],
      );
      expect(rows).toEqual([
        {
          monthly_rate: 0.12,
          recheck_rate: null,
          human_review_target: 0.4,
          weekly_sensitive: false,
          updated_by: `user:${s.users.lead!.id}`,
        },
      ]);
      // The setting survives a reload.
      await lead.reload();
      await lead.getByTestId('sampling-effective-monthlyRate').waitFor();
      await expect.poll(() => input(lead, 'sampling-monthlyRate').inputValue()).toBe('12');
      await lead.close();
    },
  );
});
