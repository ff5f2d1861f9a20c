import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyEvidencePackage } from '../../src/review/evidence/index.js';
import {
  apiAs,
  asSuperuser,
  available,
  SCREENSHOTS,
  seedKickbackAlert,
  startConsoleServer,
  type ConsoleServer,
} from './server.js';

// The investigator's, auditor's, operator's and administrator's pages, each in Chromium against
// the real API over this file's own database.

let s: ConsoleServer;
let alertId: string;
let conversationId: string;
let caseId: string;
const HOSTILE_TITLE = '回扣调查 <img src=x onerror="window.__xss=1">';

const noXss = async (page: Page) =>
  expect(await page.evaluate(() => (globalThis as { __xss?: unknown }).__xss)).toBeUndefined();
const menu = async (page: Page) => (await page.getByRole('menu').first().innerText()).split('\n');
const timeline = (page: Page) => page.getByTestId('case-timeline');
/** The input of an antd field, wherever it puts the test id (on the input or around it). */
const input = (page: Page, id: string) =>
  page.locator(`input[data-testid="${id}"], [data-testid="${id}"] input`).first();
/** Picks an option of the open antd Select dropdown (not its hidden accessibility list). */
const pick = (page: Page, text: string | RegExp) =>
  page.locator('.ant-select-dropdown:visible .ant-select-item-option', { hasText: text }).first().click();
/** Presses OK in the open dialog that contains `text`. */
const confirm = (page: Page, text: string) =>
  page
    .getByRole('dialog')
    .filter({ hasText: text })
    .getByRole('button', { name: /^(确\s*定|OK)$/ })
    .click();

/** A connector mid-capture: envelopes archived, some held for a missing key, some quarantined. */
async function seedCapture() {
  const { pool, corp } = s;
  await pool.query(`INSERT INTO wecom_connectors (corp_id, wecom_corp_id) VALUES ($1, 'wwpages01')`, [
    corp.id,
  ]);
  await pool.query(
    `INSERT INTO wecom_cursors (corp_id, seq, pulled_total, archived_total, last_pull_at, last_new_at)
     VALUES ($1, 120, 120, 116, now() - interval '10 minutes', now() - interval '12 minutes')`,
    [corp.id],
  );
  const envelope = (msgid: string, seq: number, state: string, ver: number | null, reason: string | null) =>
    pool.query(
      `INSERT INTO wecom_envelopes (corp_id, msgid, seq, publickey_ver, state, reason) VALUES ($1, $2, $3, $4, $5, $6)`,
      [corp.id, msgid, seq, ver, state, reason],
    );
  await envelope('held-1', 101, 'held_key', 3, 'no private key for publickey_ver 3');
  await envelope('held-2', 102, 'held_key', 3, 'no private key for publickey_ver 3');
  await envelope('bad-1', 103, 'quarantined', 2, 'decrypt failed: RSA padding check failed <b>x</b>');
  await envelope('bad-2', 104, 'quarantined', null, 'malformed envelope: missing encrypt_random_key');
  for (const [i, status] of ['stored', 'stored', 'stored', 'failed', 'expired'].entries())
    await pool.query(
      `INSERT INTO attachments (corp_id, message_id, msg_time, kind, status, msgid, path)
       VALUES ($1, $2, now(), 'image', $3, $4, 'image')`,
      [corp.id, i + 1, status, `media-${i}`],
    );
}

