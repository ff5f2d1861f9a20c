import * as oidc from 'openid-client';
import type { AuditLog } from '../../audit/audit-log.js';
import { withTransaction, type Pool } from '../../platform/db/pool.js';
import { AppError } from '../../platform/http/errors.js';
import { AccessRepository } from '../access.repository.js';
import type { AuthService, NewSession, RequestMeta } from '../auth.service.js';
import type { OidcConfig } from '../config.js';
import type { User } from '../types.js';
import { PreAuthStore } from './preauth.js';
import { refuse, refuseState, signInMappedUser } from './sign-in.js';
import { SsoRepository } from './sso.repository.js';

export interface OidcSignInDeps {
  config: OidcConfig;
  /** The callback URL registered at the provider. */
  redirectUri: string;
  pool: Pool;
  audit: AuditLog;
  auth: AuthService;
}

const DISCOVERY_TIMEOUT_SECONDS = 10;

/** A short, log-safe name for why the provider's answer was not accepted (never a value). */
function failureCode(err: unknown): string {
  if (err instanceof oidc.ResponseBodyError) return `token_endpoint:${err.error}`.slice(0, 80);
  if (err instanceof oidc.AuthorizationResponseError) return `authorization:${err.error}`.slice(0, 80);
  if (err instanceof oidc.ClientError) return err.code ?? 'client_error';
  if (err instanceof TypeError) return 'invalid_response';
  return 'unexpected';
}

/**
 * OpenID Connect sign-in: authorization code flow with PKCE (S256), state and nonce bound to a
 * server-side pre-auth record. The ID token's subject maps to an existing account, through a
 * stored link or, the first time, the configured username claim; accounts are never created.
 */
export class OidcSignIn {
  private readonly repo: SsoRepository;
  private readonly preauth: PreAuthStore;
  private configuration?: Promise<oidc.Configuration>;
  /** Identity links are per issuer: a subject is unique only within its issuer. */
  readonly provider: string;

  constructor(private readonly deps: OidcSignInDeps) {
    this.repo = new SsoRepository(deps.pool);
    this.preauth = new PreAuthStore(this.repo);
    this.provider = `oidc:${deps.config.issuer}`;
  }

  get displayName(): string {
    return this.deps.config.name;
  }

  /** The provider's metadata, discovered once; a failed discovery is retried at the next sign-in. */
  private discover(): Promise<oidc.Configuration> {
    const c = this.deps.config;
    const auth =
      c.tokenEndpointAuthMethod === 'none'
        ? oidc.None()
        : c.tokenEndpointAuthMethod === 'client_secret_post'
          ? oidc.ClientSecretPost(c.clientSecret)
          : oidc.ClientSecretBasic(c.clientSecret);
    this.configuration ??= oidc
      .discovery(new URL(c.issuer), c.clientId, undefined, auth, {
        // Plain-HTTP providers are for local tests only; the flag is off by default.
        execute: c.allowInsecureHttp ? [oidc.allowInsecureRequests] : [],
        timeout: DISCOVERY_TIMEOUT_SECONDS,
      })
      .catch((err: unknown) => {
        this.configuration = undefined;
        throw new AppError(
          503,
          'sso_unavailable',
          'the identity provider cannot be reached; try again later',
          {
            problem: failureCode(err),
          },
        );
      });
    return this.configuration;
  }

