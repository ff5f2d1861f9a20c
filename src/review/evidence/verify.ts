import { createHash } from 'node:crypto';
import { describeZipOffset, readZip, writeCanonicalZip } from './canonical-zip.js';
import { PACKAGE_FILES } from './build.js';
import { EvidenceKeyError, keyFingerprint, rawPublicKey, verifyEd25519 } from './keys.js';
import { MANIFEST_PATH, parseManifest, parseSignatureFile, SIGNATURE_PATH } from './manifest.js';
import type { EvidenceManifest, EvidenceVerification, VerifyOptions } from './types.js';

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

function trustedKeys(options: VerifyOptions): Buffer[] | undefined {
  return options.trustedPublicKeys?.map((key, i) => {
    try {
      return rawPublicKey(key);
    } catch (err) {
      throw new EvidenceKeyError(`trusted key ${i + 1}: ${(err as Error).message}`);
    }
  });
}

/** Checks manifest.sig against manifest.json and the pinned keys; returns the signer it names. */
function checkSignature(
  entries: Map<string, Uint8Array>,
  manifest: EvidenceManifest | null,
  trusted: Buffer[] | undefined,
  problems: string[],
): EvidenceVerification['signer'] {
  const manifestBytes = entries.get(MANIFEST_PATH);
  const sigBytes = entries.get(SIGNATURE_PATH);
  if (!sigBytes) return null;
  const sig = parseSignatureFile(sigBytes);
  if (typeof sig === 'string') {
    problems.push(`${SIGNATURE_PATH}: ${sig}`);
    return null;
  }
  let raw: Buffer;
  try {
    raw = rawPublicKey(sig.publicKey);
  } catch (err) {
    problems.push(`${SIGNATURE_PATH}: public key: ${(err as Error).message}`);
    return null;
  }
  const fingerprint = keyFingerprint(raw);
  const isTrusted = trusted ? trusted.some((key) => key.equals(raw)) : null;
  if (manifestBytes && !verifyEd25519(raw, Buffer.from(manifestBytes), sig.bytes))
    problems.push(`${SIGNATURE_PATH}: signature invalid`);
  if (isTrusted === false)
    problems.push(`signed by an untrusted key (${sig.keyName}, fingerprint ${fingerprint})`);
  if (manifest && manifest.signer.keyName !== sig.keyName)
    problems.push(
      `${SIGNATURE_PATH}: key name ${sig.keyName} differs from the manifest's ${manifest.signer.keyName}`,
    );
  if (manifest && manifest.signer.publicKey !== raw.toString('base64'))
    problems.push(`${SIGNATURE_PATH}: public key differs from the manifest's signer key`);
  return { keyName: sig.keyName, publicKey: sig.publicKey, fingerprint, trusted: isTrusted };
}

/** Every listed file present with its size and hash; nothing unlisted; counts as stated. */
function checkFiles(entries: Map<string, Uint8Array>, manifest: EvidenceManifest, problems: string[]): void {
  const listed = new Set<string>();
  for (const file of manifest.files) {
    if (listed.has(file.path) || file.path === MANIFEST_PATH || file.path === SIGNATURE_PATH)
      problems.push(`manifest.json: ${file.path} listed twice`);
    listed.add(file.path);
    const data = entries.get(file.path);
    if (!data) problems.push(`missing file: ${file.path}`);
    else if (data.byteLength !== file.size)
      problems.push(`${file.path}: size mismatch (manifest ${file.size}, file ${data.byteLength})`);
    else if (sha256(data) !== file.sha256) problems.push(`${file.path}: SHA-256 mismatch`);
  }
  for (const path of entries.keys())
    if (!listed.has(path) && path !== MANIFEST_PATH && path !== SIGNATURE_PATH)
      problems.push(`extra file not in manifest: ${path}`);

  const lines = (path: string): number | undefined => {
    const data = entries.get(path);
    return data && Buffer.from(data).toString('utf8').split('\n').length - 1;
  };
  const expected: Array<[string, number, number | undefined]> = [
    ['messages', manifest.counts.messages, lines(PACKAGE_FILES.messages)],
    ['hits', manifest.counts.hits, lines(PACKAGE_FILES.hits)],
    ['reviewTrail', manifest.counts.reviewTrail, lines(PACKAGE_FILES.reviewTrail)],
    ['media', manifest.counts.media, manifest.files.filter((f) => f.path.startsWith('media/')).length],
  ];
  for (const [name, stated, actual] of expected)
    if (actual !== undefined && actual !== stated)
      problems.push(`manifest.json: counts.${name} is ${stated} but the package holds ${actual}`);
}

