/** Detection's database half: stored policies, registry, detection at ingest, findings, back-tests. */
import type { FastifyPluginAsync } from 'fastify';
import type { ArchiveService } from '../../archive/archive.service.js';
import { OrgRepository } from '../../org/org.repository.js';
import type { Pool } from '../../platform/db/pool.js';
import type { Logger } from '../../platform/logging/logger.js';
import type { JobRepository } from '../../platform/jobs/queue.js';
import type { JobDefinition, ScheduleDefinition } from '../../platform/jobs/types.js';
import { BacktestService } from './backtest.service.js';
import { detectionJobs } from './detection.jobs.js';
import { detectionRoutes } from './detection.routes.js';
import { DetectionService, type DetectionOptions } from './detection.service.js';
import { PolicyService, type PolicyAudit } from './policy.service.js';
import { PolicyRegistry, type RegistryOptions } from './registry.js';

export { BacktestService, BACKTEST_JOB, RESCAN_JOB, measuredPrecision } from './backtest.service.js';
export type {
  Backtest,
  BacktestResult,
  BacktestScope,
  RuleSummary,
  TermSummary,
} from './backtest.service.js';
export { DetectionService, type DetectResult, type MessageForDetection } from './detection.service.js';
export { PolicyService, validatePolicyDocument, parsePolicySource, SYSTEM_AUTHOR } from './policy.service.js';
export type { Author, PolicyWithVersions } from './policy.service.js';
export { PolicyRegistry, type ActivePolicies } from './registry.js';
export type { StoredFinding, StoredHit } from './findings.repository.js';
export type { StoredPolicy, PolicyVersion } from './policy.repository.js';
export { detectionRoutes } from './detection.routes.js';
export { detectionJobs } from './detection.jobs.js';

export interface DetectionModuleDeps {
  pool: Pool;
  archive: ArchiveService;
  jobs: JobRepository;
  /** The audit log (AuditLog fits): policy changes are recorded in the same transaction. */
  audit?: PolicyAudit;
  logger?: Logger;
  registry?: Partial<RegistryOptions>;
  detection?: Partial<DetectionOptions>;
}

export interface DetectionModule {
  routes: FastifyPluginAsync[];
  jobs: JobDefinition[];
  schedules: ScheduleDefinition[];
  detection: DetectionService;
  registry: PolicyRegistry;
  policies: PolicyService;
  backtests: BacktestService;
}

/** Wires the detection services, routes and jobs over one pool. */
export function detectionModule(deps: DetectionModuleDeps): DetectionModule {
  const registry = new PolicyRegistry(deps.pool, { logger: deps.logger, ...deps.registry });
  const detection = new DetectionService(deps.pool, registry, { logger: deps.logger, ...deps.detection });
  const policies = new PolicyService(deps.pool, {
    audit: deps.audit,
    onChange: (corpId) => registry.invalidate(corpId),
  });
  const backtests = new BacktestService(deps.pool, deps.archive, deps.jobs);
  return {
    routes: [
      detectionRoutes({ org: new OrgRepository(deps.pool), policies, detection, backtests, jobs: deps.jobs }),
    ],
    jobs: detectionJobs({ archive: deps.archive, detection, backtests }),
    schedules: [],
    detection,
    registry,
    policies,
    backtests,
  };
}
