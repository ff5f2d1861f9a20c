import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  CheckpointError,
  createNoteSigner,
  formatCheckpointBody,
  generateSigningKey,
  keyIdOf,
  parseCheckpoint,
  parseVerifierKey,
  signCheckpoint,
  verifierKeyOf,
  verifyCheckpoint,
  verifyNote,
  type Checkpoint,
} from './checkpoint.js';
import { consistencyProof, leafHash, rootFromLeafHashes, verifyConsistency } from './merkle.js';

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
