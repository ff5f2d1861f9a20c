import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CheckpointError,
  createNoteSigner,
  createSm2NoteSigner,
  formatCheckpointBody,
  formatVerifierKey,
  generateSigningKey,
  generateSm2SigningKey,
  keyIdOf,
  parseCheckpoint,
  parseVerifierKey,
  signCheckpoint,
  verifierKeyOf,
  verifyCheckpoint,
  verifyNote,
  verifyNoteSigners,
  type Checkpoint,
} from './checkpoint.js';
import { consistencyProof, leafHash, rootFromLeafHashes, verifyConsistency } from './merkle.js';
import { SM2_CURVE, sm2PublicKeyToSpki, sm2SignatureToDer } from './sm2.js';

const key = generateSigningKey();
const signer = createNoteSigner('vigil.example/audit', key);
const vkey = verifierKeyOf('vigil.example/audit', key);
const root = createHash('sha256').update('x').digest();
const cp: Checkpoint = { origin: 'vigil.example/audit/ww0001', size: 42, rootHash: root };

describe('checkpoint format', () => {
  it('writes the C2SP body and signature line', () => {
    const note = signCheckpoint(cp, [signer]);
    const lines = note.split('\n');
    expect(lines.slice(0, 4)).toEqual(['vigil.example/audit/ww0001', '42', root.toString('base64'), '']);
    expect(lines[4]).toMatch(/^— vigil\.example\/audit [A-Za-z0-9+/]+=*$/);
    expect(note.endsWith('\n')).toBe(true);
    const sig = Buffer.from(lines[4]!.split(' ')[2]!, 'base64');
    expect(sig).toHaveLength(68);
    expect(sig.subarray(0, 4)).toEqual(signer.keyId);
  });

  it('computes the note key id as SHA-256(name ‖ \\n ‖ 0x01 ‖ pub)[:4] and round-trips verifier keys', () => {
    const v = parseVerifierKey(vkey);
    expect(v.name).toBe('vigil.example/audit');
    expect(v.keyId).toEqual(signer.keyId);
    expect(keyIdOf(v.name, v.publicKey)).toEqual(v.keyId);
    expect(vkey).toMatch(/^vigil\.example\/audit\+[0-9a-f]{8}\+[A-Za-z0-9+/]+=*$/);
    expect(() => parseVerifierKey(vkey.replace(/\+([0-9a-f]{8})\+/, '+00000000+'))).toThrow(CheckpointError);
  });

  it('sign → parse → verify round-trips, with extensions and several signers', () => {
    const other = generateSigningKey();
    const s2 = createNoteSigner('witness.example', other);
    const note = signCheckpoint({ ...cp, extensions: ['time 1700000000'] }, [signer, s2]);
    expect(parseCheckpoint(note).signatures).toHaveLength(2);
    expect(verifyCheckpoint(note, [vkey], { origin: cp.origin })).toEqual({
      ...cp,
      extensions: ['time 1700000000'],
    });
    expect(verifyCheckpoint(note, [verifierKeyOf('witness.example', other)]).size).toBe(42);
  });
});

describe('interoperability with golang.org/x/mod/sumdb/note', () => {
  it('verifies the package documentation example note (key id, vkey format, signed bytes)', () => {
    const goVkey = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
    const text =
      "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
    const goNote = `${text}\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`;
    expect(verifyNote(goNote, [goVkey])).toBe(text);
    expect(() => verifyNote(goNote.replace('answer', 'Answer'), [goVkey])).toThrow(CheckpointError);
  });
});

describe('checkpoint verification fails', () => {
  const note = signCheckpoint(cp, [signer]);
  const fails = (n: string, trusted: string[] = [vkey], origin?: string) =>
    expect(() => verifyCheckpoint(n, trusted, { origin })).toThrow(CheckpointError);

  it('for an altered size, root, or origin', () => {
    fails(note.replace('\n42\n', '\n43\n'));
    fails(
      note.replace(root.toString('base64'), createHash('sha256').update('y').digest().toString('base64')),
    );
    fails(note.replace('ww0001', 'ww0002'));
    fails(note, [vkey], 'vigil.example/audit/other');
  });

  it('for a flipped signature bit, an untrusted key, or a key claiming the trusted name', () => {
    const [body, sigLine] = note.split('\n\n') as [string, string];
    const raw = Buffer.from(sigLine.trim().split(' ')[2]!, 'base64');
    raw[10]! ^= 1;
    fails(`${body}\n\n— vigil.example/audit ${raw.toString('base64')}\n`);
    fails(note, [verifierKeyOf('vigil.example/audit', generateSigningKey())]);
    const impostor = signCheckpoint(cp, [createNoteSigner('vigil.example/audit', generateSigningKey())]);
    fails(impostor);
  });

  it('for malformed notes', () => {
    fails(note.replace('\n\n', '\n')); // no blank line
    fails(note.slice(0, -1)); // no final newline
    fails(note.replace('\n42\n', '\n042\n')); // leading zero
    fails(note.replace('\n42\n', '\n-1\n'));
    fails(note.replace('— ', '- ')); // hyphen instead of em dash
    fails(note.replace('\n42\n', '\n4\u00072\n')); // control char
    fails(`${formatCheckpointBody(cp)}\n`); // no signatures
  });
});

