import { randomBytes } from 'node:crypto';
import type { AuditLog } from '../../audit/audit-log.js';
import type { Pool } from '../../platform/db/pool.js';
import { AppError } from '../../platform/http/errors.js';
import { WecomApiError } from '../../wecom/api/client.js';
import { WecomSecretMissingError } from '../../wecom/api/secrets.js';
import { AccessRepository } from '../access.repository.js';
import type { AuthService, NewSession, RequestMeta } from '../auth.service.js';
import type { WecomLoginConfig } from '../config.js';
import { PreAuthStore } from './preauth.js';
import { refuse, refuseState, signInMappedUser } from './sign-in.js';
import { SsoRepository, type WecomLoginMode } from './sso.repository.js';
import type { WecomLoginClients } from './wecom-clients.js';

export interface WecomSignInDeps {
  config: WecomLoginConfig;
  /** The callback URL; its host must be the login app's trusted domain (可信域名). */
  redirectUri: string;
  pool: Pool;
  audit: AuditLog;
  auth: AuthService;
  /** WeCom API clients per corp; absent when the process has no keyring. */
  clients?: WecomLoginClients;
}

/** WeCom status of an active employee (1 active, 2 disabled, 4 not activated, 5 left). */
const EMPLOYEE_ACTIVE = 1;
/** WeCom codes are at most 512 bytes. */
const MAX_CODE_LENGTH = 512;

const notConfigured = (what: string) => new AppError(404, 'sso_not_configured', what);

/**
 * Sign-in with WeCom: OAuth inside the WeCom client (网页授权登录, scope snsapi_base) or browser QR
 * login (企业微信 Web 登录) through the corp's self-built app. The single-use code is exchanged on
 * the server with auth/getuserinfo; the userid must be an active employee with an enabled account.
 */
export class WecomSignIn {
  private readonly repo: SsoRepository;
  private readonly preauth: PreAuthStore;

  constructor(private readonly deps: WecomSignInDeps) {
    this.repo = new SsoRepository(deps.pool);
    this.preauth = new PreAuthStore(this.repo);
  }

  /**
   * The corps users can sign in with: a login app is configured and the corp has a WeCom
   * connector (what `start` needs). For the sign-in page.
   */
  async corps(): Promise<{ slug: string; name: string }[]> {
    const { clients } = this.deps;
    if (!clients) return [];
    const found = await this.repo.corpsBySlug(Object.keys(this.deps.config.agents));
    const usable = await Promise.all(found.map(async (c) => ((await clients(c.id)) ? c : undefined)));
    return usable.filter((c) => c !== undefined).map((c) => ({ slug: c.slug, name: c.name }));
  }

  /** Begins a sign-in: the WeCom URL to redirect to and the browser secret for the pre-auth cookie. */
  async start(corpSlug: string, mode: WecomLoginMode): Promise<{ location: string; browserSecret: string }> {
    const { config } = this.deps;
    const corp = await this.repo.corpBySlug(corpSlug);
    const agentId = Object.hasOwn(config.agents, corpSlug) ? config.agents[corpSlug] : undefined;
    if (!corp || agentId === undefined)
      throw notConfigured(`WeCom sign-in is not set up for corp ${corpSlug}`);
    if (!this.deps.clients)
      throw new AppError(503, 'sso_unavailable', 'WeCom sign-in needs the keyring, which this process lacks');
    const wecom = await this.deps.clients(corp.id);
    if (!wecom) throw notConfigured(`corp ${corpSlug} has no WeCom connector`);
    // WeCom accepts a-zA-Z0-9 only, at most 128 bytes: 256 random bits in hex.
    const state = randomBytes(32).toString('hex');
    const browserSecret = await this.preauth.begin('wecom', state, { corpId: corp.id, mode });
    const redirect = encodeURIComponent(this.deps.redirectUri);
    const appid = encodeURIComponent(wecom.wecomCorpId);
    // Parameter order as WeCom documents it.
    const location =
      mode === 'oauth'
        ? `${config.authorizeUrl}?appid=${appid}&redirect_uri=${redirect}&response_type=code` +
          `&scope=snsapi_base&state=${state}&agentid=${agentId}#wechat_redirect`
        : `${config.qrLoginUrl}?login_type=CorpApp&appid=${appid}&agentid=${agentId}` +
          `&redirect_uri=${redirect}&state=${state}`;
    return { location, browserSecret };
  }

