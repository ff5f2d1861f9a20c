import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { available, seedKickbackAlert, startConsoleServer, type ConsoleServer } from './server.js';

// The reviewer's queue with 100,000 unclosed alerts (and some closed ones) in Chromium: the total
// shows at once, pages load as the reader scrolls while the DOM keeps a bounded number of rows,
// and the keyboard cursor walks across pages and opens an alert.

let s: ConsoleServer;
const UNCLOSED = 100_000;
const CLOSED = 300;
/** Rows the virtualised list may render at most (it renders about 35). */
const MAX_DOM_ROWS = 200;

/** The queue's order, as the API promises it, written independently here. */
async function queueOrder(limit: number, where = `status <> 'closed'`): Promise<string[]> {
  const { rows } = await s.pool.query<{ alert: string }>(
    `SELECT id::text AS alert FROM review_alerts WHERE corp_id = $1 AND ${where}
     ORDER BY status = 'closed', priority DESC, resolution_due, id LIMIT $2`,
    [s.corp.id, limit],
  );
  return rows.map((r) => r.alert);
}

const rows = (page: Page) => page.locator('[data-testid="alert-row"]');
const total = (page: Page) => page.getByTestId('alert-total').innerText();
/** Each rendered row's position in the list and its alert id. */
const rendered = (page: Page) =>
  rows(page).evaluateAll((els) =>
    els.map((el) => [Number(el.getAttribute('data-index')), el.getAttribute('data-alert-id')!] as const),
  );

