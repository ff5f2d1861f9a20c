import type { ArchiveService } from '../../archive/archive.service.js';
import type { JobDefinition } from '../../platform/jobs/types.js';
import { BACKTEST_JOB, RESCAN_JOB, type BacktestScope, type BacktestService } from './backtest.service.js';
import type { DetectionService } from './detection.service.js';

/** Payload of `detection.rescan`: re-run the current enabled policies over [from, to). */
export interface RescanPayload {
  corpId: number;
  from?: string;
  to?: string;
}

/**
 * `detection.backtest` runs a back-test: payload `{ backtestId }` (recorded by
 * BacktestService.start) or `{ corpId, document | policyId [+ version], scope }`.
 * `detection.rescan` writes hits and findings for a time range (idempotent).
 */
export function detectionJobs(deps: {
  archive: ArchiveService;
  detection: DetectionService;
  backtests: BacktestService;
}): JobDefinition[] {
  return [
    {
      name: BACKTEST_JOB,
      maxAttempts: 2,
      async handler(ctx) {
        const p = ctx.job.payload as {
          backtestId?: string;
          corpId?: number;
          document?: unknown;
          policyId?: number;
          version?: number;
          scope?: BacktestScope;
        };
        let id = p.backtestId;
        if (id === undefined) {
          if (typeof p.corpId !== 'number') throw new Error('detection.backtest needs backtestId or corpId');
          id = (
            await deps.backtests.create({
              corpId: p.corpId,
              document: p.document,
              policyId: p.policyId,
              version: p.version,
              scope: p.scope,
              requestedBy: `job:${ctx.job.id}`,
            })
          ).id;
        }
        const result = await deps.backtests.run(id, (progress) => ctx.reportProgress(progress), ctx.signal);
        return { backtestId: id, messages: result.messages, hits: result.hits, findings: result.findings };
      },
    },
    {
      name: RESCAN_JOB,
      maxAttempts: 3,
      async handler(ctx) {
        const p = ctx.job.payload as unknown as RescanPayload;
        if (typeof p.corpId !== 'number') throw new Error('detection.rescan needs corpId');
        return deps.detection.rescan(
          deps.archive,
          p.corpId,
          { from: p.from ? new Date(p.from) : undefined, to: p.to ? new Date(p.to) : undefined },
          (done) => ctx.reportProgress({ done, message: 'messages rescanned' }),
          ctx.signal,
        );
      },
    },
  ];
}
