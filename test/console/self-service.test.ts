import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatMessage } from '../support/archive.js';
import { available, SCREENSHOTS, startConsoleServer, type ConsoleServer } from './server.js';

// Employee self-service (issue #8): compliance publishes the monitoring notice (PIPL 告知); the
// employee sees the banner, reads and acknowledges it, and opens their own conversations — only
// their own — through the content access service.

let s: ConsoleServer;
const conversations: Record<string, string> = {};

const XSS = '<img src=x onerror="window.__xss=1">';
const NOTICE_BODY = `为履行金融监管合规义务，公司对员工使用企业微信与客户的业务沟通进行存档和合规检查。\n存档内容仅由授权人员按最小必要原则查看，所有查看均记入审计日志。${XSS}`;

const noXss = async (page: Page) =>
  expect(await page.evaluate(() => (globalThis as { __xss?: unknown }).__xss)).toBeUndefined();

describe.skipIf(!available)('employee self-service in Chromium', () => {
  beforeAll(async () => {
    s = await startConsoleServer('self-service');
    const { corp, org, pool } = s;
    await org.upsertDepartments([{ corpId: corp.id, id: 1, parentId: null, name: '财富管理部' }]);
    const employee = (userid: string, name: string) => ({
      corpId: corp.id,
      userid,
      name,
      departmentIds: [1],
      mainDepartment: 1,
      leaderOf: [],
      position: '理财经理',
      status: 1,
      sensitivePost: false,
    });
    await org.upsertEmployees([employee('alice', '李娜'), employee('bob', '王强')]);
    await pool.query(
      `INSERT INTO external_contacts (corp_id, external_userid, name, kind) VALUES
         ($1, 'wmCust1', '陈先生', 1), ($1, 'wmCust2', '周女士', 1)`,
      [corp.id],
    );
    const at = (hoursAgo: number) => new Date(Date.now() - hoursAgo * 3_600_000);
    await s.archive.storeBatch(corp.id, [
      chatMessage('alice-1', 'alice', 'wmCust1', '陈先生您好，本周的基金定投已经确认。', at(5)),
      chatMessage('alice-2', 'alice', 'wmCust1', '如有疑问随时联系我。', at(4)),
      chatMessage('bob-1', 'bob', 'wmCust2', '周女士，理财合同明天寄出。', at(3)),
    ]);
    const { rows } = await pool.query<{ conversation_key: string; id: string }>(
      'SELECT conversation_key, id::text FROM conversations WHERE corp_id = $1',
      [corp.id],
    );
    for (const r of rows) conversations[r.conversation_key] = r.id;
    await s.addUser('lead', 'compliance_lead');
    await s.addUser('alice', 'employee', { employee: 'alice' });
  }, 180_000);

  afterAll(async () => {
    await s?.close();
  });

  it(
    'compliance publishes the notice; the employee acknowledges it and opens only their own conversations',
    { timeout: 120_000 },
    async () => {
      // Compliance publishes version 1.
      const lead = await s.signIn('lead');
      lead.setDefaultTimeout(10_000);
      await lead.getByRole('menuitem', { name: '告知与同意' }).click();
      await lead.getByTestId('privacy-coverage').getByText('尚无生效的监控告知').waitFor();
      await lead.getByTestId('privacy-publish-title').fill('员工企业微信会话存档告知书');
      await lead.getByTestId('privacy-publish-body').fill(NOTICE_BODY);
      await lead.getByTestId('privacy-publish').click();
      await lead.getByRole('button', { name: '确认发布' }).click();
      await lead.getByText('已发布第 1 版').waitFor();
      await lead.getByTestId('privacy-versions').getByText('当前生效').waitFor();
      await expect.poll(() => lead.getByTestId('coverage-pending').innerText()).toContain('2');
      const published = await s.pool.query(
        `SELECT version, title, body FROM privacy_notices WHERE corp_id = $1`,
        [s.corp.id],
      );
      expect(published.rows).toEqual([
        { version: 1, title: '员工企业微信会话存档告知书', body: NOTICE_BODY },
      ]);

      // The employee sees the banner on their first page, reads the notice and acknowledges it.
      const alice = await s.signIn('alice');
      alice.setDefaultTimeout(10_000);
      const banner = alice.getByTestId('privacy-banner');
      await banner.waitFor();
      expect(await banner.innerText()).toContain('第 1 版');
      await banner.getByRole('button', { name: '立即阅读' }).click();
      await alice.waitForURL('**/me/privacy-notice');
      expect(await alice.getByTestId('privacy-notice-title').innerText()).toBe('员工企业微信会话存档告知书');
      const body = await alice.getByTestId('privacy-notice-body').innerText();
      expect(body).toContain('所有查看均记入审计日志');
      expect(body).toContain(XSS); // shown as text, not rendered as markup
      expect(await alice.getByTestId('privacy-notice-body').locator('img').count()).toBe(0);
      await noXss(alice);
      await alice.waitForTimeout(500); // the menu's selection animates
      await alice.screenshot({ path: join(SCREENSHOTS, 'monitoring-notice.png') });
      await alice.getByTestId('privacy-acknowledge').click();
      await alice.getByTestId('privacy-acknowledged').waitFor();
      await expect.poll(() => banner.count()).toBe(0);
      const consent = await s.pool.query(
        `SELECT version, employee_userid, user_id::text, ip, user_agent FROM privacy_acknowledgements
         WHERE corp_id = $1`,
        [s.corp.id],
      );
      expect(consent.rows).toEqual([
        {
          version: 1,
          employee_userid: 'alice',
          user_id: s.users.alice!.id,
          ip: '127.0.0.1',
          user_agent: expect.stringContaining('Chrome'),
        },
      ]);

      // My conversations: only Alice's own, the customer named as the access service returns it.
      await alice.getByRole('menuitem', { name: '我的会话' }).click();
      await alice.getByTestId('my-conversations').waitFor();
      const own = conversations['alice|wmCust1']!;
      const item = alice.getByTestId(`conversation-${own}`);
      await item.waitFor();
      expect(await alice.locator('.ant-list-item').count()).toBe(1);
      expect(await alice.getByTestId(`conversation-${conversations['bob|wmCust2']}`).count()).toBe(0);
      expect(await item.getByTestId('conversation-counterparts').innerText()).toBe('陈先生 (wmCust1)');
      await alice.waitForTimeout(500);
      await alice.screenshot({ path: join(SCREENSHOTS, 'my-conversations.png') });
      await alice.getByTestId(`open-conversation-${own}`).click();
      await alice.waitForURL(`**/conversations/${own}`);
      const bubbles = alice.getByTestId('chat').locator('[data-msgid]');
      await expect.poll(() => bubbles.count()).toBe(2);
      expect(await alice.locator('[data-msgid="alice-1"]').innerText()).toContain('本周的基金定投已经确认');
      expect(await alice.locator('[data-msgid="bob-1"]').count()).toBe(0);
      // Another employee's conversation stays closed, even by its address.
      const bobs = conversations['bob|wmCust2']!;
      await alice.goto(`${s.base}/conversations/${bobs}`);
      // (The viewer's query retries before it shows the refusal.)
      await alice.getByText(/outside your scope/).waitFor({ timeout: 30_000 });
      expect(await alice.locator('[data-msgid="bob-1"]').count()).toBe(0);

      const audited = await s.pool.query<{ action: string; result: string; resource_ids: string[] }>(
        `SELECT action, result, resource_ids FROM audit_events
         WHERE actor = $1 AND action IN ('content.list', 'content.read', 'content.view',
           'privacy.notice_acknowledge') ORDER BY seq`,
        [`user:${s.users.alice!.id}`],
      );
      const allowed = audited.rows.filter((r) => r.result === 'allowed');
      expect(allowed).toEqual([
        { action: 'privacy.notice_acknowledge', result: 'allowed', resource_ids: ['1'] },
        { action: 'content.list', result: 'allowed', resource_ids: [own] },
        { action: 'content.read', result: 'allowed', resource_ids: [own] },
      ]);
      const denied = audited.rows.filter((r) => r.result !== 'allowed');
      expect(denied.length).toBeGreaterThan(0);
      for (const r of denied)
        expect(r).toEqual({ action: 'content.view', result: 'denied', resource_ids: [bobs] });

      // Compliance sees the coverage move: Bob is the one left.
      await lead.reload();
      await expect.poll(() => lead.getByTestId('coverage-pending').innerText()).toContain('1');
      const missing = await lead.getByTestId('coverage-missing').innerText();
      expect(missing).toContain('王强');
      expect(missing).not.toContain('李娜');
      await lead.screenshot({ path: join(SCREENSHOTS, 'privacy-coverage.png'), fullPage: true });
      await lead.close();
      await alice.close();
    },
  );
});
