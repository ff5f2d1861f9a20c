import { z } from 'zod';

const share = z.coerce.number().min(0).max(1);

/** The `review` section of the configuration. */
export const reviewConfigSchema = z
  .object({
    sampling: z
      .object({
        /** Share of ordinary posts' active conversations drawn for human review each month. */
        monthlyRate: share.default(0.05),
        /** Share of dismissed (compliant, false positive) and low-score alerts sent back to people. */
        recheckRate: share.default(0.1),
        /** Alerts with a priority below this count as low-score for rechecks. */
        lowScoreBelow: z.coerce.number().min(0).default(1),
        /** The share of automated decisions that must get human judgement (reported against). */
        humanReviewTarget: share.default(0.3),
      })
      .strict()
      .prefault({}),
    /** Base URL of links in evidence packages and notices; defaults to server.publicUrl. */
    linkBaseUrl: z.string().url().optional(),
  })
  .strict()
  .prefault({});

export type ReviewConfig = z.infer<typeof reviewConfigSchema>;