  /** Finishes a sign-in from WeCom's redirect (`code` and `state`; no code when the user refused). */
  async finish(
    query: { code?: string; state?: string },
    browserSecret: string | undefined,
    presentedSession: string | undefined,
    meta: RequestMeta,
  ): Promise<NewSession> {
    const { audit } = this.deps;
    const preauth = await this.preauth
      .consume('wecom', query.state, browserSecret)
      .catch((err: unknown) => refuseState(audit, meta, 'wecom', err));
    const corpId = preauth.corpId!;
    const base = { method: 'wecom' as const, corpId, details: { mode: preauth.mode } };
    const fail = (reason: string, error: AppError, details: Record<string, unknown> = {}) =>
      refuse(
        audit,
        meta,
        { ...base, result: 'failed', reason, details: { ...base.details, ...details } },
        error,
      );
    const deny = (reason: string, error: AppError, details: Record<string, unknown> = {}, userId?: string) =>
      refuse(
        audit,
        meta,
        { ...base, result: 'denied', reason, userId, details: { ...base.details, ...details } },
        error,
      );

    if (!query.code)
      return fail('refused', new AppError(401, 'sso_refused', 'sign-in was refused or cancelled in WeCom'));
    if (query.code.length > MAX_CODE_LENGTH)
      return fail('code_invalid', new AppError(400, 'validation_failed', 'the WeCom code is malformed'));
    const wecom = this.deps.clients ? await this.deps.clients(corpId) : undefined;
    if (!wecom)
      return fail('no_connector', new AppError(503, 'sso_unavailable', 'WeCom sign-in is not available'));

    let userid: string | null;
    try {
      ({ userid } = await wecom.api.getUserInfoByCode(query.code));
    } catch (err) {
      const { reason, error, errcode } = this.exchangeFailure(err);
      return fail(reason, error, errcode === undefined ? {} : { errcode });
    }
    // Non-members come back with an openid only; members of a linked corp (互联企业) as CorpId/userid.
    if (!userid || userid.includes('/'))
      return deny(
        'not_member',
        new AppError(403, 'wecom_not_member', 'this WeCom account is not a member of the organisation'),
      );
    const account = await this.repo.employeeAccount(corpId, userid);
    if (!account)
      return deny(
        'employee_unknown',
        new AppError(403, 'sso_no_account', 'Vigil does not know this employee yet; ask an administrator'),
        { userid },
      );
    if (account.employeeStatus !== EMPLOYEE_ACTIVE)
      return deny(
        'employee_inactive',
        new AppError(403, 'employee_inactive', 'this employee is not active in WeCom'),
        { userid, employeeStatus: account.employeeStatus },
      );
    const user = account.userId
      ? await new AccessRepository(this.deps.pool).findUser(account.userId)
      : undefined;
    if (!user)
      return deny(
        'no_account',
        new AppError(
          403,
          'sso_no_account',
          'no Vigil account is linked to this employee; ask an administrator',
        ),
        { userid },
      );
    return signInMappedUser(this.deps, user, meta, presentedSession, {
      ...base,
      details: { ...base.details, userid },
    });
  }

  /** Maps a failed code exchange to an answer; WeCom's errcode goes to the audit log. */
  private exchangeFailure(err: unknown): { reason: string; error: AppError; errcode?: number } {
    if (err instanceof WecomSecretMissingError)
      return {
        reason: 'app_secret_missing',
        error: new AppError(
          503,
          'sso_unavailable',
          "WeCom sign-in is not available: the app's secret is not set",
        ),
      };
    if (!(err instanceof WecomApiError)) throw err;
    if (err.errcode === 40029)
      return {
        reason: 'code_invalid',
        errcode: err.errcode,
        error: new AppError(
          401,
          'wecom_code_invalid',
          'the WeCom sign-in code is invalid or was already used; sign in again',
        ),
      };
    if (err.errcode === 42003)
      return {
        reason: 'code_expired',
        errcode: err.errcode,
        error: new AppError(401, 'wecom_code_expired', 'the WeCom sign-in code expired; sign in again'),
      };
    return {
      reason: err.transport ? 'wecom_unreachable' : 'wecom_error',
      errcode: err.errcode,
      error: new AppError(502, 'wecom_unavailable', 'WeCom could not confirm the sign-in; try again later'),
    };
  }
}