  /** Begins a sign-in: the provider URL to redirect to and the browser secret for the pre-auth cookie. */
  async start(): Promise<{ location: string; browserSecret: string }> {
    const configuration = await this.discover();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const browserSecret = await this.preauth.begin('oidc', state, { nonce, codeVerifier });
    const url = oidc.buildAuthorizationUrl(configuration, {
      redirect_uri: this.deps.redirectUri,
      scope: this.deps.config.scopes.join(' '),
      code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    return { location: url.href, browserSecret };
  }

  /** Finishes a sign-in from the provider's redirect (its query parameters). */
  async finish(
    query: Record<string, string>,
    browserSecret: string | undefined,
    presentedSession: string | undefined,
    meta: RequestMeta,
  ): Promise<NewSession> {
    const { audit } = this.deps;
    const preauth = await this.preauth
      .consume('oidc', query.state, browserSecret)
      .catch((err: unknown) => refuseState(audit, meta, 'oidc', err));
    if (query.error !== undefined)
      return refuse(
        audit,
        meta,
        {
          method: 'oidc',
          result: 'failed',
          reason: 'provider_refused',
          details: { providerError: query.error.slice(0, 80) },
        },
        new AppError(401, 'sso_refused', 'the identity provider did not sign you in'),
      );

    // The registered redirect URI, not the request's own URL: behind a proxy they differ.
    const currentUrl = new URL(this.deps.redirectUri);
    for (const [name, value] of Object.entries(query)) currentUrl.searchParams.set(name, value);
    let claims: oidc.IDToken | undefined;
    try {
      const tokens = await oidc.authorizationCodeGrant(await this.discover(), currentUrl, {
        pkceCodeVerifier: preauth.codeVerifier!,
        expectedState: query.state,
        expectedNonce: preauth.nonce!,
        idTokenExpected: true,
      });
      claims = tokens.claims();
    } catch (err) {
      if (err instanceof AppError) throw err;
      return refuse(
        audit,
        meta,
        {
          method: 'oidc',
          result: 'failed',
          reason: 'provider_answer_rejected',
          details: { problem: failureCode(err) },
        },
        new AppError(401, 'sso_failed', "the identity provider's answer could not be verified; start again"),
      );
    }
    if (!claims?.sub)
      return refuse(
        audit,
        meta,
        {
          method: 'oidc',
          result: 'failed',
          reason: 'provider_answer_rejected',
          details: { problem: 'no_subject' },
        },
        new AppError(401, 'sso_failed', "the identity provider's answer could not be verified; start again"),
      );
    const user = await this.userFor(claims, meta);
    return signInMappedUser(this.deps, user, meta, presentedSession, {
      method: 'oidc',
      details: { issuer: this.deps.config.issuer },
    });
  }

  /** The linked account of the subject, or the enabled account named by the username claim (then linked). */
  private async userFor(claims: oidc.IDToken, meta: RequestMeta): Promise<User> {
    const { audit, config } = this.deps;
    const users = new AccessRepository(this.deps.pool);
    const subject = claims.sub;
    const linkedId = await this.repo.linkedUser(this.provider, subject);
    const linked = linkedId ? await users.findUser(linkedId) : undefined;
    if (linked) return linked;

    const claimed = this.claimedUsername(claims);
    const user = claimed ? await users.findUserByName(claimed) : undefined;
    const details = { issuer: config.issuer, subject, ...(claimed ? { claimedUsername: claimed } : {}) };
    if (!user)
      return refuse(
        audit,
        meta,
        { method: 'oidc', result: 'denied', reason: 'no_account', details },
        new AppError(
          403,
          'sso_no_account',
          'no Vigil account matches this identity; ask an administrator to create or link one',
        ),
      );
    // A disabled account is never linked; signInMappedUser refuses it with the same answer later.
    if (user.disabledAt) return user;
    const linkedNow = await withTransaction(this.deps.pool, async (client) => {
      if (!(await new SsoRepository(client).link(this.provider, subject, user.id))) return false;
      await audit.record(client, {
        actor: `user:${user.id}`,
        actorIp: meta.ip,
        action: 'user.identity_link',
        result: 'allowed',
        resourceType: 'user',
        resourceIds: [user.id],
        details: { provider: this.provider, subject },
      });
      return true;
    });
    if (!linkedNow)
      return refuse(
        audit,
        meta,
        { method: 'oidc', result: 'denied', reason: 'identity_conflict', userId: user.id, details },
        new AppError(
          403,
          'sso_identity_conflict',
          'this Vigil account is already linked to another identity at this provider; ask an administrator',
        ),
      );
    return user;
  }

  /** The username claim, lower-cased like local usernames; an unverified email does not count. */
  private claimedUsername(claims: oidc.IDToken): string | undefined {
    const claim = this.deps.config.usernameClaim;
    const value = claims[claim];
    if (typeof value !== 'string' || value.trim() === '') return undefined;
    if (claim === 'email' && claims.email_verified === false) return undefined;
    return value.trim().toLowerCase().slice(0, 128);
  }
}
