import type { FastifyPluginAsync } from 'fastify';
import type { ContentAccessService } from '../access/content/content-access.service.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Keyring } from '../crypto/keyring/types.js';
import type { NotificationService } from '../notifications/notifications.service.js';
import type { OrgRepository } from '../org/org.repository.js';
import type { Pool } from '../platform/db/pool.js';
import type { JobDefinition, ScheduleDefinition } from '../platform/jobs/types.js';
import { AlertsService } from './alerts/alerts.service.js';
import { corpsWithNewFindings, ingestFindings } from './alerts/intake.js';
import { checkSla } from './alerts/sla.js';
import { AppealsService } from './appeals/appeals.service.js';
import { CasesService } from './cases/cases.service.js';
import { evidenceSignerFromKeyring, type EvidenceSigner } from './evidence/index.js';
import { reviewRoutes } from './review.routes.js';
import type { ReviewConfig } from './config.js';
import { samplingModule } from './sampling/index.js';

export interface ReviewModuleDeps {
  pool: Pool;
  audit: AuditLog;
  content: ContentAccessService;
  org: OrgRepository;
  keyring: Keyring;
  notifications?: Pick<NotificationService, 'notify'>;
  config: ReviewConfig;
  /** Vigil's public URL for links in evidence packages. */
  baseUrl: string;
}

export const INTAKE_JOB = 'review.intake';
export const SLA_JOB = 'review.sla';

/** The review workflow wired for HTTP and the job runner. */
export function reviewModule(deps: ReviewModuleDeps): {
  alerts: AlertsService;
  cases: CasesService;
  appeals: AppealsService;
  routes: FastifyPluginAsync[];
  jobs: JobDefinition[];
  schedules: ScheduleDefinition[];
} {
  const { pool, audit, notifications } = deps;
  const alerts = new AlertsService({ pool, audit, content: deps.content, notifications });
  const cases = new CasesService({ pool, audit, alerts });
  const appeals = new AppealsService({ pool, audit, notifications });
  const sampling = samplingModule({ pool, config: deps.config, audit });
  let signer: Promise<EvidenceSigner> | undefined;
  return {
    alerts,
    cases,
    appeals,
    routes: [
      reviewRoutes({
        pool,
        org: deps.org,
        alerts,
        cases,
        appeals,
        evidence: {
          pool,
          audit,
          content: deps.content,
          baseUrl: deps.baseUrl,
          signer: () => (signer ??= evidenceSignerFromKeyring(deps.keyring)),
        },
      }),
      ...sampling.routes,
    ],
    jobs: [
      ...sampling.jobs,
      {
        name: INTAKE_JOB,
        handler: async ({ job }) => {
          const corpId = (job.payload as { corpId?: number } | null)?.corpId;
          const corps = corpId ? [corpId] : await corpsWithNewFindings(pool);
          const results = [];
          for (const id of corps) results.push({ corpId: id, ...(await ingestFindings(pool, id)) });
          return results;
        },
      },
      { name: SLA_JOB, handler: async () => checkSla(pool, notifications) },
    ],
    schedules: [
      ...sampling.schedules,
      { name: INTAKE_JOB, cron: '15 * * * * *', job: INTAKE_JOB },
      { name: SLA_JOB, cron: '0 */5 * * * *', job: SLA_JOB },
    ],
  };
}
