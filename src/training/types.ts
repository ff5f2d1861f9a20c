/** Where a completion came from: a file imported with the CLI, or the HTTP API. */
export type TrainingSource = 'csv' | 'api';

export interface TrainingCompletion {
  id: string;
  corpId: number;
  /** The Vigil account it was recorded for, when recorded by username. */
  userId: string | null;
  username: string | null;
  /** The WeCom employee it was recorded for, when recorded by userid. */
  employeeUserid: string | null;
  course: string;
  completedAt: Date;
  expiresAt: Date | null;
  source: TrainingSource;
  importedBy: string;
  importedAt: Date;
}

export type TrainingState = 'valid' | 'expired' | 'missing';

export interface TrainingStatus {
  state: TrainingState;
  /** valid: when it expires (null: never); expired: when it expired; missing: null. */
  expiresAt: Date | null;
}

export interface ImportReject {
  /** Physical line of the CSV file (the header is line 1). */
  line: number;
  reason: string;
}

export interface ImportResult {
  importId: string;
  /** Data rows read (blank lines are not rows). */
  rows: number;
  /** Stored rows: inserted + updated + unchanged. */
  accepted: number;
  inserted: number;
  /** Already recorded with another expiry: the expiry was corrected. */
  updated: number;
  /** Already recorded exactly so (a re-import), or repeated in the file. */
  unchanged: number;
  rejected: number;
  rejects: ImportReject[];
  /** Header columns that are not used. */
  ignoredColumns: string[];
}

/** Who imports: the audit actor and address. */
export interface TrainingActor {
  actor: string;
  ip?: string;
}

/** The CSV cannot be imported at all (header, encoding); no row was stored. */
export class TrainingImportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrainingImportError';
  }
}
