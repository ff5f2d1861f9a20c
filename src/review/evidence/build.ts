import { createHash } from 'node:crypto';
import { writeCanonicalZip } from './canonical-zip.js';
import { publicKeyPem, rawPublicKey, verifyEd25519 } from './keys.js';
import { MANIFEST_PATH, serializeJson, SIGNATURE_PATH, signatureFile } from './manifest.js';
import type {
  EvidenceInput,
  EvidenceManifest,
  EvidenceParty,
  EvidenceSigner,
  ManifestFile,
} from './types.js';

export const PACKAGE_FILES = {
  case: 'case.json',
  messages: 'messages.jsonl',
  hits: 'hits.jsonl',
  reviewTrail: 'review-trail.jsonl',
} as const;

function iso(value: Date | string, what: string): string {
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) throw new RangeError(`${what}: not a valid time: ${String(value)}`);
  return date.toISOString();
}

/** Fixed key order, so the same input always gives the same bytes. */
function party(p: EvidenceParty): EvidenceParty {
  return { id: p.id, ...(p.name !== undefined && { name: p.name }), ...(p.kind && { kind: p.kind }) };
}

/** One path segment that unpacks safely on any system. */
function assertSegment(segment: string, what: string): void {
  // eslint-disable-next-line no-control-regex
  const bad = /[/\\\u0000-\u001f\u007f]/.test(segment) || segment === '.' || segment === '..';
  if (!segment || bad || Buffer.byteLength(segment) > 255)
    throw new RangeError(`${what} ${JSON.stringify(segment)} cannot be a file name`);
}

function assertKeyName(name: string): void {
  // eslint-disable-next-line no-control-regex
  if (!name || /[\s+\u0000-\u001f]/u.test(name))
    throw new RangeError('signer key name must be non-empty, without spaces or "+"');
}

const jsonl = (rows: unknown[]): Buffer =>
  Buffer.from(rows.map((row) => JSON.stringify(row) + '\n').join(''), 'utf8');

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** The package's content files (everything but manifest.json and manifest.sig), in order. */
function contentFiles(input: EvidenceInput): Array<{ path: string; data: Uint8Array; contentType?: string }> {
  const { case: c, export: x } = input;
  const baseUrl = new URL(x.baseUrl).href.replace(/\/+$/, '');
  const msgids = new Set<string>();
  for (const m of input.messages) {
    if (msgids.has(m.msgid)) throw new RangeError(`message ${m.msgid} appears twice`);
    msgids.add(m.msgid);
  }
  const known = (msgid: string, what: string): void => {
    if (!msgids.has(msgid))
      throw new RangeError(`${what} refers to message ${msgid}, which is not in the package`);
  };

  const media = (input.media ?? []).map((file) => {
    known(file.msgid, `media ${file.name}`);
    assertSegment(file.msgid, 'msgid');
    assertSegment(file.name, 'media name');
    return { ...file, path: `media/${file.msgid}/${file.name}` };
  });
  const mediaPaths = new Set<string>();
  for (const file of media) {
    if (mediaPaths.has(file.path)) throw new RangeError(`media file ${file.path} appears twice`);
    mediaPaths.add(file.path);
  }

  const messages = input.messages.map((m) => ({
    msgid: m.msgid,
    msgTime: iso(m.msgTime, `message ${m.msgid}`),
    action: m.action ?? 'send',
    msgtype: m.msgtype,
    conversationId: m.conversationId,
    sender: m.sender ? party(m.sender) : null,
    recipients: m.recipients.map(party),
    content: m.content,
    media: media.filter((f) => f.msgid === m.msgid).map((f) => f.path),
    link: `${baseUrl}/corps/${encodeURIComponent(c.corp)}/messages/${encodeURIComponent(m.msgid)}`,
  }));
  const hits = (input.hits ?? []).map((h) => {
    known(h.msgid, `hit of rule ${h.ruleId}`);
    const offsets = h.offsets.map((o) => ({ start: o.start, end: o.end }));
    return {
      msgid: h.msgid,
      ruleId: h.ruleId,
      term: h.term,
      category: h.category,
      severity: h.severity,
      offsets,
    };
  });
  const trail = (input.reviewTrail ?? []).map((e, i) => ({
    at: iso(e.at, `review trail entry ${i + 1}`),
    actor: party(e.actor),
    action: e.action,
    comment: e.comment ?? null,
    ...(e.alertId !== undefined && { alertId: e.alertId }),
    ...(e.details !== undefined && { details: e.details }),
  }));
  const caseJson = {
    corp: c.corp,
    caseId: c.caseId,
    title: c.title,
    status: c.status,
    legalHold: c.legalHold,
    openedAt: c.openedAt === undefined ? null : iso(c.openedAt, 'case openedAt'),
    closedAt: c.closedAt == null ? null : iso(c.closedAt, 'case closedAt'),
    participants: c.participants.map((p) => ({ ...party(p), ...(p.role !== undefined && { role: p.role }) })),
    exportedBy: party(x.exportedBy),
    exportedAt: iso(x.exportedAt, 'exportedAt'),
    grantId: x.grantId,
    watermark: x.watermark,
  };

  return [
    { path: PACKAGE_FILES.case, data: serializeJson(caseJson), contentType: 'application/json' },
    { path: PACKAGE_FILES.messages, data: jsonl(messages), contentType: 'application/jsonl' },
    { path: PACKAGE_FILES.hits, data: jsonl(hits), contentType: 'application/jsonl' },
    { path: PACKAGE_FILES.reviewTrail, data: jsonl(trail), contentType: 'application/jsonl' },
    ...media.map((f) => ({ path: f.path, data: f.data, contentType: f.contentType })),
  ];
}

