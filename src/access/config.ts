import { z } from 'zod';

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
    tokens: z
      .object({
        maxDays: z.coerce.number().int().min(1).max(3650).default(365),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .prefault({});

export type AccessConfig = z.infer<typeof accessConfigSchema>;
