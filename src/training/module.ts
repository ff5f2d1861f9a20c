import type { FastifyPluginAsync } from 'fastify';
import type { AuditLog } from '../audit/audit-log.js';
import { OrgRepository } from '../org/org.repository.js';
import type { Pool } from '../platform/db/pool.js';
import { trainingRoutes } from './training.routes.js';
import { TrainingService } from './training.service.js';

export { holdsValidTraining, validTrainingSql, type TrainingSqlRefs } from './training-sql.js';
export { TrainingService } from './training.service.js';

/** Training records, wired for the HTTP server. */
export function trainingModule(deps: { pool: Pool; audit: AuditLog }): {
  service: TrainingService;
  routes: FastifyPluginAsync[];
} {
  const service = new TrainingService({ pool: deps.pool, audit: deps.audit });
  return { service, routes: [trainingRoutes({ service, org: new OrgRepository(deps.pool) })] };
}
