import { z } from 'zod';
import { accessConfigSchema } from '../../access/config.js';
import { auditConfigSchema } from '../../audit/config.js';
import { reviewConfigSchema } from '../../review/config.js';

const port = z.coerce
  .number({ error: 'expected a port number' })
  .int('expected an integer port')
  .min(0, 'expected a port between 0 and 65535')
  .max(65535, 'expected a port between 0 and 65535');

const tlsSchema = z
  .object({
    /** PEM certificate chain; when set with `key`, Vigil serves HTTPS with TLS 1.3 only. */
    cert: z.string().optional(),
    key: z.string().optional(),
    /** CA bundle for optional client certificates (mutual TLS for API integrations). */
    clientCa: z.string().optional(),
    requireClientCert: z.boolean().default(false),
  })
  .strict()
  .refine((t) => Boolean(t.cert) === Boolean(t.key), 'expected both cert and key, or neither');

const databaseSchema = z
  .object({
    /** postgres://… ; when absent, Vigil runs an embedded PostgreSQL under dataDir. */
    url: z.string().url('expected a postgres:// URL').optional(),
    ssl: z
      .object({
        mode: z.enum(['disable', 'require', 'verify-full']).default('disable'),
        /** CA certificate (PEM contents) used with verify-full. */
        ca: z.string().optional(),
      })
      .strict()
      .prefault({}),
    poolMax: z.coerce.number().int().min(1).max(500).default(10),
    embedded: z
      .object({
        port: port.default(0),
      })
      .strict()
      .prefault({}),
  })
  .strict();

const scheduleOverride = z.object({ cron: z.string().optional(), enabled: z.boolean().optional() }).strict();

const keyringSchema = z
  .object({
    /** Where key-encryption keys and long-lived secrets live. */
    provider: z.enum(['local', 'pkcs11']).default('local'),
    local: z
      .object({
        /** Key file; default <dataDir>/keys/keyring.json (created on first start). */
        path: z.string().optional(),
        /** Seals the key file under a scrypt-derived key; without it only file permissions protect it. */
        passphrase: z.string().min(12, 'expected a passphrase of at least 12 characters').optional(),
      })
      .strict()
      .prefault({}),
    pkcs11: z
      .object({
        library: z.string().default('/usr/lib/softhsm/libsofthsm2.so'),
        tokenLabel: z.string().optional(),
        pin: z.string().optional(),
        labelPrefix: z.string().default('vigil'),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .refine((k) => k.provider !== 'pkcs11' || (k.pkcs11.tokenLabel && k.pkcs11.pin), {
    message: 'expected pkcs11.tokenLabel and pkcs11.pin with provider pkcs11',
  });

export const configSchema = z
  .object({
    /** Where the embedded database, the local keyring and blobs live by default. */
    dataDir: z.string().min(1).default('./data'),
    server: z
      .object({
        host: z.string().min(1).default('0.0.0.0'),
        port: port.default(8080),
        /** Public base URL used in links (evidence packages, notifications). */
        publicUrl: z.string().url('expected an absolute URL').optional(),
        trustProxy: z.boolean().default(false),
        tls: tlsSchema.prefault({}),
        rateLimitPerMinute: z.coerce.number().int().min(1).default(600),
      })
      .strict()
      .prefault({}),
    database: databaseSchema.prefault({}),
    log: z
      .object({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
        pretty: z.boolean().default(false),
      })
      .strict()
      .prefault({}),
    jobs: z
      .object({
        /** `serve` runs background jobs too unless disabled; `worker` always does. */
        enabled: z.boolean().default(true),
        concurrency: z.coerce.number().int().min(1).max(64).default(2),
        pollIntervalMs: z.coerce.number().int().min(50).max(60_000).default(1000),
        /** Per-schedule overrides, keyed by schedule name. */
        schedules: z.record(z.string(), scheduleOverride).default({}),
      })
      .strict()
      .prefault({}),
    keyring: keyringSchema.prefault({}),
    access: accessConfigSchema,
    audit: auditConfigSchema,
    review: reviewConfigSchema,
    crypto: z
      .object({
        /** Cipher for new data keys: AES-256-GCM, or SM4-GCM for customers bound by GB/T 39786. */
        contentAlgorithm: z.enum(['A256GCM', 'SM4GCM']).default('A256GCM'),
      })
      .strict()
      .prefault({}),
    blobs: z
      .object({
        /** Encrypted media (content-addressed); default <dataDir>/blobs. */
        dir: z.string().optional(),
      })
      .strict()
      .prefault({}),
    demo: z
      .object({
        /** Seed a demo corp. `auto`: only when no database is configured. */
        seed: z.enum(['auto', 'always', 'never']).default('auto'),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type VigilConfig = z.infer<typeof configSchema>;

/** Paths (dotted) whose values are secrets: never logged, loadable from *_FILE. */
export const SECRET_PATHS = [
  'database.url',
  'server.tls.key',
  'keyring.local.passphrase',
  'keyring.pkcs11.pin',
  'access.oidc.clientSecret',
] as const;