describe.skipIf(!available)('console pages in Chromium', () => {
  beforeAll(async () => {
    s = await startConsoleServer('pages');
    ({ alertId, conversationId } = await seedKickbackAlert(s));
    await s.addUser('officer', 'compliance_officer');
    await s.addUser('lead', 'compliance_lead');
    await s.addUser('auditor', 'auditor', { global: true });
    await s.addUser('admin', 'system_admin', { global: true });
    await seedCapture();
  }, 180_000);

  afterAll(async () => {
    await s?.close();
  });

  it('shows each page only to the roles holding its permission', { timeout: 60_000 }, async () => {
    const officer = await s.signIn('officer');
    expect(await menu(officer)).toEqual(expect.arrayContaining(['总览', '告警队列', '案件']));
    for (const hidden of ['审计日志', '采集健康', '系统管理'])
      expect(await menu(officer)).not.toContain(hidden);
    await officer.goto(`${s.base}/admin`);
    await officer.waitForURL(/\/dashboard$/); // no route without the permission
    const auditor = await s.signIn('auditor');
    await auditor.waitForURL(/\/audit$/); // an auditor's home is the audit log
    expect(await menu(auditor)).toEqual(['审计日志', '采集健康']);
    const admin = await s.signIn('admin');
    await admin.waitForURL(/\/admin$/);
    expect(await menu(admin)).toEqual(['策略与词库', '审计日志', '采集健康', '系统管理']);
    await admin.goto(`${s.base}/review/cases`);
    await admin.waitForURL(/\/admin$/);
    for (const page of [officer, auditor, admin]) await page.close();
  });

  it(
    'runs a case: note, legal hold, evidence under an export grant, closing',
    { timeout: 120_000 },
    async () => {
      const page = await s.signIn('officer');
      page.setDefaultTimeout(10_000);
      await page.goto(`${s.base}/review/cases`);
      await page.getByTestId('case-create').click();
      await page.getByTestId('case-title').fill(HOSTILE_TITLE);
      await input(page, 'case-alerts').fill(alertId);
      await page.keyboard.press('Enter');
      await page.getByTestId('case-create-submit').click();
      await page.waitForURL(/\/review\/cases\/\d+$/);
      caseId = page.url().split('/').at(-1)!;
      expect(await page.getByTestId('case-title-text').innerText()).toBe(HOSTILE_TITLE); // text, not HTML

      // A note lands on the timeline.
      await page.getByTestId('case-note').fill('客户在电话中承认收到回扣，需调取转账记录');
      await page.getByTestId('case-note-submit').click();
      await timeline(page).getByText('客户在电话中承认收到回扣').waitFor();

      // The legal hold, with its reason, shows as a tag and on the timeline.
      await page.getByRole('tab', { name: '设置法律保全' }).click();
      await page.getByTestId('case-hold-reason').fill('预计发生劳动仲裁，保全相关会话');
      await page.getByTestId('case-hold-submit').click();
      await page.getByTestId('case-hold').waitFor();
      await timeline(page).getByTestId('case-event-hold_set').getByText('预计发生劳动仲裁').waitFor();

      // The alert links to its detail page.
      expect(await page.getByTestId(`case-alert-${alertId}`).getAttribute('href')).toBe(
        `/review/alerts/${alertId}`,
      );

      // No export grant yet: the page says so. Request one; another lead approves it in the console.
      await page.getByTestId('evidence').getByText('您没有有效的导出授权').waitFor();
      const requested = await apiAs<{ id: string }>(page, 'POST', `/api/v1/corps/${s.corp.slug}/grants`, {
        actions: ['export'],
        conversationIds: [conversationId],
        reason: '导出回扣案件的证据包，提交法务',
        durationMinutes: 30,
      });
      expect(requested.status).toBe(201);
      const lead = await s.signIn('lead');
      await lead.goto(`${s.base}/grants`);
      await lead.getByTestId(`approve-${requested.json.id}`).click();
      await lead.getByText('active').first().waitFor();
      await lead.close();

      await page.reload();
      await page.getByTestId('evidence-grant').click();
      await pick(page, `#${requested.json.id} ·`);
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByTestId('evidence-download').click(),
      ]);
      expect(download.suggestedFilename()).toBe(`evidence-${s.corp.slug}-case-${caseId}.zip`);
      const zip = readFileSync((await download.path())!);
      const verified = verifyEvidencePackage(zip);
      expect(verified.problems).toEqual([]);
      expect(verified.ok).toBe(true);
      expect(page.url()).toBe(`${s.base}/review/cases/${caseId}`); // saved, never opened
      await timeline(page).getByTestId('case-event-evidence_exported').waitFor();
      await page.waitForTimeout(600); // let the success message settle before the screenshot
      await page.screenshot({ path: join(SCREENSHOTS, 'cases.png'), fullPage: true });

      // The list shows the status and the hold.
      await page.goto(`${s.base}/review/cases`);
      const row = page.locator('tr', { hasText: '回扣调查' });
      await row.getByTestId('case-hold').waitFor();
      expect(await row.getByTestId('case-status').innerText()).toBe('办理中');

      // Release the hold, then close the case: no more notes.
      await row.getByTestId(`case-${caseId}`).click();
      await page.getByRole('tab', { name: '解除法律保全' }).click();
      await page.getByTestId('case-hold-reason').fill('仲裁已撤回，解除保全');
      await page.getByTestId('case-hold-submit').click();
      await timeline(page).getByTestId('case-event-hold_released').waitFor();
      expect(await page.getByTestId('case-hold').count()).toBe(0);
      await page.getByRole('tab', { name: '结案' }).click();
      await page.getByTestId('case-close-summary').fill('确认违规，已移交人事处理');
      await page.getByTestId('case-close-submit').click();
      await timeline(page).getByTestId('case-event-closed').waitFor();
      expect(await page.getByTestId('case-status').first().innerText()).toBe('已结案');
      expect(await page.getByTestId('case-note').count()).toBe(0);
      const { rows } = await s.pool.query('SELECT status, legal_hold FROM review_cases WHERE id = $1', [
        caseId,
      ]);
      expect(rows[0]).toEqual({ status: 'closed', legal_hold: false });
      await noXss(page);
      await page.close();
    },
  );

  it('shows capture health and retries a quarantined message', { timeout: 60_000 }, async () => {
    const lead = await s.signIn('lead');
    await lead.goto(`${s.base}/capture`);
    expect(await lead.getByTestId('capture-status').innerText()).toBe('正常');
    expect(await lead.getByTestId('capture-window').innerText()).toMatch(/^2 天 23 小时$/);
    await lead.getByTestId('chart-key-versions').locator('canvas').waitFor();
    expect(await lead.getByTestId('capture-media').innerText()).toContain('失败\n1');
    const quarantine = lead.getByTestId('quarantine');
    await quarantine.getByText('decrypt failed: RSA padding check failed <b>x</b>').waitFor(); // as text
    expect(await quarantine.locator('tbody tr').count()).toBe(4);
    expect(await lead.locator('[data-testid^="retry-"]').count()).toBe(0); // capture.read only
    await lead.close();

    const admin = await s.signIn('admin');
    await admin.goto(`${s.base}/capture`);
    await admin.getByTestId('retry-bad-1').click();
    await admin.getByText('已重新排队：bad-1').waitFor();
    await expect.poll(() => admin.getByTestId('retry-bad-1').count()).toBe(0);
    const { rows } = await s.pool.query(
      "SELECT state, attempts FROM wecom_envelopes WHERE corp_id = $1 AND msgid = 'bad-1'",
      [s.corp.id],
    );
    expect(rows[0]).toEqual({ state: 'pending', attempts: 0 });
    await admin.close();
  });

  it(
    'administers users: create, sign in, sign out everywhere, roles, disable',
    { timeout: 90_000 },
    async () => {
      const admin = await s.signIn('admin');
      admin.setDefaultTimeout(10_000);
      await admin.goto(`${s.base}/admin`);
      const officerRow = admin.locator('tr', { hasText: s.users.officer!.username });
      expect(await officerRow.innerText()).toContain('合规专员');
      expect(await officerRow.innerText()).toContain('已绑定 TOTP');

      const username = `newbie-${s.corp.id}`;
      await admin.getByTestId('user-create').click();
      await admin.getByTestId('user-username').fill(username);
      await admin.getByTestId('user-display-name').fill('新同事 <script>window.__xss=1</script>');
      await admin.getByTestId('user-corp').click();
      await pick(admin, new RegExp(s.corp.slug));
      await admin.getByTestId('user-employee').fill('alice'); // synced from contacts
      await admin.getByTestId('user-roles').click();
      await pick(admin, '员工');
      await admin.locator('.ant-modal-title', { hasText: '新建用户' }).click(); // closes the dropdown
      await confirm(admin, '新建用户');
      const password = (await admin.getByTestId('generated-password').innerText()).trim();
      expect(password.length).toBeGreaterThanOrEqual(12);
      await admin.getByTestId('password-done').click();
      const row = admin.locator('tr', { hasText: username });
      expect(await row.innerText()).toContain('新同事 <script>window.__xss=1</script>');
      expect(await row.innerText()).toContain('未绑定 TOTP');

      // The new user signs in with the generated password.
      const newbie = await s.anonymous();
      await newbie.getByLabel('用户名').fill(username);
      await newbie.getByLabel('密码').fill(password);
      await newbie.getByRole('button', { name: '登录' }).click();
      expect(await newbie.getByTestId('current-user').innerText()).toBe(username);

      // Signed out everywhere: the next request finds no session.
      await row.getByTestId(`sign-out-${username}`).click();
      await confirm(admin, '结束该用户的全部会话');
      await admin.getByText('已结束 1 个会话').waitFor();
      await newbie.reload();
      await newbie.getByLabel('用户名').waitFor();

      // A role added, then removed.
      await row.getByTestId(`add-role-${username}`).click();
      await admin.getByTestId('role-select').click();
      await pick(admin, '部门负责人');
      await confirm(admin, '添加角色');
      await row.getByTestId(`role-${username}-department_manager`).waitFor();
      await row.getByTestId(`role-${username}-department_manager`).locator('.ant-tag-close-icon').click();
      await confirm(admin, '移除角色');
      await expect.poll(() => row.getByTestId(`role-${username}-department_manager`).count()).toBe(0);

      // Disabled: sign-in refused; enabled again.
      await row.getByTestId(`toggle-${username}`).click();
      await row.getByTestId(`state-${username}`).getByText('已停用').waitFor();
      await newbie.getByLabel('用户名').fill(username);
      await newbie.getByLabel('密码').fill(password);
      await newbie.getByRole('button', { name: '登录' }).click();
      await newbie.getByText('登录失败').waitFor();
      await row.getByTestId(`toggle-${username}`).click();
      await row.getByTestId(`state-${username}`).getByText('正常').waitFor();
      const { rows } = await s.pool.query('SELECT disabled_at FROM users WHERE username = $1', [username]);
      expect(rows[0].disabled_at).toBeNull();
      await noXss(admin);
      await admin.close();
      await newbie.close();
    },
  );

  it('sets a review queue’s SLA and dual-review rules', { timeout: 60_000 }, async () => {
    const lead = await s.signIn('lead');
    await lead.goto(`${s.base}/admin`);
    await lead.getByTestId('queue-name').waitFor();
    // No users.manage or keys.manage: queues, sampling and (read-only) connectors.
    expect(await lead.getByRole('tab').allInnerTexts()).toEqual(['审核队列', '抽样设置', '企业与连接器']);
    await lead.getByTestId('queue-name').fill('回扣专项');
    await input(lead, 'queue-categories').fill('bribery');
    await lead.keyboard.press('Enter');
    await input(lead, 'queue-resolutionHours').fill('48');
    await input(lead, 'queue-remindBeforeHours').fill('6');
    await lead.getByTestId('queue-dual').click();
    await pick(lead, '中');
    await lead.keyboard.press('Escape');
    await lead.getByTestId('queue-save').click();
    await lead.getByText('已保存', { exact: true }).first().waitFor();
    await expect
      .poll(async () => {
        const { rows } = await s.pool.query(
          `SELECT categories, resolution_hours, remind_before_hours, dual_review_severities
           FROM review_queues WHERE corp_id = $1 AND name = '回扣专项'`,
          [s.corp.id],
        );
        return rows[0];
      })
      .toEqual({
        categories: ['bribery'],
        resolution_hours: 48,
        remind_before_hours: 6,
        dual_review_severities: ['high', 'critical', 'medium'],
      });
    // Reopened from the list, the form shows what was saved.
    await lead.reload();
    await lead.getByTestId('queue-select').click();
    await pick(lead, '回扣专项');
    expect(await input(lead, 'queue-resolutionHours').inputValue()).toBe('48');
    await lead.close();
  });

  it(
    'filters and pages the audit log, and the verify panel names a tampered entry',
    { timeout: 90_000 },
    async () => {
      // A busy log: more entries than one page.
      for (let i = 0; i < 60; i++)
        await s.h.mod.auditLog.recordStandalone({
          actor: 'user:9999',
          action: 'content.read',
          corpId: s.corp.id,
          result: i % 10 === 0 ? 'denied' : 'allowed',
          resourceType: 'conversation',
          resourceIds: [conversationId],
        });
      const page = await s.signIn('auditor');
      page.setDefaultTimeout(15_000);
      await page.goto(`${s.base}/audit`);
      await expect.poll(() => page.getByTestId('audit-verify-status').innerText()).toContain('校验通过');
      expect(Number(await page.getByTestId('audit-checked').innerText())).toBeGreaterThan(60);

      // Paging: page 2 continues below page 1.
      const seqs = async () =>
        (
          await page
            .getByTestId('audit-table')
            .locator('tbody tr.ant-table-row td:nth-child(2)')
            .allInnerTexts()
        ).map(Number);
      await expect.poll(async () => (await seqs()).length).toBe(50);
      const first = await seqs();
      await page.getByTestId('audit-next').click();
      await expect.poll(async () => (await seqs())[0]).toBeLessThan(Math.min(...first));
      expect(await page.getByTestId('audit-page').innerText()).toBe('第 2 页');
      await page.getByTestId('audit-prev').click();
      await expect.poll(async () => (await seqs())[0]).toBeGreaterThanOrEqual(first[0]!);

      // Filters: the officer's case actions only.
      const officer = `user:${s.users.officer!.id}`;
      await page.getByTestId('audit-actor').fill(officer);
      await page.getByTestId('audit-action').fill('case');
      await page.getByTestId('audit-search').click();
      const table = page.getByTestId('audit-table');
      await table.getByText('case.note').waitFor();
      const rows = await table.locator('tbody tr.ant-table-row').allInnerTexts();
      expect(rows.length).toBeGreaterThanOrEqual(6); // create, note, hold, export, release, close
      for (const r of rows) {
        expect(r).toContain(officer);
        expect(r).toMatch(/case\./);
      }
      await page.screenshot({ path: join(SCREENSHOTS, 'audit.png') });
      // Result and time range: the seeded denials, and nothing in the future.
      await page.getByTestId('audit-actor').fill('user:9999');
      await page.getByTestId('audit-action').fill('');
      await page.getByTestId('audit-result').click();
      await pick(page, '拒绝');
      await page.getByTestId('audit-search').click();
      await expect.poll(() => table.locator('tbody tr.ant-table-row').count()).toBe(6);
      const nextYear = new Date().getFullYear() + 1;
      const range = page.locator('.ant-picker-range input');
      await range.first().click();
      await range.first().fill(`${nextYear}-01-01 00:00:00`);
      await page.keyboard.press('Enter');
      await range.nth(1).fill(`${nextYear}-12-31 00:00:00`);
      await page.keyboard.press('Enter');
      await page.getByTestId('audit-search').click();
      await expect.poll(() => table.locator('tbody tr.ant-table-row').count()).toBe(0);
      await page.getByRole('button', { name: '重置' }).click();
      await expect.poll(async () => (await seqs()).length).toBe(50);

      // Someone with database access rewrites the officer's note: the verify panel names it.
      const { rows: notes } = await s.pool.query<{ seq: string }>(
        "SELECT seq::text FROM audit_events WHERE action = 'case.note' AND actor = $1",
        [officer],
      );
      const seq = notes[0]!.seq;
      await asSuperuser(
        s.pool,
        'audit_events',
        `UPDATE audit_events SET details = '{"note": "edited"}' WHERE seq = $1`,
        [seq],
      );
      await page.getByTestId('audit-verify-again').click();
      await expect.poll(() => page.getByTestId('audit-verify-status').innerText()).toContain('校验失败');
      expect(await page.getByTestId('audit-first-bad').innerText()).toContain(`#${seq} (altered)`);
      await noXss(page);
      await page.close();
    },
  );
});