describe('checkpoint + consistency: a rewritten log cannot pass against an exported checkpoint', () => {
  it('rebuilding after tampering and re-signing with the right key still fails consistency', () => {
    const leaves = Array.from({ length: 20 }, (_, i) => leafHash(Buffer.from(`event ${i}`)));
    const exported = signCheckpoint(
      { origin: cp.origin, size: 12, rootHash: rootFromLeafHashes(leaves.slice(0, 12)) },
      [signer],
    );
    const old = verifyCheckpoint(exported, [vkey]);
    const forged = [...leaves];
    forged[3] = leafHash(Buffer.from('event 3 (edited)'));
    const newNote = signCheckpoint({ origin: cp.origin, size: 20, rootHash: rootFromLeafHashes(forged) }, [
      signer,
    ]);
    const cur = verifyCheckpoint(newNote, [vkey]); // the signature is fine…
    expect(
      verifyConsistency(old.size, cur.size, old.rootHash, cur.rootHash, consistencyProof(forged, 12, 20)),
    ).toBe(false); // …consistency is not
    const honest = verifyCheckpoint(
      signCheckpoint({ origin: cp.origin, size: 20, rootHash: rootFromLeafHashes(leaves) }, [signer]),
      [vkey],
    );
    expect(
      verifyConsistency(
        old.size,
        honest.size,
        old.rootHash,
        honest.rootHash,
        consistencyProof(leaves, 12, 20),
      ),
    ).toBe(true);
  });
});

