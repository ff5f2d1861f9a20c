import type { AuditLog } from '../../audit/audit-log.js';
import type { Pool, PoolClient } from '../../platform/db/pool.js';
import { auditedTransaction, DeniedAfterCommit } from '../denials.js';
import { AppError, forbidden, notFound } from '../../platform/http/errors.js';
import { corpsWith } from '../scope.js';
import type { Principal } from '../types.js';
import { GrantsRepository, type GrantListFilter } from './grants.repository.js';
import type { AccessGrant, CategoryGrant, GrantRequest } from './types.js';

/** Tells the compliance leads of a corp about something that needs them (break-glass access). */
export type NotifyLeads = (
  client: PoolClient,
  corpId: number,
  message: { kind: string; title: string; body: string; link: string },
) => Promise<void>;

export interface GrantsConfig {
  /** Longest access a normal request may ask for. */
  maxMinutes: number;
  /** Longest break-glass access. */
  breakGlassMaxMinutes: number;
}

export interface GrantsServiceDeps {
  pool: Pool;
  audit: AuditLog;
  config: GrantsConfig;
  notifyLeads?: NotifyLeads;
}

export interface Meta {
  ip?: string | null;
}

const conflict = (message: string) => new AppError(409, 'grant_state', message);

/**
 * Dual control (双人审批) over content beyond one's scope: a request with a reason, approved by a
 * different holder of `grants.approve` in the corp, active for a limited time, revocable. Break-glass
 * access is active at once, notifies the leads and waits for another lead's review. Every step is
 * audited in its own transaction.
 */
export class GrantsService {
  constructor(private readonly deps: GrantsServiceDeps) {}

  async request(principal: Principal, corpId: number, input: GrantRequest, meta: Meta): Promise<AccessGrant> {
    this.checkDuration(input.durationMinutes, this.deps.config.maxMinutes);
    return this.tx(async (repo, client) => {
      const grant = await repo.insert(corpId, principal.userId, input, false);
      await this.audit(client, principal, meta, 'grant.request', grant, 'allowed', input.reason);
      return grant;
    });
  }

  async breakGlass(
    principal: Principal,
    corpId: number,
    input: GrantRequest,
    meta: Meta,
  ): Promise<AccessGrant> {
    this.checkDuration(input.durationMinutes, this.deps.config.breakGlassMaxMinutes);
    return this.tx(async (repo, client) => {
      const grant = await repo.insert(corpId, principal.userId, input, true);
      await this.audit(client, principal, meta, 'grant.break_glass', grant, 'allowed', input.reason);
      await this.deps.notifyLeads?.(client, corpId, {
        kind: 'grant.break_glass',
        title: `紧急访问已开启 / Break-glass access opened by ${principal.username}`,
        body: `Grant #${grant.id} (${grant.actions.join(', ')}) for ${grant.durationMinutes} min; review it afterwards.`,
        link: `/grants/${grant.id}`,
      });
      return grant;
    });
  }

  /** Approves or rejects a pending request; the decider is never the requester. */
  async decide(
    principal: Principal,
    corpId: number,
    id: string,
    approve: boolean,
    note: string | null,
    meta: Meta,
  ): Promise<AccessGrant> {
    return this.tx(async (repo, client) => {
      const grant = await this.lockOwnedElsewhere(repo, client, principal, corpId, id, meta, 'grant.decide');
      if (grant.status !== 'pending') throw conflict(`grant is ${grant.status}, not pending`);
      const decided = await repo.decide(id, approve, principal.userId, note);
      await this.audit(
        client,
        principal,
        meta,
        approve ? 'grant.approve' : 'grant.reject',
        decided,
        'allowed',
        note,
      );
      return decided;
    });
  }

  /** Ends a grant: the requester cancels their own, a lead revokes anyone's. */
  async revoke(
    principal: Principal,
    corpId: number,
    id: string,
    reason: string | null,
    meta: Meta,
  ): Promise<AccessGrant> {
    return this.tx(async (repo, client) => {
      const grant = await repo.find(corpId, id, true);
      if (!grant) throw notFound('grant');
      const own = grant.requesterId === principal.userId;
      if (!own && !this.canApprove(principal, corpId)) {
        await this.audit(client, principal, meta, 'grant.revoke', grant, 'denied', reason);
        throw new DeniedAfterCommit(forbidden('only the requester or a compliance lead may end this grant'));
      }
      if (grant.status !== 'pending' && grant.status !== 'active')
        throw conflict(`grant is ${grant.status} already`);
      const ended = await repo.end(
        id,
        own && grant.status === 'pending' ? 'cancelled' : 'revoked',
        principal.userId,
        reason,
      );
      await this.audit(client, principal, meta, 'grant.revoke', ended, 'allowed', reason);
      return ended;
    });
  }

