import { z } from 'zod';
import { strictBase64 } from './keys.js';
import type { EvidenceManifest, ManifestSignature } from './types.js';

export const MANIFEST_PATH = 'manifest.json';
export const SIGNATURE_PATH = 'manifest.sig';

const party = z.strictObject({
  id: z.string(),
  name: z.string().optional(),
  kind: z.enum(['employee', 'external', 'robot', 'user']).optional(),
});

const count = z.number().int().nonnegative();

const manifestSchema = z.strictObject({
  format: z.literal('vigil-evidence'),
  formatVersion: z.literal(1),
  createdAt: z.string(),
  corp: z.string(),
  caseId: z.string(),
  exportedBy: party,
  grantId: z.string(),
  signer: z.strictObject({ keyName: z.string(), algorithm: z.literal('Ed25519'), publicKey: z.string() }),
  counts: z.strictObject({ messages: count, media: count, hits: count, reviewTrail: count }),
  files: z.array(
    z.strictObject({
      path: z.string().min(1),
      size: count,
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
      contentType: z.string().optional(),
    }),
  ),
});

const signatureSchema = z.strictObject({
  keyName: z.string().min(1),
  algorithm: z.literal('Ed25519'),
  publicKey: z.string(),
  signature: z.string(),
});

/** Pretty JSON with a final newline: readable in a text editor, and the exact bytes signed. */
export function serializeJson(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value, null, 2) + '\n', 'utf8');
}

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0]!;
  return `${issue.path.length ? issue.path.join('.') + ': ' : ''}${issue.message}`;
}

function parseJson(bytes: Uint8Array): unknown {
  return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
}

/** The manifest, or the reason it cannot be read. */
export function parseManifest(bytes: Uint8Array): EvidenceManifest | string {
  let json: unknown;
  try {
    json = parseJson(bytes);
  } catch {
    return 'not valid UTF-8 JSON';
  }
  const parsed = manifestSchema.safeParse(json);
  return parsed.success ? (parsed.data as EvidenceManifest) : firstIssue(parsed.error);
}

/**
 * The signature file with its decoded signature, or the reason it is malformed. It must be the
 * exact bytes serializeJson writes: nothing signs this file, so any other spelling is tampering.
 */
export function parseSignatureFile(bytes: Uint8Array): (ManifestSignature & { bytes: Buffer }) | string {
  let json: unknown;
  try {
    json = parseJson(bytes);
  } catch {
    return 'not valid UTF-8 JSON';
  }
  const parsed = signatureSchema.safeParse(json);
  if (!parsed.success) return firstIssue(parsed.error);
  const sig = strictBase64(parsed.data.signature);
  if (!sig || sig.length !== 64) return 'signature is not base64 of 64 bytes';
  const canonical = serializeJson(signatureFile(parsed.data));
  if (!canonical.equals(bytes)) return 'not in canonical form';
  return { ...parsed.data, bytes: sig };
}

/** Fields in their canonical order. */
export function signatureFile(sig: ManifestSignature): ManifestSignature {
  return {
    keyName: sig.keyName,
    algorithm: sig.algorithm,
    publicKey: sig.publicKey,
    signature: sig.signature,
  };
}