/**
 * Rebuilds the ZIP from its entries in the canonical order and compares bytes: this catches every
 * change the content hashes cannot see (headers, CRCs, times, comments, names, trailing bytes).
 */
function checkCanonical(zip: Uint8Array, order: string[], entries: Map<string, Uint8Array>): string | null {
  let rebuilt: Buffer;
  try {
    rebuilt = writeCanonicalZip(order.map((path) => [path, entries.get(path)!] as const));
  } catch (err) {
    return `ZIP is not in canonical form: ${(err as Error).message}`;
  }
  const input = Buffer.from(zip.buffer, zip.byteOffset, zip.byteLength);
  if (rebuilt.equals(input)) return null;
  let offset = 0;
  const shorter = Math.min(rebuilt.length, input.length);
  while (offset < shorter && rebuilt[offset] === input[offset]) offset++;
  const where =
    offset < rebuilt.length ? describeZipOffset(rebuilt, offset) : 'bytes after the end of the archive';
  return `ZIP is not in canonical form: byte ${offset} (${where}) differs from a deterministic rebuild`;
}

/**
 * Verifies an evidence package offline: signature over manifest.json, every file's size and
 * SHA-256, no file missing or added, optional key pinning, and a byte-identical canonical ZIP.
 */
export function verifyEvidencePackage(zip: Uint8Array, options: VerifyOptions = {}): EvidenceVerification {
  const trusted = trustedKeys(options);
  const problems: string[] = [];
  const result: EvidenceVerification = { ok: false, problems, manifest: null, signer: null, files: [] };

  let read: ReturnType<typeof readZip>;
  try {
    read = readZip(zip);
  } catch (err) {
    const looksLikeZip = zip.length >= 2 && zip[0] === 0x50 && zip[1] === 0x4b;
    problems.push(looksLikeZip ? `corrupt ZIP: ${(err as Error).message}` : 'not a ZIP');
    return result;
  }
  problems.push(...read.refused);
  const entries = new Map(read.entries.map((e) => [e.path, e.data]));
  result.files = read.entries.map((e) => ({ path: e.path, size: e.data.byteLength, sha256: sha256(e.data) }));

  const manifestBytes = entries.get(MANIFEST_PATH);
  if (!manifestBytes) problems.push(`missing file: ${MANIFEST_PATH}`);
  if (!entries.has(SIGNATURE_PATH)) problems.push(`missing file: ${SIGNATURE_PATH}`);
  const parsed = manifestBytes ? parseManifest(manifestBytes) : null;
  if (typeof parsed === 'string') problems.push(`${MANIFEST_PATH}: ${parsed}`);
  else result.manifest = parsed;

  result.signer = checkSignature(entries, result.manifest, trusted, problems);
  if (result.manifest) checkFiles(entries, result.manifest, problems);

  const head = [MANIFEST_PATH, SIGNATURE_PATH].filter((path) => entries.has(path));
  const listed = (result.manifest?.files ?? []).map((f) => f.path).filter((path) => entries.has(path));
  const order = [...new Set([...head, ...listed, ...entries.keys()])];
  const canonical = checkCanonical(zip, order, entries);
  if (canonical) problems.push(canonical);

  result.ok = problems.length === 0;
  return result;
}
