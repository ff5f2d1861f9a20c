import type { FastifyPluginAsync } from 'fastify';
import type { ArchiveService } from '../../archive/archive.service.js';
import type { AuditLog } from '../../audit/audit-log.js';
import type { BlobStore } from '../../crypto/blob/blobstore.js';
import type { Keyring } from '../../crypto/keyring/types.js';
import type { OrgRepository } from '../../org/org.repository.js';
import type { Pool } from '../../platform/db/pool.js';
import type { AccessConfig } from '../config.js';
import { grantsRoutes } from '../grants/grants.routes.js';
import type { NotificationService } from '../../notifications/notifications.service.js';
import { GrantsService } from '../grants/grants.service.js';
import { ContentAccessService } from './content-access.service.js';
import { contentRoutes } from './content.routes.js';
import { SavedSearchRepository } from './saved-searches.js';
import { savedSearchRoutes } from './saved-searches.routes.js';
import { contentSettingsRoutes } from './settings.routes.js';
import { ContentSettingsService } from './settings.service.js';

export interface ContentAccessModuleDeps {
  pool: Pool;
  archive: ArchiveService;
  audit: AuditLog;
  keyring: Keyring;
  org: OrgRepository;
  config: AccessConfig;
  blobs?: BlobStore;
  /** Break-glass access is announced to the corp's compliance leads. */
  notifications?: Pick<NotificationService, 'notify'>;
}

/** The content choke point, dual-control grants and content settings, wired for HTTP and the CLI. */
export function contentAccessModule(deps: ContentAccessModuleDeps): {
  content: ContentAccessService;
  grants: GrantsService;
  settings: ContentSettingsService;
  routes: FastifyPluginAsync[];
} {
  const { content: c, grants: g } = deps.config;
  const content = new ContentAccessService({
    pool: deps.pool,
    archive: deps.archive,
    audit: deps.audit,
    keyring: deps.keyring,
    blobs: deps.blobs,
    settings: {
      sensitiveCategories: c.sensitiveCategories,
      reviewContextHours: c.reviewContextHours,
      trainingCourse: c.trainingCourse || null,
    },
  });
  const notifications = deps.notifications;
  const grants = new GrantsService({
    pool: deps.pool,
    audit: deps.audit,
    config: g,
    notifyLeads:
      notifications &&
      (async (client, corpId, message) => {
        await notifications.notify(client, {
          corpId,
          recipients: { role: { role: 'compliance_lead', corpId } },
          ...message,
        });
      }),
  });
  const settings = new ContentSettingsService({ pool: deps.pool, audit: deps.audit });
  return {
    content,
    grants,
    settings,
    routes: [
      contentRoutes({ content, org: deps.org }),
      grantsRoutes({ grants, org: deps.org }),
      contentSettingsRoutes({ settings, org: deps.org }),
      savedSearchRoutes({ searches: new SavedSearchRepository(deps.pool), org: deps.org }),
    ],
  };
}
