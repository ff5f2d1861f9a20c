import type { SignatureAlgorithm } from './checkpoint.js';

/** What callers record: one access decision or change. Never message content. */
export interface AuditEventInput {
  corpId?: number | null;
  /** 'user:<id>', 'token:<id>', 'system' or 'anonymous'. */
  actor: string;
  actorIp?: string | null;
  /** Dotted verb, e.g. 'auth.sign_in', 'content.read', 'grant.approve', 'config.change'. */
  action: string;
  resourceType?: string | null;
  resourceIds?: string[];
  /** The reason given with the action (a grant's reason, a purge's reason). */
  reason?: string | null;
  result: AuditResult;
  /** Small structured context; message content must never go here. */
  details?: Record<string, unknown>;
  /** Defaults to now; tests and imports may set it. */
  occurredAt?: Date;
}

export type AuditResult = 'allowed' | 'denied' | 'failed';
export type AuditKind = 'event' | 'anchor';

/** A stored entry of the chain. `seq` is a decimal string (bigint in SQL). */
export interface AuditEvent {
  seq: string;
  kind: AuditKind;
  corpId: number | null;
  occurredAt: Date;
  actor: string;
  actorIp: string | null;
  action: string;
  resourceType: string | null;
  resourceIds: string[];
  reason: string | null;
  result: AuditResult;
  details: Record<string, unknown>;
  prevHash: Buffer;
  hash: Buffer;
}

/** A stored signed checkpoint (C2SP note) of the Merkle tree over the entries' hashes. */
export interface StoredCheckpoint {
  id: string;
  treeSize: number;
  rootHash: Buffer;
  treeState: Buffer[];
  origin: string;
  keyName: string;
  /** The algorithm that signed `note` (the note binds it through its key id too). */
  signatureAlg: SignatureAlgorithm;
  note: string;
  createdAt: Date;
}
