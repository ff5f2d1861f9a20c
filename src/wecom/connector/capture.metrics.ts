import { Gauge, type Registry } from 'prom-client';
import type { Pool } from '../../platform/db/pool.js';
import { captureHealth } from './health.js';

/** Prometheus gauges of capture health, read from the database at each scrape. */
export function registerCaptureMetrics(registry: Registry, pool: Pool): void {
  const window = new Gauge({
    name: 'vigil_capture_window_remaining_seconds',
    help: "Seconds before messages after the last successful pull leave WeCom's retrieval window",
    labelNames: ['corp'] as const,
    registers: [registry],
  });
  const envelopes = new Gauge({
    name: 'vigil_capture_envelopes',
    help: 'WeCom messages archived, and envelopes waiting by state (pending, held_key, quarantined)',
    labelNames: ['corp', 'state'] as const,
    registers: [registry],
  });
  const media = new Gauge({
    name: 'vigil_capture_media',
    help: 'Media files by status (pending, stored, failed, expired)',
    labelNames: ['corp', 'status'] as const,
    registers: [registry],
    async collect() {
      window.reset();
      envelopes.reset();
      media.reset();
      const { rows } = await pool.query<{ corp_id: number }>('SELECT corp_id FROM wecom_connectors');
      for (const { corp_id } of rows) {
        const health = await captureHealth(pool, corp_id);
        if (!health) continue;
        const corp = String(corp_id);
        if (health.windowRemainingSeconds !== null) window.labels(corp).set(health.windowRemainingSeconds);
        for (const [state, n] of Object.entries(health.envelopes)) envelopes.labels(corp, state).set(n);
        for (const [status, n] of Object.entries(health.media)) media.labels(corp, status).set(n);
      }
    },
  });
}
