import { z } from 'zod';

/** A list from YAML, or from one environment variable as "a b" / "a,b". */
const stringList = z.preprocess(
  (v) => (typeof v === 'string' ? v.split(/[\s,]+/).filter(Boolean) : v),
  z.array(z.string().min(1)),
);

export const oidcConfigSchema = z
  .object({
    /** Shown on the sign-in button. */
    name: z.string().min(1).max(64).default('Single sign-on'),
    /** Issuer identifier; its /.well-known/openid-configuration is read at the first sign-in. */
    issuer: z.string().url('expected an absolute URL'),
    clientId: z.string().min(1),
    /** Set it with VIGIL__ACCESS__OIDC__CLIENT_SECRET_FILE to keep it out of the config file. */
    clientSecret: z.string().min(1).optional(),
    tokenEndpointAuthMethod: z
      .enum(['client_secret_basic', 'client_secret_post', 'none'])
      .default('client_secret_basic'),
    /** Default: server.publicUrl + /api/v1/auth/oidc/callback. */
    redirectUri: z.string().url('expected an absolute URL').optional(),
    scopes: stringList.default(['openid', 'profile', 'email']),
    /** ID token claim matched against local usernames when a subject is not linked yet. */
    usernameClaim: z.string().min(1).default('preferred_username'),
    /** Allows an http:// issuer: local test providers only, never in production. */
    allowInsecureHttp: z.boolean().default(false),
  })
  .strict()
  .refine((o) => o.allowInsecureHttp || o.issuer.startsWith('https://'), {
    message: 'expected an https issuer (allowInsecureHttp is for local tests only)',
    path: ['issuer'],
  })
  .refine((o) => o.tokenEndpointAuthMethod === 'none' || o.clientSecret, {
    message: 'expected clientSecret (or tokenEndpointAuthMethod: none)',
    path: ['clientSecret'],
  })
  .refine((o) => o.scopes.includes('openid'), { message: 'expected the openid scope', path: ['scopes'] });

export const wecomLoginConfigSchema = z
  .object({
    /**
     * The self-built app (自建应用) users sign in through, per corp slug: its agentid. The app's
     * secret is the corp's `app` WeCom secret in the keyring (wecom/secret/<corpId>/app), and the
     * redirect URI's host must be the app's trusted domain (可信域名).
     */
    agents: z.record(z.string(), z.coerce.number().int().positive()).default({}),
    /** Default: server.publicUrl + /api/v1/auth/wecom/callback. */
    redirectUri: z.string().url('expected an absolute URL').optional(),
    /** OAuth inside the WeCom client (网页授权登录). */
    authorizeUrl: z.string().url().default('https://open.weixin.qq.com/connect/oauth2/authorize'),
    /** Browser QR login (企业微信 Web 登录). */
    qrLoginUrl: z.string().url().default('https://login.work.weixin.qq.com/wwlogin/sso/login'),
  })
  .strict();

/**
 * The `access` section of the configuration (the lead adds it to the config schema).
 * Defaults follow ASVS 4.0.3 L2 3.3.2 / NIST SP 800-63B AAL2: re-authenticate after 30 minutes
 * of inactivity or 12 hours in all; argon2id at least m=19 MiB, t=2, p=1 (OWASP, ASVS 5.0 App. C).
 */
export const accessConfigSchema = z
  .object({
    session: z
      .object({
        idleMinutes: z.coerce
          .number()
          .int()
          .min(1)
          .max(30, 'expected at most 30 minutes (ASVS L2)')
          .default(30),
        absoluteHours: z.coerce
          .number()
          .int()
          .min(1)
          .max(12, 'expected at most 12 hours (ASVS L2)')
          .default(12),
      })
      .strict()
      .prefault({}),
    lockout: z
      .object({
        /** Failed sign-ins (password or TOTP) before the account is locked for a while. */
        threshold: z.coerce.number().int().min(3).max(20).default(5),
        /** First lock; each further failure doubles it, up to maxDelaySeconds. */
        baseDelaySeconds: z.coerce.number().int().min(1).default(60),
        maxDelaySeconds: z.coerce.number().int().min(60).default(3600),
      })
      .strict()
      .prefault({}),
    rateLimit: z
      .object({
        /** Sign-in attempts per IP and account per 15 minutes. */
        perAccountAndIp: z.coerce.number().int().min(1).default(10),
        /** Sign-in attempts per IP (all accounts) per 15 minutes. */
        perIp: z.coerce.number().int().min(1).default(100),
      })
      .strict()
      .prefault({}),
    passwordHashing: z
      .object({
        memoryKiB: z.coerce
          .number()
          .int()
          .min(19456, 'expected at least 19456 KiB (argon2id minimum)')
          .default(19456),
        iterations: z.coerce.number().int().min(2, 'expected at least 2 iterations').default(2),
        /** Hashes computed at once: each costs memoryKiB of RAM. */
        concurrency: z.coerce.number().int().min(1).max(64).default(2),
      })
      .strict()
      .prefault({}),
    content: z
      .object({
        /** Data categories that need an explicit grant even within scope (and current training). */
        sensitiveCategories: z
          .array(z.string().regex(/^[a-z][a-z0-9_-]{0,39}$/))
          .default(['hr', 'legal', 'health']),
        /** Hours of conversation before and after a finding that reviewers see (content.read.flagged). */
        reviewContextHours: z.coerce.number().int().min(0).max(720).default(72),
        /** Training course whose current completion sensitive categories require; '' disables the gate. */
        trainingCourse: z.string().max(100).default('compliance-basics'),
      })
      .strict()
      .prefault({}),
    grants: z
      .object({
        /** Longest access a request may ask for (minutes). */
        maxMinutes: z.coerce.number().int().min(5).max(10080).default(480),
        /** Longest break-glass access (minutes). */
        breakGlassMaxMinutes: z.coerce.number().int().min(5).max(1440).default(60),
      })
      .strict()
      .prefault({}),
    tokens: z
      .object({
        maxDays: z.coerce.number().int().min(1).max(3650).default(365),
      })
      .strict()
      .prefault({}),
    /** OpenID Connect single sign-on (absent: off). */
    oidc: oidcConfigSchema.optional(),
    /** Sign-in with WeCom: OAuth inside the WeCom client and browser QR login (absent: off). */
    wecom: wecomLoginConfigSchema.optional(),
  })
  .strict()
  .prefault({});

export type AccessConfig = z.infer<typeof accessConfigSchema>;
export type OidcConfig = z.infer<typeof oidcConfigSchema>;
export type WecomLoginConfig = z.infer<typeof wecomLoginConfigSchema>;