describe.skipIf(!available)('the alert queue with 100,000 alerts', () => {
  beforeAll(async () => {
    s = await startConsoleServer('queue');
    const { alertId, conversationId } = await seedKickbackAlert(s);
    const started = Date.now();
    // Many ties in priority and deadline (only the id orders those); every tenth alert overdue.
    // All about the kickback's conversation window, which a compliance officer may read.
    await s.pool.query(
      `INSERT INTO review_alerts (corp_id, source, conversation_id, window_start, window_end, category, severity,
         employee_userids, priority, status, first_action_due, first_action_at, resolution_due, closed_at, disposition)
       SELECT $1, 'detection', $2, k.window_start, k.window_end,
         (ARRAY['bribery', 'private_deal', 'data_leak', 'harassment', 'return_promise'])[1 + g % 5],
         (ARRAY['low', 'medium', 'high', 'critical'])[1 + g % 4], '{alice}', (g % 40) / 8.0,
         CASE WHEN g > $3 THEN 'closed' WHEN g % 3 = 0 THEN 'in_review' ELSE 'open' END,
         now() + interval '1 day', now(),
         CASE WHEN g % 10 = 0 THEN now() - make_interval(hours => 1 + g % 48)
           ELSE now() + make_interval(hours => 12 + g % 100) END,
         CASE WHEN g > $3 THEN now() END, CASE WHEN g > $3 THEN 'false_positive' END
       FROM generate_series(1, $4::int) AS g,
         (SELECT window_start, window_end FROM review_alerts WHERE corp_id = $1 AND id = $5) AS k`,
      [s.corp.id, conversationId, UNCLOSED - 1, UNCLOSED - 1 + CLOSED, alertId],
    );
    await s.pool.query('ANALYZE review_alerts');
    console.log(`seeded ${UNCLOSED + CLOSED} alerts in ${Date.now() - started} ms`);
    await s.addUser('officer', 'compliance_officer');
  }, 300_000);

  afterAll(async () => {
    await s?.close();
  });

  it(
    'shows the total, loads pages while scrolling with bounded DOM rows, and J/Enter open an alert',
    {
      timeout: 180_000,
    },
    async () => {
      const page = await s.signIn('officer');
      page.setDefaultTimeout(15_000);
      const pageRequests: string[] = [];
      page.on('request', (r) => {
        if (r.url().includes('/review/alerts?')) pageRequests.push(r.url());
      });
      const opened = Date.now();
      await page.goto(`${s.base}/review/alerts`);
      await expect.poll(() => total(page), { timeout: 15_000 }).toBe('共 100,000 条告警');
      await rows(page).first().waitFor();
      console.log(`first page and total shown in ${Date.now() - opened} ms`);

      const expected = await queueOrder(700);
      const check = async () => {
        const shown = await rendered(page);
        expect(shown.length).toBeGreaterThan(10);
        expect(shown.length).toBeLessThan(MAX_DOM_ROWS);
        for (const [index, id] of shown) expect([index, id]).toEqual([index, expected[index]]);
        return Math.max(...shown.map(([i]) => i));
      };
      expect(await check()).toBeLessThan(100);
      expect(pageRequests).toHaveLength(1); // the first page only, 100 alerts, not 100,000

      // Scrolling to the end of what is loaded fetches the next page, five times over.
      const scroller = page.getByTestId('alert-scroller');
      let deepest = 0;
      for (let loaded = 100; loaded <= 500; loaded += 100) {
        await scroller.evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
        await page.locator(`[data-testid="alert-row"][data-index="${loaded + 1}"]`).waitFor();
        await expect
          .poll(() => page.getByText(`已加载 ${(loaded + 100).toLocaleString('en')} 条`).count())
          .toBe(1);
        const last = await check();
        expect(last).toBeGreaterThan(deepest);
        deepest = last;
      }
      expect(deepest).toBeGreaterThan(500);
      // Each later page asked for what follows the previous one, by cursor, 100 alerts at a time.
      const cursors = pageRequests.map((u) => new URL(u).searchParams.get('cursor')).filter(Boolean);
      expect(new Set(cursors).size).toBe(5);
      expect(pageRequests.every((u) => new URL(u).searchParams.get('limit') === '100')).toBe(true);
      expect(await total(page)).toBe('共 100,000 条告警');

      // The keyboard cursor: pick row 95, then J walks across the page boundary at 100; when the
      // view has scrolled elsewhere, the next J brings the current row back into view.
      const current = page.locator('[data-testid="alert-row"][aria-current="true"]');
      await scroller.evaluate((el) => el.scrollTo({ top: 90 * 40 }));
      await page.locator('[data-testid="alert-row"][data-index="95"] [role="cell"]').nth(1).click();
      await expect.poll(() => current.getAttribute('data-index')).toBe('95');
      for (let i = 0; i < 10; i++) await page.keyboard.press('j');
      await expect.poll(() => current.getAttribute('data-index')).toBe('105');
      await scroller.evaluate((el) => el.scrollTo({ top: 0 }));
      await expect.poll(() => current.count()).toBe(0); // scrolled out of the DOM
      await page.keyboard.press('j');
      await expect.poll(() => current.getAttribute('data-index')).toBe('106');
      expect(await current.getAttribute('data-alert-id')).toBe(expected[106]);
      const [row, view] = await Promise.all([current.boundingBox(), scroller.boundingBox()]);
      expect(row!.y).toBeGreaterThanOrEqual(view!.y - 1);
      expect(row!.y + row!.height).toBeLessThanOrEqual(view!.y + view!.height + 1);
      await page.keyboard.press('k');
      await expect.poll(() => current.getAttribute('data-index')).toBe('105');
      await page.keyboard.press('Enter');
      await page.waitForURL(`**/review/alerts/${expected[105]}`);
      await page.getByTestId('alert-status').waitFor();
      await page.close();
    },
  );

  it(
    'filters by SLA state and status with their own totals, and claims in bulk',
    {
      timeout: 120_000,
    },
    async () => {
      const page = await s.signIn('officer');
      page.setDefaultTimeout(15_000);
      await page.goto(`${s.base}/review/alerts`);
      await expect.poll(() => total(page)).toBe('共 100,000 条告警');

      const overdue = Number(
        (
          await s.pool.query<{ n: string }>(
            `SELECT count(*) AS n FROM review_alerts WHERE corp_id = $1 AND status <> 'closed' AND resolution_due <= now()`,
            [s.corp.id],
          )
        ).rows[0]!.n,
      );
      expect(overdue).toBeGreaterThan(9000);
      await page.getByTestId('filter-sla').click();
      await page
        .locator('.ant-select-dropdown:visible .ant-select-item-option', { hasText: '已超时' })
        .click();
      await expect.poll(() => total(page)).toBe(`共 ${overdue.toLocaleString('en')} 条告警`);
      await rows(page).first().waitFor();
      const overdueIds = await queueOrder(50, `status <> 'closed' AND resolution_due <= now()`);
      expect((await rendered(page)).slice(0, 5)).toEqual(overdueIds.slice(0, 5).map((id, i) => [i, id]));
      expect(await rows(page).first().getByTestId('sla-overdue').innerText()).toBe('已超时');
      await page.getByTestId('filter-sla').locator('.ant-select-clear').click();
      await expect.poll(() => total(page)).toBe('共 100,000 条告警');

      // Closed alerts only.
      const status = page.getByTestId('filter-status');
      for (let i = 0; i < 4; i++) await status.locator('.ant-select-selection-item-remove').first().click();
      await status.click();
      await page
        .locator('.ant-select-dropdown:visible .ant-select-item-option', { hasText: '已结案' })
        .click();
      await page.keyboard.press('Escape');
      await expect.poll(() => total(page)).toBe(`共 ${CLOSED} 条告警`);
      await page.goto(`${s.base}/review/alerts`);

      // Two rows selected and claimed at once; a third claimed with C on the keyboard.
      await expect.poll(() => total(page)).toBe('共 100,000 条告警');
      const [first, second, third] = (await queueOrder(3, `status = 'open'`)) as [string, string, string];
      const claimed = async (ids: string[]) =>
        (
          await s.pool.query<{ id: string; status: string; assignee: string | null }>(
            `SELECT id::text, status, assignee_id::text AS assignee FROM review_alerts
             WHERE corp_id = $1 AND id = ANY($2::bigint[]) ORDER BY id`,
            [s.corp.id, ids],
          )
        ).rows;
      const byOfficer = (ids: string[]) =>
        ids
          .sort((a, b) => Number(a) - Number(b))
          .map((id) => ({ id, status: 'in_review', assignee: s.users.officer!.id }));
      expect((await claimed([first, second, third])).every((r) => r.assignee === null)).toBe(true);
      for (const id of [first, second])
        await page.locator(`[data-alert-id="${id}"]`).getByRole('checkbox').check();
      await expect.poll(() => page.getByTestId('bulk-claim').innerText()).toContain('(2)');
      await page.getByTestId('bulk-claim').click();
      await expect.poll(() => claimed([first, second])).toEqual(byOfficer([first, second]));
      await expect.poll(() => page.locator(`[data-alert-id="${first}"]`).innerText()).toContain('处理中');
      expect((await claimed([third]))[0]!.assignee).toBeNull();
      await page.locator(`[data-alert-id="${third}"] [role="cell"]`).nth(1).click();
      await page.keyboard.press('c');
      await expect.poll(() => claimed([third])).toEqual(byOfficer([third]));
      await expect.poll(() => page.locator(`[data-alert-id="${third}"]`).innerText()).toContain('处理中');
      await page.close();
    },
  );
});
