import { createHash } from 'node:crypto';
import type { Principal } from '../access/types.js';
import type { AuditLog } from '../audit/audit-log.js';
import { withTransaction, type Pool } from '../platform/db/pool.js';
import { AppError, forbidden, notFound } from '../platform/http/errors.js';
import { PrivacyRepository } from './privacy.repository.js';
import type {
  Acknowledgement,
  Coverage,
  MyNoticeState,
  NoticeInput,
  PrivacyActor,
  PrivacyNotice,
} from './types.js';

/**
 * SHA-256 of a notice's canonical text: version, both languages and the effective day, as a JSON
 * array (so no field can run into the next). Stored with the notice and in its audit event.
 */
export function noticeDigest(n: {
  corpId: number;
  version: number;
  title: string;
  body: string;
  titleEn: string | null;
  bodyEn: string | null;
  effectiveOn: string;
}): string {
  return createHash('sha256')
    .update(
      JSON.stringify([n.corpId, n.version, n.title, n.body, n.titleEn, n.bodyEn, n.effectiveOn]),
      'utf8',
    )
    .digest('hex');
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * PIPL notice and consent (告知同意) for monitoring: a corp publishes versioned monitoring
 * notices (immutable; a new version supersedes the old from its effective day), employees read
 * the current one and acknowledge it (a consent record, once per version), and the privacy
 * officer sees who has not acknowledged it yet. Publishing and acknowledging are audited in the
 * same transaction as the change.
 */
export class PrivacyService {
  private readonly repo: PrivacyRepository;

  constructor(private readonly deps: { pool: Pool; audit: AuditLog }) {
    this.repo = new PrivacyRepository(deps.pool);
  }

  /** Publishes the next version. Its effective day is today or later, never before the previous one's. */
  publish(corpId: number, input: NoticeInput, by: PrivacyActor): Promise<PrivacyNotice> {
    return withTransaction(this.deps.pool, async (client) => {
      const repo = new PrivacyRepository(client);
      await repo.lockCorp(corpId);
      const today = await repo.today(corpId);
      if (!today) throw notFound('corp');
      const effectiveOn = input.effectiveOn ?? today;
      if (!DAY.test(effectiveOn) || Number.isNaN(Date.parse(`${effectiveOn}T00:00:00Z`)))
        throw new AppError(422, 'invalid_effective_date', 'effectiveOn must be a date: YYYY-MM-DD');
      if (effectiveOn < today)
        throw new AppError(
          422,
          'invalid_effective_date',
          `a notice cannot take effect before it is published (today is ${today})`,
        );
      const previous = await repo.latest(corpId);
      if (previous && effectiveOn < previous.effectiveOn)
        throw new AppError(
          422,
          'invalid_effective_date',
          `version ${previous.version} takes effect on ${previous.effectiveOn}: a new version cannot take effect earlier`,
        );
      const draft = {
        corpId,
        version: (previous?.version ?? 0) + 1,
        title: input.title,
        body: input.body,
        titleEn: input.titleEn ?? null,
        bodyEn: input.bodyEn ?? null,
        effectiveOn,
      };
      if (draft.titleEn !== null && draft.bodyEn === null)
        throw new AppError(422, 'invalid_notice', 'an English title needs an English body');
      const notice = await repo.insert({ ...draft, digest: noticeDigest(draft), publishedBy: by.actor });
      await this.deps.audit.record(client, {
        corpId,
        actor: by.actor,
        actorIp: by.ip,
        action: 'privacy.notice_publish',
        resourceType: 'privacy_notice',
        resourceIds: [String(notice.version)],
        result: 'allowed',
        details: {
          digest: notice.digest,
          effectiveOn: notice.effectiveOn,
          supersedes: previous?.version ?? null,
          english: notice.bodyEn !== null,
        },
      });
      return notice;
    });
  }

  /** Every version, newest first, with its acknowledgement count. */
  list(corpId: number): Promise<Array<PrivacyNotice & { acknowledgements: number }>> {
    return this.repo.list(corpId);
  }

  /** The version in force today, if any. */
  current(corpId: number): Promise<PrivacyNotice | undefined> {
    return this.repo.current(corpId);
  }

  /** The current notice as the signed-in person sees it, with their acknowledgement of it. */
  async mine(principal: Principal, corpId: number): Promise<MyNoticeState> {
    const notice = (await this.repo.current(corpId)) ?? null;
    const employeeUserid = await this.repo.employeeOf(principal.userId, corpId);
    const acknowledgement =
      notice && employeeUserid
        ? ((await this.repo.acknowledgementOf(corpId, notice.version, employeeUserid)) ?? null)
        : null;
    return { notice, acknowledgement, employeeUserid };
  }

  /**
   * Records that the signed-in employee acknowledged `version`, which must be the current one.
   * Once per employee and version: a repeat returns the first record (`created: false`).
   */
  async acknowledge(
    principal: Principal,
    corpId: number,
    version: number,
    from: { ip: string | null; userAgent: string | null },
  ): Promise<{ acknowledgement: Acknowledgement; created: boolean }> {
    // Consent is given by the person in the console, not by a program holding their token.
    if (principal.via !== 'session') throw forbidden('acknowledge the notice yourself, signed in');
    return withTransaction(this.deps.pool, async (client) => {
      const repo = new PrivacyRepository(client);
      const employeeUserid = await repo.employeeOf(principal.userId, corpId);
      if (!employeeUserid)
        throw new AppError(
          409,
          'not_an_employee',
          'your account is not linked to an employee of this corp: nothing to acknowledge',
        );
      const current = await repo.current(corpId);
      if (!current || current.version !== version) {
        if (!(await repo.get(corpId, version))) throw notFound(`notice version ${version}`);
        throw new AppError(
          409,
          'notice_not_current',
          current
            ? `version ${version} is not the current notice (version ${current.version} is)`
            : `version ${version} is not in force yet`,
        );
      }
      const created = await repo.insertAcknowledgement({
        corpId,
        version,
        employeeUserid,
        userId: principal.userId,
        ip: from.ip,
        userAgent: from.userAgent?.slice(0, 1000) ?? null,
      });
      if (!created) {
        const first = await repo.acknowledgementOf(corpId, version, employeeUserid);
        return { acknowledgement: first!, created: false };
      }
      await this.deps.audit.record(client, {
        corpId,
        actor: principal.actor,
        actorIp: from.ip,
        action: 'privacy.notice_acknowledge',
        resourceType: 'privacy_notice',
        resourceIds: [String(version)],
        result: 'allowed',
        details: { employee: employeeUserid, acknowledgement: created.id, digest: current.digest },
      });
      return { acknowledgement: created, created: true };
    });
  }

  /** Who among the active employees has not acknowledged the current version. */
  async coverage(corpId: number, limit = 500): Promise<Coverage> {
    const current = await this.repo.current(corpId);
    // No notice in force: nobody has been told, so everyone is pending (no acknowledgement has version 0).
    const counted = await this.repo.coverage(corpId, current?.version ?? 0, limit);
    return { ...counted, version: current?.version ?? null, effectiveOn: current?.effectiveOn ?? null };
  }

  /** The consent records of one version, newest first. */
  async acknowledgements(
    corpId: number,
    version: number,
    page: { before?: string; limit: number },
  ): Promise<Acknowledgement[]> {
    if (!(await this.repo.get(corpId, version))) throw notFound(`notice version ${version}`);
    return this.repo.acknowledgements(corpId, version, page);
  }
}
