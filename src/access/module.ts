import type { FastifyPluginAsync } from 'fastify';
import type { Pool } from '../platform/db/pool.js';
import type { VigilConfig } from '../platform/config/schema.js';
import type { Authorizer } from '../platform/http/permissions.js';
import type { Keyring } from '../crypto/keyring/types.js';
import type { JobDefinition, ScheduleDefinition } from '../platform/jobs/types.js';
import type { Logger } from '../platform/logging/logger.js';
import { AuditLog } from '../audit/audit-log.js';
import { auditRoutes } from '../audit/audit.routes.js';
import { AuditService } from '../audit/audit.service.js';
import type { AuditConfig } from '../audit/config.js';
import { localAuditSigner, type AuditSigner } from '../audit/signer.js';
import { AccessRepository } from './access.repository.js';
import { authRoutes } from './auth.routes.js';
import { AuthService } from './auth.service.js';
import { createAuthorizer } from './authorizer.js';
import type { AccessConfig } from './config.js';
import { cookieMode } from './cookies.js';
import { PasswordHasher } from './passwords.js';
import { localSecretBox, type SecretBox } from './secret-box.js';
import { SetupService } from './setup.js';
import { setupRoutes } from './setup.routes.js';
import { OidcSignIn } from './sso/oidc.service.js';
import { SsoRepository } from './sso/sso.repository.js';
import { ssoRoutes } from './sso/sso.routes.js';
import { keyringWecomClients } from './sso/wecom-clients.js';
import { WecomSignIn } from './sso/wecom.service.js';
import { usersRoutes } from './users.routes.js';
import { UsersService } from './users.service.js';

export interface AccessModuleDeps {
  pool: Pool;
  config: VigilConfig;
  logger: Logger;
  dataDir: string;
  /** TOTP seed encryption; default: AES-256-GCM key file under dataDir/keys. */
  secrets?: SecretBox;
  /** Checkpoint signing; default: Ed25519 PEM file under dataDir/keys. */
  signer?: AuditSigner | (() => Promise<AuditSigner>);
  /** WeCom sign-in reads each corp's app secret from it; without it WeCom sign-in is unavailable. */
  keyring?: Keyring;
}

export interface AccessModule {
  authorize: Authorizer;
  routes: FastifyPluginAsync[];
  jobs: JobDefinition[];
  schedules: ScheduleDefinition[];
  /** Creates the first system administrator when there is none; the password is returned once. */
  bootstrapAdmin(): Promise<{ username: string; password?: string }>;
  /** First-run setup without the demo: the one-time token for creating the first administrator. */
  setup: SetupService;
  auth: AuthService;
  users: UsersService;
  audit: AuditService;
  auditLog: AuditLog;
  accessConfig: AccessConfig;
  auditConfig: AuditConfig;
}

/** Identity, roles, the authorizer and the audit log, wired for the HTTP server and the job runner. */
export function accessModule(deps: AccessModuleDeps): AccessModule {
  const accessConfig = deps.config.access;
  const auditConfig = deps.config.audit;
  const auditLog = new AuditLog(deps.pool);
  const audit = new AuditService({
    pool: deps.pool,
    config: auditConfig,
    dataDir: deps.dataDir,
    signer: deps.signer ?? (() => localAuditSigner(deps.dataDir, auditConfig.keyName, auditConfig.signature)),
    logger: deps.logger,
  });
  const passwords = new PasswordHasher(accessConfig.passwordHashing);
  const auth = new AuthService({
    pool: deps.pool,
    audit: auditLog,
    config: accessConfig,
    passwords,
    secrets: deps.secrets ?? localSecretBox(deps.dataDir),
  });
  const users = new UsersService({ pool: deps.pool, audit: auditLog, passwords });
  const repo = new AccessRepository(deps.pool);
  const server = deps.config.server;
  // __Host- cookies need TLS: served directly, or behind a proxy with an https public URL.
  const cookie = cookieMode(Boolean(server.tls.cert) || Boolean(server.publicUrl?.startsWith('https:')));
  const allowedOrigins = server.publicUrl ? [new URL(server.publicUrl).origin] : [];
  const auditJobs = audit.jobs();
  const sso = singleSignOn(deps, auth, auditLog);
  const setup = new SetupService({
    pool: deps.pool,
    audit: auditLog,
    auth,
    passwords,
    dataDir: deps.dataDir,
    logger: deps.logger,
  });
  return {
    authorize: createAuthorizer({ auth, audit: auditLog, repo, cookie, allowedOrigins }),
    routes: [
      authRoutes({ auth, repo, cookie, allowedOrigins }),
      ssoRoutes({ ...sso, cookie, setupRequired: () => setup.required() }),
      setupRoutes({ setup, cookie, allowedOrigins }),
      usersRoutes({ users, repo }),
      auditRoutes({ pool: deps.pool, service: audit }),
    ],
    jobs: [
      ...auditJobs.jobs,
      {
        name: 'access.prune',
        handler: async () => ({
          ...(await auth.prune()),
          preauth: await new SsoRepository(deps.pool).prunePreAuth(),
        }),
      },
    ],
    schedules: [...auditJobs.schedules, { name: 'access.prune', cron: '0 45 4 * * *', job: 'access.prune' }],
    bootstrapAdmin: () => users.bootstrapAdmin(),
    setup,
    auth,
    users,
    audit,
    auditLog,
    accessConfig,
    auditConfig,
  };
}

/** The callback URL of a provider: configured, or below server.publicUrl. */
function callbackUrl(
  configured: string | undefined,
  publicUrl: string | undefined,
  path: string,
  field: string,
) {
  if (configured) return configured;
  if (!publicUrl) throw new Error(`config ${field}: expected a value (or server.publicUrl)`);
  return publicUrl.replace(/\/+$/, '') + path;
}

/** OIDC and WeCom sign-in, when configured. */
function singleSignOn(
  deps: AccessModuleDeps,
  auth: AuthService,
  audit: AuditLog,
): { oidc?: OidcSignIn; wecom?: WecomSignIn } {
  const { oidc, wecom } = deps.config.access;
  const publicUrl = deps.config.server.publicUrl;
  const common = { pool: deps.pool, audit, auth };
  return {
    oidc: oidc
      ? new OidcSignIn({
          ...common,
          config: oidc,
          redirectUri: callbackUrl(
            oidc.redirectUri,
            publicUrl,
            '/api/v1/auth/oidc/callback',
            'access.oidc.redirectUri',
          ),
        })
      : undefined,
    wecom: wecom
      ? new WecomSignIn({
          ...common,
          config: wecom,
          redirectUri: callbackUrl(
            wecom.redirectUri,
            publicUrl,
            '/api/v1/auth/wecom/callback',
            'access.wecom.redirectUri',
          ),
          clients: deps.keyring ? keyringWecomClients(deps.pool, deps.keyring) : undefined,
        })
      : undefined,
  };
}
