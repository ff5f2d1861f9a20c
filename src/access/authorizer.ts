import type { FastifyRequest } from 'fastify';
import { AppError, unauthorized } from '../platform/http/errors.js';
import type { Authorizer, Permission } from '../platform/http/permissions.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { AccessRepository } from './access.repository.js';
import { csrfMatches, type AuthService } from './auth.service.js';
import { readCookie, type CookieMode } from './cookies.js';
import { isKnownPermission, SELF_PERMISSIONS } from './permissions.js';
import { grantsFor, holdsSelfPermission } from './scope.js';
import type { Principal } from './types.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface AuthorizerDeps {
  auth: AuthService;
  audit: AuditLog;
  repo: AccessRepository;
  cookie: CookieMode;
  /** Origins allowed besides the request's own (e.g. server.publicUrl's). */
  allowedOrigins?: string[];
}

/**
 * A browser request from another site: an Origin that is neither this server's nor a configured
 * one, or Sec-Fetch-Site: cross-site. Requests without either header (CLI, scripts) pass here
 * and are held to the CSRF token instead.
 */
export function crossSite(request: FastifyRequest, allowedOrigins: string[] = []): boolean {
  if (request.headers['sec-fetch-site'] === 'cross-site') return true;
  const origin = request.headers.origin;
  if (!origin) return false;
  const own = `${request.protocol}://${request.host}`;
  return origin !== own && !allowedOrigins.includes(origin);
}

/** The session cookie's value, if any. */
export function sessionToken(request: FastifyRequest, cookie: CookieMode): string | undefined {
  return readCookie(request.headers.cookie, cookie.name);
}

/**
 * The access decision for every non-public route: who is calling (session cookie or bearer
 * token), CSRF and Origin for unsafe methods on cookie sessions, then the permission — in the
 * corp named by a `:corp` param and the department subtree named by a `:department` param when
 * the route has them, otherwise anywhere (services then scope their queries with the grants).
 * Unknown permissions are denied. Denials of signed-in callers go to the audit log.
 */
export function createAuthorizer(deps: AuthorizerDeps): Authorizer {
  const deny = async (
    request: FastifyRequest,
    principal: Principal | undefined,
    permission: string,
    reason: string,
    error: AppError,
  ): Promise<never> => {
    await deps.audit.recordStandalone({
      actor: principal?.actor ?? 'anonymous',
      actorIp: request.ip,
      action: 'access.denied',
      result: 'denied',
      resourceType: 'route',
      resourceIds: [`${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]}`],
      details: { permission, reason },
    });
    throw error;
  };

  return async (request: FastifyRequest, permission: Permission) => {
    let principal: Principal | undefined;
    let cookieToken: string | undefined;
    const authorization = request.headers.authorization;
    if (authorization) {
      const bearer = /^Bearer\s+(\S+)$/i.exec(authorization)?.[1];
      const found = bearer ? await deps.auth.tokenPrincipal(bearer) : { problem: 'malformed' };
      if (!found.principal)
        return deny(
          request,
          undefined,
          permission,
          `token_${found.problem}`,
          new AppError(401, 'invalid_token', 'the API token is invalid, expired or revoked'),
        );
      principal = found.principal;
    } else {
      cookieToken = sessionToken(request, deps.cookie);
      if (cookieToken) principal = await deps.auth.sessionPrincipal(cookieToken);
    }
    // No credentials: not logged (scanners would flood the audit log); the rate limit applies.
    if (!principal) throw unauthorized();

    if (!isKnownPermission(permission))
      return deny(
        request,
        principal,
        permission,
        'unknown_permission',
        new AppError(403, 'forbidden', 'not permitted'),
      );

    if (principal.via === 'session' && !SAFE_METHODS.has(request.method)) {
      if (crossSite(request, deps.allowedOrigins))
        return deny(
          request,
          principal,
          permission,
          'cross_origin',
          new AppError(403, 'csrf_failed', 'cross-site request refused'),
        );
      const header = request.headers['x-csrf-token'];
      if (!csrfMatches(cookieToken!, typeof header === 'string' ? header : undefined))
        return deny(
          request,
          principal,
          permission,
          'csrf',
          new AppError(403, 'csrf_failed', 'missing or wrong x-csrf-token'),
        );
    }

    if (SELF_PERMISSIONS.has(permission)) {
      if (!holdsSelfPermission(principal, permission))
        return deny(request, principal, permission, 'stage', stageError(principal));
    } else {
      const grants = grantsFor(principal, permission);
      if (grants.length === 0)
        return deny(
          request,
          principal,
          permission,
          principal.stage === 'full' ? 'no_grant' : 'stage',
          principal.stage === 'full'
            ? new AppError(403, 'forbidden', `permission ${permission} required`)
            : stageError(principal),
        );
      const params = (request.params ?? {}) as Record<string, string | undefined>;
      if (params.corp !== undefined) {
        const corpId = await deps.repo.corpIdOf(params.corp);
        const inCorp = grants.filter(
          (g) => g.corpId === null || (corpId !== undefined && g.corpId === corpId),
        );
        if (inCorp.length === 0)
          return deny(
            request,
            principal,
            permission,
            'corp',
            new AppError(403, 'forbidden', `permission ${permission} required in this corp`),
          );
        if (params.department !== undefined && !inCorp.some((g) => g.departmentId === null)) {
          const department = Number(params.department);
          const within =
            corpId !== undefined &&
            Number.isSafeInteger(department) &&
            (await deps.repo.departmentWithin(
              corpId,
              department,
              inCorp.map((g) => g.departmentId!),
            ));
          if (!within)
            return deny(
              request,
              principal,
              permission,
              'department',
              new AppError(403, 'forbidden', `permission ${permission} required for this department`),
            );
        }
      }
    }
    request.principal = principal;
  };
}

function stageError(principal: Principal): AppError {
  if (principal.stage === 'totp')
    return new AppError(401, 'totp_required', 'enter your TOTP code to finish signing in');
  if (principal.stage === 'enrol')
    return new AppError(
      403,
      'totp_enrolment_required',
      'your role requires TOTP: enrol an authenticator first',
    );
  return new AppError(403, 'forbidden', 'not permitted');
}

/** The principal the authorizer attached; routes behind a permission always have one. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw unauthorized();
  return request.principal;
}