  /** After-the-fact review of break-glass access by another lead. */
  async review(
    principal: Principal,
    corpId: number,
    id: string,
    outcome: 'justified' | 'unjustified',
    note: string | null,
    meta: Meta,
  ): Promise<AccessGrant> {
    return this.tx(async (repo, client) => {
      const grant = await this.lockOwnedElsewhere(repo, client, principal, corpId, id, meta, 'grant.review');
      if (!grant.breakGlass) throw conflict('only break-glass access is reviewed afterwards');
      if (grant.reviewedAt) throw conflict('already reviewed');
      const reviewed = await repo.review(id, principal.userId, outcome, note);
      await this.audit(client, principal, meta, 'grant.review', reviewed, 'allowed', note, { outcome });
      return reviewed;
    });
  }

  async get(principal: Principal, corpId: number, id: string): Promise<AccessGrant> {
    const grant = await new GrantsRepository(this.deps.pool).find(corpId, id);
    if (!grant || (grant.requesterId !== principal.userId && !this.canApprove(principal, corpId)))
      throw notFound('grant');
    return grant;
  }

  /** Leads see every grant of the corp; others only their own. */
  list(principal: Principal, corpId: number, filter: GrantListFilter): Promise<AccessGrant[]> {
    const requesterId = this.canApprove(principal, corpId) ? filter.requesterId : principal.userId;
    return new GrantsRepository(this.deps.pool).list(corpId, { ...filter, requesterId });
  }

  // Standing grants of sensitive data categories

  async grantCategory(
    principal: Principal,
    corpId: number,
    input: { userId: string; category: string; reason: string; expiresAt: Date | null },
    meta: Meta,
  ): Promise<CategoryGrant> {
    if (input.userId === principal.userId) throw forbidden('nobody grants a category to themselves');
    return this.tx(async (repo, client) => {
      const grant = await repo.grantCategory(
        corpId,
        input.userId,
        input.category,
        principal.userId,
        input.reason,
        input.expiresAt,
      );
      await this.deps.audit.record(client, {
        corpId,
        actor: principal.actor,
        actorIp: meta.ip,
        action: 'grant.category',
        resourceType: 'user',
        resourceIds: [input.userId],
        reason: input.reason,
        result: 'allowed',
        details: { category: input.category, expiresAt: input.expiresAt?.toISOString() ?? null },
      });
      return grant;
    });
  }

  async revokeCategory(principal: Principal, corpId: number, id: string, meta: Meta): Promise<CategoryGrant> {
    return this.tx(async (repo, client) => {
      const revoked = await repo.revokeCategory(corpId, id, principal.userId);
      if (!revoked) throw notFound('category grant');
      await this.deps.audit.record(client, {
        corpId,
        actor: principal.actor,
        actorIp: meta.ip,
        action: 'grant.category_revoke',
        resourceType: 'user',
        resourceIds: [revoked.userId],
        result: 'allowed',
        details: { category: revoked.category },
      });
      return revoked;
    });
  }

  categoryGrants(corpId: number, userId?: string): Promise<CategoryGrant[]> {
    return new GrantsRepository(this.deps.pool).categoryGrants(corpId, userId);
  }

  private canApprove(principal: Principal, corpId: number): boolean {
    const corps = corpsWith(principal, 'grants.approve');
    return corps === 'all' || corps.includes(corpId);
  }

  /** The grant locked for a decision by someone other than its requester (refusals audited). */
  private async lockOwnedElsewhere(
    repo: GrantsRepository,
    client: PoolClient,
    principal: Principal,
    corpId: number,
    id: string,
    meta: Meta,
    action: string,
  ): Promise<AccessGrant> {
    const grant = await repo.find(corpId, id, true);
    if (!grant) throw notFound('grant');
    if (grant.requesterId === principal.userId) {
      await this.audit(client, principal, meta, action, grant, 'denied', 'own request');
      throw new DeniedAfterCommit(forbidden('nobody approves or reviews their own request'));
    }
    return grant;
  }

  private checkDuration(minutes: number, max: number): void {
    if (minutes > max) throw new AppError(400, 'invalid_duration', `at most ${max} minutes may be requested`);
  }

  private audit(
    client: PoolClient,
    principal: Principal,
    meta: Meta,
    action: string,
    grant: AccessGrant,
    result: 'allowed' | 'denied',
    reason: string | null,
    extra: Record<string, unknown> = {},
  ): Promise<unknown> {
    return this.deps.audit.record(client, {
      corpId: grant.corpId,
      actor: principal.actor,
      actorIp: meta.ip,
      action,
      resourceType: 'grant',
      resourceIds: [grant.id],
      reason: reason ?? grant.reason,
      result,
      details: {
        requester: grant.requesterId,
        actions: grant.actions,
        status: grant.status,
        breakGlass: grant.breakGlass,
        validUntil: grant.validUntil?.toISOString() ?? null,
        ...extra,
      },
    });
  }

  private tx<T>(work: (repo: GrantsRepository, client: PoolClient) => Promise<T>): Promise<T> {
    return auditedTransaction(this.deps.pool, (client) => work(new GrantsRepository(client), client));
  }
}
