import { describe, expect, it } from 'vitest';
import { prng } from '../../../test/support/prng.js';
import { buildEvidencePackage } from './build.js';
import { sampleEvidenceInput, testEvidenceSigner } from './test-fixture.js';
import { verifyEvidencePackage } from './verify.js';

/** Positions whose change verification missed, as `offset^mask` (empty when every change failed). */
function undetected(zip: Buffer, masks: (offset: number) => number[]): string[] {
  const missed: string[] = [];
  for (let offset = 0; offset < zip.length; offset++) {
    for (const mask of masks(offset)) {
      const copy = Buffer.from(zip);
      copy[offset]! ^= mask;
      const result = verifyEvidencePackage(copy);
      if (result.ok || result.problems.length === 0) missed.push(`${offset}^${mask.toString(16)}`);
    }
  }
  return missed;
}

describe('evidence package tamper evidence', () => {
  it('fails verification for every single-byte change at every position', async () => {
    const zip = await buildEvidencePackage(sampleEvidenceInput(), testEvidenceSigner());
    expect(zip.length).toBeLessThan(16_384); // small enough to flip every byte
    expect(verifyEvidencePackage(zip).ok).toBe(true);

    // Each position: the lowest bit, the whole byte, and one random non-zero mask (seeded).
    const random = prng(0x5eed);
    const masks = (): number[] => [0x01, 0xff, 1 + Math.floor(random() * 255)];
    expect(undetected(zip, masks)).toEqual([]);
  });

  it('fails verification for every truncation and for inserted bytes', async () => {
    const zip = await buildEvidencePackage(sampleEvidenceInput(), testEvidenceSigner());
    for (let length = 0; length < zip.length; length++)
      expect(verifyEvidencePackage(zip.subarray(0, length)).ok, `truncated to ${length}`).toBe(false);
    const random = prng(42);
    for (let i = 0; i < 300; i++) {
      const at = Math.floor(random() * (zip.length + 1));
      const grown = Buffer.concat([
        zip.subarray(0, at),
        Buffer.from([Math.floor(random() * 256)]),
        zip.subarray(at),
      ]);
      expect(verifyEvidencePackage(grown).ok, `byte inserted at ${at}`).toBe(false);
    }
  });

  it('names where a header byte was changed', async () => {
    const zip = await buildEvidencePackage(sampleEvidenceInput(), testEvidenceSigner());
    const copy = Buffer.from(zip);
    const eocd = copy.length - 22;
    copy[copy.readUInt32LE(eocd + 16) + 4]! ^= 0x03; // "version made by" of the first central entry
    expect(verifyEvidencePackage(copy).problems).toEqual([
      `ZIP is not in canonical form: byte ${copy.readUInt32LE(eocd + 16) + 4} (central directory entry of manifest.json) differs from a deterministic rebuild`,
    ]);
  });
});
