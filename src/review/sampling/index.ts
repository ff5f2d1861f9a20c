import type { FastifyPluginAsync } from 'fastify';
import type { AuditLog } from '../../audit/audit-log.js';
import { OrgRepository } from '../../org/org.repository.js';
import type { Pool } from '../../platform/db/pool.js';
import type { JobDefinition, ScheduleDefinition } from '../../platform/jobs/types.js';
import type { ReviewConfig } from '../config.js';
import { samplingJobs } from './sampling.jobs.js';
import { samplingRoutes } from './sampling.routes.js';
import { SamplingService } from './sampling.service.js';

export { SAMPLING_JOBS } from './sampling.jobs.js';
export { HUMAN_REVIEW_DEFINITION } from './sampling-report.js';
export { SamplingService } from './sampling.service.js';
export type { SamplingKind, SamplingReport, SamplingRun, SamplingRunResult } from './types.js';

/** Sampling, wired for the HTTP server and the job runner. */
export function samplingModule(deps: { pool: Pool; config: ReviewConfig; audit?: AuditLog }): {
  service: SamplingService;
  routes: FastifyPluginAsync[];
  jobs: JobDefinition[];
  schedules: ScheduleDefinition[];
} {
  const service = new SamplingService(deps);
  const org = new OrgRepository(deps.pool);
  const corpIds = async () => (await org.listCorps()).map((c) => c.id);
  return { service, routes: [samplingRoutes({ service, org })], ...samplingJobs({ service, corpIds }) };
}
