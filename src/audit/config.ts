import { z } from 'zod';

/** PIPL/Cybersecurity Law practice: access logs are kept at least 180 days (six months). */
export const MIN_AUDIT_RETENTION_DAYS = 180;

/** The `audit` section of the configuration (the lead adds it to the config schema). */
export const auditConfigSchema = z
  .object({
    /** Checkpoint origin: a unique name for this log, e.g. `vigil.example.com/audit`. */
    origin: z
      .string()
      .min(1)
      .regex(/^[^\n\r]+$/, 'expected one line')
      .default('vigil/audit'),
    /** Signing key name in checkpoint notes. */
    keyName: z
      .string()
      .regex(/^[^\s+]+$/, 'expected a name without spaces or "+"')
      .default('vigil-audit'),
    /**
     * Checkpoint signature algorithm: Ed25519, or SM2 (GB/T 32918.2 over SM3, ID
     * 1234567812345678) where 国密 is required. Switching keeps older checkpoints verifiable.
     */
    signature: z.enum(['ed25519', 'sm2'], { error: 'expected ed25519 or sm2' }).default('ed25519'),
    /** How long entries are kept; purge deletes older ones after recording an anchor. */
    retentionDays: z.coerce
      .number({ error: 'expected a number of days' })
      .int()
      .min(
        MIN_AUDIT_RETENTION_DAYS,
        `expected at least ${MIN_AUDIT_RETENTION_DAYS} days (legal minimum for access logs)`,
      )
      .default(3 * 365),
    checkpoints: z
      .object({
        /** Exported checkpoints (JSONL); default <dataDir>/audit/checkpoints.log. */
        file: z.string().optional(),
        /** Also send each checkpoint to a syslog collector over UDP (RFC 5424). */
        syslog: z
          .object({
            host: z.string().min(1),
            port: z.coerce.number().int().min(1).max(65535).default(514),
          })
          .strict()
          .optional(),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .prefault({});

export type AuditConfig = z.infer<typeof auditConfigSchema>;
