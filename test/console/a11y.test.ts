/**
 * Accessibility of the console's main pages, checked by axe-core (WCAG 2 A and AA rules) in
 * Chromium: no serious or critical violation — labels, names, contrast, landmarks, focus order.
 * Also the layout at 1280 px and the watermark on printed views.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PolicyService } from '../../src/detection/store/index.js';
import { available, seedKickbackAlert, startConsoleServer, type ConsoleServer } from './server.js';
import { violations } from './axe.js';

let s: ConsoleServer;
let alertId: string;

describe.skipIf(!available)('console accessibility (axe-core, WCAG 2 AA), width and print', () => {
  beforeAll(async () => {
    s = await startConsoleServer('a11y');
    await new PolicyService(s.pool).installTemplates(s.corp.id);
    ({ alertId } = await seedKickbackAlert(s));
    await s.addUser('officer', 'compliance_officer');
    await s.addUser('admin', 'system_admin', { global: true });
  }, 180_000);

  afterAll(async () => {
    await s?.close();
  });

  it('the sign-in page', { timeout: 60_000 }, async () => {
    const page = await s.anonymous();
    await page.getByRole('button').first().waitFor();
    expect(await violations(page)).toEqual([]);
    await page.close();
  });

  it('the reviewer’s pages', { timeout: 120_000 }, async () => {
    const page = await s.signIn('officer');
    const found: string[] = [];
    for (const path of [
      '/dashboard',
      '/review/alerts',
      `/review/alerts/${alertId}`,
      '/search',
      '/policies',
    ]) {
      await page.goto(`${s.base}${path}`);
      await page.waitForLoadState('networkidle');
      found.push(...(await violations(page)).map((v) => `${path}: ${v}`));
    }
    expect(found).toEqual([]);
    await page.close();
  });

  it('fits 1280 px without sideways scrolling, and printed views keep the watermark', async () => {
    const page = await s.signIn('officer');
    await page.setViewportSize({ width: 1280, height: 800 });
    const overflow: string[] = [];
    for (const path of [
      '/dashboard',
      '/review/alerts',
      `/review/alerts/${alertId}`,
      '/search',
      '/policies',
    ]) {
      await page.goto(`${s.base}${path}`);
      await page.waitForLoadState('networkidle');
      const width = await page.evaluate<number>('document.documentElement.scrollWidth');
      if (width > 1280) overflow.push(`${path}: ${width} px`);
    }
    expect(overflow).toEqual([]);

    await page.goto(`${s.base}/review/alerts/${alertId}`);
    await page.getByTestId('chat').waitFor();
    await page.emulateMedia({ media: 'print' });
    // The tiled watermark layer is the one drawn as a data-URL background (the test's tsconfig has
    // no DOM types, hence a string).
    const watermark = await page.evaluate(`(() => {
      const layer = [...document.querySelectorAll('div')].find((d) =>
        d.style.backgroundImage.startsWith('url("data:image'));
      return layer && { adjust: getComputedStyle(layer).printColorAdjust, shown: layer.offsetWidth > 0 };
    })()`);
    expect(watermark).toEqual({ adjust: 'exact', shown: true });
    await page.close();
  });

  it('the administrator’s pages', { timeout: 60_000 }, async () => {
    const page = await s.signIn('admin');
    await page.goto(`${s.base}/admin`);
    await page.waitForLoadState('networkidle');
    expect(await violations(page)).toEqual([]);
    await page.close();
  });
});