/**
 * Builds a signed evidence package (a canonical ZIP; see README.md). The same input and key
 * always give the same bytes.
 */
export async function buildEvidencePackage(input: EvidenceInput, signer: EvidenceSigner): Promise<Buffer> {
  assertKeyName(signer.keyName);
  const publicKey = rawPublicKey(signer.publicKey);
  const files = contentFiles(input);
  const listed: ManifestFile[] = files.map((f) => ({
    path: f.path,
    size: f.data.byteLength,
    sha256: sha256(f.data),
    ...(f.contentType !== undefined && { contentType: f.contentType }),
  }));
  const manifest: EvidenceManifest = {
    format: 'vigil-evidence',
    formatVersion: 1,
    createdAt: iso(input.export.exportedAt, 'exportedAt'),
    corp: input.case.corp,
    caseId: input.case.caseId,
    exportedBy: party(input.export.exportedBy),
    grantId: input.export.grantId,
    signer: { keyName: signer.keyName, algorithm: 'Ed25519', publicKey: publicKey.toString('base64') },
    counts: {
      messages: input.messages.length,
      media: input.media?.length ?? 0,
      hits: input.hits?.length ?? 0,
      reviewTrail: input.reviewTrail?.length ?? 0,
    },
    files: listed,
  };
  const manifestBytes = serializeJson(manifest);
  const signature = Buffer.from(await signer.sign(manifestBytes));
  // A signer whose public key does not match its private key would produce unverifiable packages.
  if (!verifyEd25519(publicKey, manifestBytes, signature))
    throw new Error(`signer ${signer.keyName}: signature does not verify with its public key`);
  const sigBytes = serializeJson(
    signatureFile({
      keyName: signer.keyName,
      algorithm: 'Ed25519',
      publicKey: publicKeyPem(publicKey),
      signature: signature.toString('base64'),
    }),
  );
  return writeCanonicalZip([
    [MANIFEST_PATH, manifestBytes],
    [SIGNATURE_PATH, sigBytes],
    ...files.map((f) => [f.path, f.data] as const),
  ]);
}
