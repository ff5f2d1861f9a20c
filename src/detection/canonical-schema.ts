import { z } from 'zod';
import type { CanonicalMessage } from './types.js';

/** Validates a message given directly in canonical form (e.g. a JSONL line for `vigil scan`). */
export const canonicalMessageSchema = z.object({
  msgid: z.string().min(1),
  corpId: z.string().default(''),
  conversationId: z.string().min(1),
  conversationKind: z.enum(['internal', 'external', 'group']).default('external'),
  direction: z.enum(['inbound', 'outbound', 'internal']).default('outbound'),
  senderId: z.string().default(''),
  senderKind: z.enum(['employee', 'external', 'robot']).default('employee'),
  senderDepartmentIds: z.array(z.number().int()).default([]),
  senderSensitivePost: z.boolean().default(false),
  msgtype: z.string().default('text'),
  action: z.string().default('send'),
  time: z.number().int().nonnegative(),
  text: z.string(),
  recipientIds: z.array(z.string()).default([]),
  recipientsExternal: z.boolean().default(false),
  redpacketAmountFen: z.number().int().nonnegative().optional(),
  fileSize: z.number().int().nonnegative().optional(),
  fileName: z.string().optional(),
  cardUserId: z.string().optional(),
  recalledMsgid: z.string().optional(),
});

/** Parses and defaults a canonical message; throws a ZodError on bad input. */
export function parseCanonicalMessage(v: unknown): CanonicalMessage {
  return canonicalMessageSchema.parse(v);
}
