/** What an access grant allows beyond the requester's own scope. */
export const GRANT_ACTIONS = ['search', 'view', 'export', 'reveal'] as const;
export type GrantAction = (typeof GRANT_ACTIONS)[number];

export type GrantStatus = 'pending' | 'active' | 'rejected' | 'revoked' | 'cancelled';

/** Which messages a grant covers; an absent field means "any". */
export interface GrantScope {
  departmentIds: number[] | null;
  employeeUserids: string[] | null;
  conversationIds: string[] | null;
  periodFrom: Date | null;
  periodTo: Date | null;
  /** Sensitive data categories the grant opens. */
  categories: string[];
}

export interface AccessGrant extends GrantScope {
  id: string;
  corpId: number;
  requesterId: string;
  actions: GrantAction[];
  reason: string;
  durationMinutes: number;
  /** 'expired' is an active grant past its validity. */
  status: GrantStatus | 'expired';
  breakGlass: boolean;
  requestedAt: Date;
  decidedBy: string | null;
  decidedAt: Date | null;
  decisionNote: string | null;
  validUntil: Date | null;
  revokedBy: string | null;
  revokedAt: Date | null;
  revokeReason: string | null;
  reviewedBy: string | null;
  reviewedAt: Date | null;
  reviewOutcome: 'justified' | 'unjustified' | null;
  reviewNote: string | null;
}

export interface GrantRequest extends Partial<GrantScope> {
  actions: GrantAction[];
  reason: string;
  durationMinutes: number;
}

export interface CategoryGrant {
  id: string;
  corpId: number;
  userId: string;
  category: string;
  grantedBy: string;
  reason: string;
  grantedAt: Date;
  expiresAt: Date | null;
  revokedAt: Date | null;
}