describe('SM2 checkpoints (audit.signature: sm2)', () => {
  const name = 'vigil.example/audit';
  const sm2Signer = createSm2NoteSigner(name, generateSm2SigningKey());
  const sm2Vkey = formatVerifierKey(name, sm2Signer.publicKey, 'sm2');
  const note = signCheckpoint(cp, [sm2Signer]);
  const [body, sigLine] = note.split('\n\n') as [string, string];
  const vkeyBytes = (k: string) => Buffer.from(/^[^+]+\+[0-9a-f]{8}\+(.+)$/.exec(k)![1]!, 'base64');
  const sigOf = (n: string) => Buffer.from(n.split('\n\n')[1]!.trim().split(' ')[2]!, 'base64');

  it('signs with r ‖ s under a key id that binds the type 0xff ‖ "sm2-sm3/1234567812345678"', () => {
    expect(sigLine.trimEnd()).toMatch(/^— vigil\.example\/audit [A-Za-z0-9+/]+=*$/);
    const raw = sigOf(note);
    expect(raw).toHaveLength(4 + 64);
    const type = Buffer.concat([Buffer.from([0xff]), Buffer.from('sm2-sm3/1234567812345678')]);
    const expectedId = createHash('sha256')
      .update(`${name}\n`)
      .update(type)
      .update(sm2Signer.publicKey)
      .digest()
      .subarray(0, 4);
    expect(raw.subarray(0, 4)).toEqual(expectedId);
    expect(keyIdOf(name, sm2Signer.publicKey, 'sm2')).toEqual(expectedId);
    expect(keyIdOf(name, sm2Signer.publicKey)).not.toEqual(expectedId); // Ed25519 type byte
    const v = parseVerifierKey(sm2Vkey);
    expect(v).toMatchObject({ name, algorithm: 'sm2' });
    expect(v.publicKey).toEqual(sm2Signer.publicKey);
    expect(vkeyBytes(sm2Vkey)).toEqual(Buffer.concat([type, sm2Signer.publicKey]));
    expect(parseVerifierKey(vkey).algorithm).toBe('ed25519');
  });

  it('verifies with the SM2 key only; a mixed trust list picks the key, and algorithm, by key id', () => {
    expect(verifyCheckpoint(note, [sm2Vkey], { origin: cp.origin })).toEqual({ ...cp, extensions: [] });
    expect(() => verifyCheckpoint(note, [vkey])).toThrow(/no signature from a trusted key/);
    const edNote = signCheckpoint(cp, [signer]);
    expect(verifyNoteSigners(note, [vkey, sm2Vkey]).verifiedBy.map((v) => v.algorithm)).toEqual(['sm2']);
    expect(verifyNoteSigners(edNote, [vkey, sm2Vkey]).verifiedBy.map((v) => v.algorithm)).toEqual([
      'ed25519',
    ]);
    const both = signCheckpoint(cp, [signer, sm2Signer]);
    expect(verifyNoteSigners(both, [sm2Vkey, vkey]).verifiedBy).toHaveLength(2);
  });

  it('fails for a tampered body or signature, (r, n - s), an impostor key or a bad verifier key', () => {
    const fails = (n: string, trusted: string[] = [sm2Vkey]) =>
      expect(() => verifyCheckpoint(n, trusted)).toThrow(CheckpointError);
    fails(note.replace('\n42\n', '\n43\n'));
    fails(note.replace('ww0001', 'ww0002'));
    for (const byte of [4, 20, 36, 67]) {
      const raw = sigOf(note);
      raw[byte]! ^= 0x40;
      fails(`${body}\n\n— ${name} ${raw.toString('base64')}\n`);
    }
    const raw = sigOf(note);
    const s = BigInt(`0x${raw.subarray(36).toString('hex')}`);
    const flipped = Buffer.concat([
      raw.subarray(0, 36),
      Buffer.from((SM2_CURVE.n - s).toString(16).padStart(64, '0'), 'hex'),
    ]);
    fails(`${body}\n\n— ${name} ${flipped.toString('base64')}\n`);
    fails(`${body}\n\n— ${name} ${raw.subarray(0, 67).toString('base64')}\n`); // truncated
    const impostor = createSm2NoteSigner(name, generateSm2SigningKey());
    fails(signCheckpoint(cp, [impostor]));
    fails(note, [formatVerifierKey(name, impostor.publicKey, 'sm2')]);
    // An SM2 signer cannot pass as the Ed25519 key of the same name, or the other way round.
    fails(note, [vkey]);
    fails(signCheckpoint(cp, [signer]));
    const offCurve = vkeyBytes(sm2Vkey);
    offCurve[offCurve.length - 1]! ^= 1;
    const badPub = offCurve.subarray(-65);
    const badId = createHash('sha256')
      .update(`${name}\n`)
      .update(offCurve)
      .digest()
      .subarray(0, 4)
      .toString('hex');
    expect(() => parseVerifierKey(`${name}+${badId}+${offCurve.toString('base64')}`)).toThrow(/not a point/);
    expect(() => formatVerifierKey(name, badPub.subarray(1), 'sm2')).toThrow(RangeError);
  });

  it('signs the note text with standard SM2 that OpenSSL 3 verifies (distid 1234567812345678)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-note-sm2-'));
    try {
      const write = (f: string, data: Buffer | string) => (writeFileSync(join(dir, f), data), join(dir, f));
      const spki = sm2PublicKeyToSpki(parseVerifierKey(sm2Vkey).publicKey);
      const pub = write(
        'pub.pem',
        `-----BEGIN PUBLIC KEY-----\n${spki.toString('base64')}\n-----END PUBLIC KEY-----\n`,
      );
      const verify = (text: string, sig: Buffer) => {
        const args = ['pkeyutl', '-verify', '-pubin', '-inkey', pub, '-rawin', '-digest', 'sm3'];
        args.push('-in', write('msg', text), '-sigfile', write('sig', sig));
        args.push('-pkeyopt', 'distid:1234567812345678');
        try {
          return execFileSync('openssl', args, { stdio: 'pipe' })
            .toString()
            .includes('Verified Successfully');
        } catch (err) {
          if (String((err as { stdout?: Buffer }).stdout).includes('Verification Failure')) return false;
          throw err;
        }
      };
      const sig = sm2SignatureToDer(sigOf(note).subarray(4));
      expect(verify(`${body}\n`, sig)).toBe(true);
      expect(verify(`${body}\n`.replace('42', '43'), sig)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
