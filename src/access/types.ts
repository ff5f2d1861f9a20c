import type { Role } from './permissions.js';

export type SessionStage = 'totp' | 'enrol' | 'full';

export interface User {
  id: string;
  username: string;
  displayName: string | null;
  corpId: number | null;
  employeeUserid: string | null;
  passwordHash: string | null;
  totpSecret: Buffer | null;
  totpEnabledAt: Date | null;
  totpPending: Buffer | null;
  totpLastStep: number | null;
  failedAttempts: number;
  lockedUntil: Date | null;
  disabledAt: Date | null;
  createdAt: Date;
}

export interface RoleAssignment {
  id: string;
  userId: string;
  role: Role;
  corpId: number | null;
  departmentId: number | null;
}

export interface Session {
  id: string;
  userId: string;
  stage: SessionStage;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
  endedAt: Date | null;
}

export interface ApiToken {
  id: string;
  userId: string;
  name: string;
  hint: string;
  permissions: string[];
  corpId: number | null;
  expiresAt: Date;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
  createdAt: Date;
}

/** Who is calling: attached to the request by the authorizer. */
export interface Principal {
  userId: string;
  username: string;
  /** How the audit log names the caller: 'user:<id>' or 'token:<id>'. */
  actor: string;
  /** cli: an operator's command run as this user on the server (`vigil search --as`). */
  via: 'session' | 'token' | 'cli';
  sessionId?: string;
  tokenId?: string;
  stage: SessionStage;
  roles: RoleAssignment[];
  /** An API token's restriction: only these permissions, optionally in one corp. */
  tokenScope?: { permissions: ReadonlySet<string>; corpId: number | null };
  totpEnrolled: boolean;
  /** Synchronizer token for cookie sessions (send as x-csrf-token on unsafe methods). */
  csrfToken?: string;
  sessionExpiresAt?: Date;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}
