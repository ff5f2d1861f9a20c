/** One published version of a corp's monitoring notice (告知). Never changed once published. */
export interface PrivacyNotice {
  corpId: number;
  version: number;
  /** zh-CN: the binding text. */
  title: string;
  body: string;
  /** Optional English translation. */
  titleEn: string | null;
  bodyEn: string | null;
  /** From this day (in the corp's time zone) the version is the current one. */
  effectiveOn: string;
  /** SHA-256 (hex) of the canonical text; the publish audit event carries it too. */
  digest: string;
  publishedBy: string;
  publishedAt: Date;
}

/** What a publisher submits; the version number is assigned. */
export interface NoticeInput {
  title: string;
  body: string;
  titleEn?: string | null;
  bodyEn?: string | null;
  /** YYYY-MM-DD; default: today in the corp's time zone. Never before today. */
  effectiveOn?: string;
}

/** A consent record: an employee acknowledged one version. Append-only. */
export interface Acknowledgement {
  id: string;
  corpId: number;
  version: number;
  employeeUserid: string;
  userId: string;
  acknowledgedAt: Date;
  ip: string | null;
  userAgent: string | null;
}

/** The signed-in person's side: the current notice and whether they acknowledged it. */
export interface MyNoticeState {
  notice: PrivacyNotice | null;
  acknowledgement: Acknowledgement | null;
  /** The WeCom employee the account is linked to in this corp; null: cannot acknowledge. */
  employeeUserid: string | null;
}

/** Who has acknowledged the current version among the corp's active employees. */
export interface Coverage {
  version: number | null;
  effectiveOn: string | null;
  employees: number;
  acknowledged: number;
  pending: number;
  /** Active employees without an acknowledgement of the current version (up to `limit`). */
  missing: Array<{ userid: string; name: string; department: string | null; hasAccount: boolean }>;
  truncated: boolean;
}

/** Who acts and from where: carried into the audit log and the consent record. */
export interface PrivacyActor {
  actor: string;
  ip: string | null;
}
