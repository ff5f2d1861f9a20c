import { z } from 'zod';
import { PII_KINDS } from '../pii/detect.js';
import { SEVERITIES } from '../types.js';

/* The policy language. YAML/JSON documents are parsed into these shapes; see README.md. */

const id = z.string().regex(/^[A-Za-z0-9_.:-]{1,100}$/, 'ids use letters, digits and _ . : - (at most 100)');
const severity = z.enum(SEVERITIES as [string, ...string[]]);

export const termOptionsSchema = z
  .object({
    evasion: z.boolean().optional(),
    exact: z.boolean().optional(),
    pinyin: z.boolean().optional(),
    initials: z.boolean().optional(),
    homophone: z.boolean().optional(),
    wordBoundary: z.boolean().optional(),
  })
  .strict();

export const termSchema = z.union([
  z.string().min(1),
  termOptionsSchema
    .extend({ text: z.string().min(1), allow: z.array(z.string().min(1)).optional() })
    .strict(),
]);

export const lexiconSchema = z
  .object({
    id,
    description: z.string().optional(),
    options: termOptionsSchema.optional(),
    allow: z.array(z.string().min(1)).optional(),
    terms: z.array(termSchema).min(1),
  })
  .strict();

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'time of day as HH:MM');

/** One schema per condition key; a condition is an object with exactly one of these keys. */
export const leafConditionSchemas = {
  lexicon: z.union([id, z.array(id).min(1)]),
  term: termSchema,
  terms: z.array(termSchema).min(1),
  regex: z.union([
    z.string().min(1),
    z
      .object({ pattern: z.string().min(1), ignoreCase: z.boolean().optional(), raw: z.boolean().optional() })
      .strict(),
  ]),
  pii: z.union([z.enum(PII_KINDS), z.array(z.enum(PII_KINDS)).min(1)]),
  msgtype: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  action: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  redpacket: z.object({ minAmountFen: z.number().int().nonnegative() }).strict(),
  mediaToExternal: z.union([
    z.literal(true),
    z.object({ msgtypes: z.array(z.string().min(1)).min(1) }).strict(),
  ]),
  contactCard: z.enum(['external', 'any']),
  fileSize: z.object({ minBytes: z.number().int().positive() }).strict(),
  fileName: z.string().min(1),
  offHours: z
    .object({
      workStart: hhmm.default('09:00'),
      workEnd: hhmm.default('18:00'),
      weekends: z.boolean().default(true),
      timezone: z.string().default('Asia/Shanghai'),
    })
    .strict(),
  consentWithdrawn: z.literal(true),
  textLength: z
    .object({ min: z.number().int().nonnegative().optional(), max: z.number().int().positive().optional() })
    .strict(),
} as const;

export const COMPOSITE_KEYS = ['all', 'any', 'not', 'near'] as const;
export type LeafKey = keyof typeof leafConditionSchemas;
export type LeafCondition = {
  [K in LeafKey]: { [P in K]: z.infer<(typeof leafConditionSchemas)[K]> };
}[LeafKey];

export type Condition =
  | LeafCondition
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition }
  | { near: { all: Condition[]; within: number } };

export const scopeSchema = z
  .object({
    corpIds: z.array(z.string().min(1)).optional(),
    departmentIds: z.array(z.number().int()).optional(),
    employeeIds: z.array(z.string().min(1)).optional(),
    sensitivePostsOnly: z.boolean().optional(),
    conversationKinds: z.array(z.enum(['internal', 'external', 'group'])).optional(),
    directions: z.array(z.enum(['inbound', 'outbound', 'internal'])).optional(),
    senderKinds: z.array(z.enum(['employee', 'external', 'robot'])).optional(),
  })
  .strict();

export const conversationWindowSchema = z
  .object({
    messages: z.number().int().min(2).max(1000).optional(),
    minutes: z
      .number()
      .positive()
      .max(7 * 24 * 60)
      .optional(),
    all: z.array(z.unknown()).min(2),
  })
  .strict()
  .refine(
    (w) => w.messages !== undefined || w.minutes !== undefined,
    'conversation needs messages or minutes',
  );

export const ruleSchema = z
  .object({
    id,
    name: z.string().min(1),
    description: z.string().optional(),
    category: z.string().min(1),
    severity,
    enabled: z.boolean().default(true),
    when: z.unknown().optional(),
    conversation: conversationWindowSchema.optional(),
    scope: scopeSchema.optional(),
    exclude: z.unknown().optional(),
  })
  .strict()
  .refine(
    (r) => (r.when === undefined) !== (r.conversation === undefined),
    'a rule needs exactly one of when or conversation',
  );

export const policySetSchema = z
  .object({
    id,
    name: z.string().min(1),
    description: z.string().optional(),
    version: z.number().int().positive().optional(),
    lexicons: z.array(lexiconSchema).default([]),
    rules: z.array(z.unknown()).min(1),
  })
  .strict();

export type PolicySetDoc = z.infer<typeof policySetSchema>;
export type RuleDoc = z.infer<typeof ruleSchema>;
export type LexiconDoc = z.infer<typeof lexiconSchema>;
export type TermDoc = z.infer<typeof termSchema>;
export type ScopeDoc = z.infer<typeof scopeSchema>;
