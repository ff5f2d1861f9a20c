import type { KeyObject } from 'node:crypto';
import type { ViewedMessage } from '../../access/content/present.js';

/**
 * Everything an evidence package holds, as plain values: the review workflow assembles it from
 * the content access service (already masked and pseudonymised for the exporter), detection hits
 * and the review trail. Nothing here is a database row, so packages can be built in tests too.
 */
export interface EvidenceInput {
  case: EvidenceCase;
  export: EvidenceExport;
  /** In the order they should appear (usually by time). */
  messages: EvidenceMessage[];
  media?: EvidenceMedia[];
  hits?: EvidenceHit[];
  /** Decisions and case events, oldest first; kept in the given order. */
  reviewTrail?: EvidenceTrailEvent[];
}

/** A person or robot as the exporter may see them (ids may be pseudonyms). */
export interface EvidenceParty {
  id: string;
  /** Display name, when known and visible to the exporter. */
  name?: string;
  kind?: 'employee' | 'external' | 'robot' | 'user';
}

export interface EvidenceCase {
  /** Corp slug, as in Vigil URLs. */
  corp: string;
  caseId: string;
  title: string;
  status: 'open' | 'closed';
  legalHold: boolean;
  participants: Array<EvidenceParty & { role?: string }>;
  openedAt?: Date | string;
  closedAt?: Date | string | null;
}

/** Who exported the package, when, under which access grant. */
export interface EvidenceExport {
  exportedBy: EvidenceParty;
  /** Also the package's creation time, so the same input always gives the same bytes. */
  exportedAt: Date | string;
  /** The access grant that allowed the export. */
  grantId: string;
  /** The watermark (溯源) the content service issued for this export. */
  watermark: string;
  /** Vigil's public URL, e.g. `https://vigil.example.com`; message links start with it. */
  baseUrl: string;
}

export interface EvidenceMessage {
  /** WeCom msgid. */
  msgid: string;
  msgTime: Date | string;
  conversationId: string;
  msgtype: string;
  /** `send`, `recall` or `switch`; defaults to `send`. */
  action?: string;
  sender: EvidenceParty | null;
  recipients: EvidenceParty[];
  /** The WeCom JSON exactly as the content service returned it (kept verbatim, not re-encoded). */
  content: ViewedMessage['content'];
}

/** A media file of a message, stored as `media/<msgid>/<name>`. */
export interface EvidenceMedia {
  msgid: string;
  /** File name: one path segment, no `/`, `\`, `..` or control characters. */
  name: string;
  data: Uint8Array;
  /** MIME type, when known (recorded in the manifest). */
  contentType?: string;
}

/** One detection hit (offsets into the message's normalised text, as detection records them). */
export interface EvidenceHit {
  msgid: string;
  ruleId: string;
  term: string | null;
  category: string;
  severity: 'low' | 'medium' | 'high' | 'critical';
  offsets: Array<{ start: number; end: number }>;
}

/** One entry of the review trail: who did what when, with their comment. */
export interface EvidenceTrailEvent {
  at: Date | string;
  actor: EvidenceParty;
  /** e.g. `alert.claimed`, `decision.first`, `decision.second`, `case.alert_added`, `case.closed`. */
  action: string;
  comment?: string | null;
  /** Alert the event is about, when any. */
  alertId?: string;
  /** Further facts (disposition, agrees, tags…), kept as given. */
  details?: Record<string, unknown>;
}

/**
 * Signs the manifest. An `AuditSigner` fits as is (its `publicKey` is the raw 32-byte key); a
 * PEM/base64 string or a KeyObject is accepted too.
 */
export interface EvidenceSigner {
  /** Name recorded with the signature (no spaces or '+'). */
  keyName: string;
  /** Ed25519 public key: raw 32 bytes, SPKI PEM, base64 of the raw key, or a KeyObject. */
  publicKey: Buffer | string | KeyObject;
  sign(data: Buffer): Promise<Buffer> | Buffer;
}

/** One file listed in the manifest. */
export interface ManifestFile {
  path: string;
  size: number;
  /** Lower-case hex. */
  sha256: string;
  contentType?: string;
}

/** `manifest.json`: what the signature covers. */
export interface EvidenceManifest {
  format: 'vigil-evidence';
  formatVersion: 1;
  createdAt: string;
  corp: string;
  caseId: string;
  exportedBy: EvidenceParty;
  grantId: string;
  signer: { keyName: string; algorithm: 'Ed25519'; publicKey: string };
  counts: { messages: number; media: number; hits: number; reviewTrail: number };
  files: ManifestFile[];
}

/** `manifest.sig`. `publicKey` is SPKI PEM, `signature` base64, both in canonical form. */
export interface ManifestSignature {
  keyName: string;
  algorithm: 'Ed25519';
  publicKey: string;
  signature: string;
}

export interface VerifyOptions {
  /**
   * Pinned signer keys (SPKI PEM, or base64 of the raw 32-byte key). When given, a package signed
   * by any other key fails; otherwise the embedded key is only checked for consistency.
   */
  trustedPublicKeys?: string[];
}

export interface EvidenceVerification {
  ok: boolean;
  /** Every problem found, each naming the file or ZIP part concerned. Empty when ok. */
  problems: string[];
  /** The parsed manifest when it could be read (even if the package failed). */
  manifest: EvidenceManifest | null;
  /** The signer as stated in manifest.sig, with the SHA-256 fingerprint of its raw public key. */
  signer: { keyName: string; publicKey: string; fingerprint: string; trusted: boolean | null } | null;
  /** Entries actually present in the ZIP, in archive order. */
  files: Array<{ path: string; size: number; sha256: string }>;
}
