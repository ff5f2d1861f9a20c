import type { FastifyPluginAsync } from 'fastify';
import type { AuditLog } from '../audit/audit-log.js';
import { OrgRepository } from '../org/org.repository.js';
import type { Pool } from '../platform/db/pool.js';
import { privacyRoutes } from './privacy.routes.js';
import { PrivacyService } from './privacy.service.js';

export { PrivacyService, noticeDigest } from './privacy.service.js';
export type * from './types.js';

/** Monitoring notices and consent records (PIPL), wired for the HTTP server. */
export function privacyModule(deps: { pool: Pool; audit: AuditLog }): {
  service: PrivacyService;
  routes: FastifyPluginAsync[];
} {
  const service = new PrivacyService({ pool: deps.pool, audit: deps.audit });
  return { service, routes: [privacyRoutes({ service, org: new OrgRepository(deps.pool) })] };
}
