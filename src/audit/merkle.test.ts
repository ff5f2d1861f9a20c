import { randomBytes, randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  consistencyProof,
  EMPTY_ROOT,
  inclusionProof,
  leafHash,
  MerkleAccumulator,
  rootFromInclusionProof,
  rootFromLeafHashes,
  verifyConsistency,
  verifyInclusion,
} from './merkle.js';

const h = (s: string): Buffer => Buffer.from(s, 'hex');

// Vectors from transparency-dev/merkle proof/verify_test.go (also in shared/reference/security-notes.md).
const LEAVES = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
].map(h);
const ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
].map(h);
const LH = LEAVES.map(leafHash);
// [1-based leaf, size, proof]
const INCLUSION: Array<[number, number, string[]]> = [
  [1, 1, []],
  [
    1,
    8,
    [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  ],
  [
    6,
    8,
    [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  ],
  [3, 3, ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125']],
  [
    2,
    5,
    [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  ],
];
const CONSISTENCY: Array<[number, number, string[]]> = [
  [1, 1, []],
  [
    1,
    8,
    [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  ],
  [
    6,
    8,
    [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  ],
  [
    2,
    5,
    [
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  ],
  [
    6,
    7,
    [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  ],
];
const SOME = h('abacaba000000000000000000000000000000000000000000060061e00123456');

function flip(b: Buffer, mask: number): Buffer {
  const c = Buffer.from(b);
  c[0]! ^= mask;
  return c;
}

/** The probe list of transparency-dev/merkle corruptInclusionProof: every probe must fail. */
function inclusionProbes(
  i: number,
  n: number,
  proof: Buffer[],
  root: Buffer,
  leaf: Buffer,
): Array<[string, () => boolean]> {
  const v = (ii: number, nn: number, r: Buffer, l: Buffer, p: Buffer[]) => () =>
    verifyInclusion(ii, nn, l, p, r);
  const probes: Array<[string, () => boolean]> = [
    ['leafIndex - 1', v(i - 1, n, root, leaf, proof)],
    ['leafIndex + 1', v(i + 1, n, root, leaf, proof)],
    ['leafIndex ^ 2', v(i ^ 2, n, root, leaf, proof)],
    ['treeSize * 2', v(i, n * 2, root, leaf, proof)],
    ['treeSize / 2', v(i, Math.floor(n / 2), root, leaf, proof)],
    ['wrong leaf', v(i, n, root, Buffer.from('WrongLeaf'), proof)],
    ['wrong leaf (hash-sized)', v(i, n, root, leafHash(Buffer.from('WrongLeaf')), proof)],
    ['empty root', v(i, n, EMPTY_ROOT, leaf, proof)],
    ['random root', v(i, n, SOME, leaf, proof)],
    ['trailing garbage', v(i, n, root, leaf, [...proof, Buffer.alloc(0)])],
    ['trailing root', v(i, n, root, leaf, [...proof, root])],
    ['preceding garbage', v(i, n, root, leaf, [Buffer.alloc(0), ...proof])],
    ['preceding root', v(i, n, root, leaf, [root, ...proof])],
  ];
  proof.forEach((_, k) =>
    probes.push([
      `modified proof[${k}] bit 3`,
      v(
        i,
        n,
        root,
        leaf,
        proof.map((p, j) => (j === k ? flip(p, 8) : p)),
      ),
    ]),
  );
  if (proof.length > 0) probes.push(['removed component', v(i, n, root, leaf, proof.slice(0, -1))]);
  if (proof.length > 1)
    probes.push(['inserted component', v(i, n, root, leaf, [proof[0]!, SOME, ...proof.slice(1)])]);
  return probes;
}

function consistencyProbes(
  s1: number,
  s2: number,
  r1: Buffer,
  r2: Buffer,
  proof: Buffer[],
): Array<[string, () => boolean]> {
  const v = (a: number, b: number, x: Buffer, y: Buffer, p: Buffer[]) => () =>
    verifyConsistency(a, b, x, y, p);
  const probes: Array<[string, () => boolean]> = [
    ['size1 - 1', v(s1 - 1, s2, r1, r2, proof)],
    ['size1 + 1', v(s1 + 1, s2, r1, r2, proof)],
    ['size1 ^ 2', v(s1 ^ 2, s2, r1, r2, proof)],
    ['size2 * 2', v(s1, s2 * 2, r1, r2, proof)],
    ['size2 / 2', v(s1, Math.floor(s2 / 2), r1, r2, proof)],
    ['wrong root1', v(s1, s2, Buffer.from('WrongRoot'), r2, proof)],
    ['wrong root2', v(s1, s2, r1, Buffer.from('WrongRoot'), proof)],
    ['swapped roots', v(s1, s2, r2, r1, proof)],
    ['empty proof', v(s1, s2, r1, r2, [])],
    ['trailing garbage', v(s1, s2, r1, r2, [...proof, Buffer.alloc(0)])],
    ['trailing root1', v(s1, s2, r1, r2, [...proof, r1])],
    ['trailing root2', v(s1, s2, r1, r2, [...proof, r2])],
    ['preceding garbage', v(s1, s2, r1, r2, [Buffer.alloc(0), ...proof])],
    ['preceding root1', v(s1, s2, r1, r2, [r1, ...proof])],
    ['preceding root2', v(s1, s2, r1, r2, [r2, ...proof])],
    ['preceding proof[0]', v(s1, s2, r1, r2, [proof[0]!, ...proof])],
    ['time travel', v(s2, s1, r2, r1, proof)],
  ];
  if (proof.length > 0) probes.push(['truncated proof', v(s1, s2, r1, r2, proof.slice(0, -1))]);
  proof.forEach((_, k) =>
    probes.push([
      `modified proof[${k}] bit 4`,
      v(
        s1,
        s2,
        r1,
        r2,
        proof.map((p, j) => (j === k ? flip(p, 16) : p)),
      ),
    ]),
  );
  return probes;
}

describe('RFC 6962 tree hash', () => {
  it('matches the reference roots for sizes 0..8', () => {
    expect(rootFromLeafHashes([]).toString('hex')).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    for (let n = 1; n <= 8; n++) expect(rootFromLeafHashes(LH.slice(0, n)), `n=${n}`).toEqual(ROOTS[n - 1]);
  });

  it('the accumulator gives the same roots, and survives a save/restore', () => {
    const acc = MerkleAccumulator.empty();
    expect(acc.root()).toEqual(EMPTY_ROOT);
    for (let n = 1; n <= 8; n++) {
      acc.append(LH[n - 1]!);
      expect(acc.root()).toEqual(ROOTS[n - 1]);
      expect(MerkleAccumulator.fromState(acc.state()).root()).toEqual(ROOTS[n - 1]);
    }
    const leaves = Array.from({ length: 300 }, () => leafHash(randomBytes(8)));
    const a = MerkleAccumulator.empty();
    for (const [i, l] of leaves.entries()) {
      a.append(l);
      if (i % 37 === 0) expect(a.root()).toEqual(rootFromLeafHashes(leaves.slice(0, i + 1)));
    }
    expect(() => MerkleAccumulator.fromState({ size: 3, hashes: [EMPTY_ROOT] })).toThrow(RangeError);
  });
});

describe('inclusion proofs', () => {
  for (const [leaf, size, proofHex] of INCLUSION) {
    const proof = proofHex.map(h);
    const root = ROOTS[size - 1]!;
    const lh = LH[leaf - 1]!;
    it(`generates and verifies the reference proof for leaf ${leaf - 1} of ${size}`, () => {
      expect(inclusionProof(LH, leaf - 1, size)).toEqual(proof);
      expect(rootFromInclusionProof(leaf - 1, size, lh, proof)).toEqual(root);
      expect(verifyInclusion(leaf - 1, size, lh, proof, root)).toBe(true);
    });
    it(`rejects every corrupted probe for leaf ${leaf - 1} of ${size}`, () => {
      const accepted = inclusionProbes(leaf - 1, size, proof, root, lh)
        .filter(([, f]) => f())
        .map(([d]) => d);
      expect(accepted).toEqual([]);
    });
  }

  it('rejects degenerate parameters', () => {
    for (const [i, n] of [
      [0, 0],
      [1, 0],
      [2, 1],
      [-1, 4],
    ] as const) {
      expect(verifyInclusion(i, n, SOME, [], EMPTY_ROOT)).toBe(false);
      expect(verifyInclusion(i, n, Buffer.alloc(0), [], EMPTY_ROOT)).toBe(false);
    }
    const l = leafHash(Buffer.from('data'));
    expect(verifyInclusion(0, 1, l, [], l)).toBe(true);
    expect(verifyInclusion(0, 1, l, [], Buffer.alloc(0))).toBe(false);
    expect(verifyInclusion(0, 1, Buffer.alloc(0), [], l)).toBe(false);
  });

  it('random trees: every generated proof verifies; wrong index or bit flips fail', () => {
    for (let t = 0; t < 40; t++) {
      const n = 1 + randomInt(200);
      const leaves = Array.from({ length: n }, () => leafHash(randomBytes(4)));
      const root = rootFromLeafHashes(leaves);
      for (let k = 0; k < 5; k++) {
        const i = randomInt(n);
        const p = inclusionProof(leaves, i, n);
        expect(verifyInclusion(i, n, leaves[i]!, p, root)).toBe(true);
        if (n > 1) expect(verifyInclusion((i + 1) % n, n, leaves[i]!, p, root)).toBe(false);
        if (p.length > 0) {
          const j = randomInt(p.length);
          expect(
            verifyInclusion(
              i,
              n,
              leaves[i]!,
              p.map((x, q) => (q === j ? flip(x, 1 << randomInt(8)) : x)),
              root,
            ),
          ).toBe(false);
        }
      }
    }
  });
});

describe('consistency proofs', () => {
  for (const [s1, s2, proofHex] of CONSISTENCY) {
    const proof = proofHex.map(h);
    const r1 = ROOTS[s1 - 1]!;
    const r2 = ROOTS[s2 - 1]!;
    it(`generates and verifies the reference proof ${s1} → ${s2}`, () => {
      expect(consistencyProof(LH, s1, s2)).toEqual(proof);
      expect(verifyConsistency(s1, s2, r1, r2, proof)).toBe(true);
    });
    if (proof.length > 0) {
      it(`rejects every corrupted probe for ${s1} → ${s2}`, () => {
        const accepted = consistencyProbes(s1, s2, r1, r2, proof)
          .filter(([, f]) => f())
          .map(([d]) => d);
        expect(accepted).toEqual([]);
      });
    }
  }

  it('edge cases: 0/0 and 0/n always consistent, equal sizes need equal roots, time travel fails', () => {
    const a = Buffer.from("don't care 1");
    const b = Buffer.from("don't care 2");
    expect(verifyConsistency(0, 0, a, b, [])).toBe(false);
    expect(verifyConsistency(1, 1, a, b, [])).toBe(false);
    expect(verifyConsistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])).toBe(true);
    expect(verifyConsistency(0, 1, a, b, [])).toBe(true);
    expect(verifyConsistency(1, 1, ROOTS[0]!, ROOTS[0]!, [])).toBe(true);
    expect(verifyConsistency(1, 0, a, b, [])).toBe(false);
    expect(verifyConsistency(2, 1, a, b, [])).toBe(false);
    expect(verifyConsistency(1, 2, a, b, [])).toBe(false);
    expect(verifyConsistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT])).toBe(false);
    expect(verifyConsistency(0, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT])).toBe(false);
    expect(verifyConsistency(1, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT])).toBe(false);
  });

  it('random append sequences: every earlier root is consistent with every later root; a rewritten leaf breaks it', () => {
    const leaves: Buffer[] = [];
    const roots: Buffer[] = [EMPTY_ROOT];
    for (let i = 0; i < 70; i++) {
      leaves.push(leafHash(randomBytes(6)));
      roots.push(rootFromLeafHashes(leaves));
    }
    for (let t = 0; t < 300; t++) {
      const s2 = randomInt(1, 71);
      const s1 = randomInt(0, s2 + 1);
      const p = consistencyProof(leaves, s1, s2);
      expect(verifyConsistency(s1, s2, roots[s1]!, roots[s2]!, p), `${s1}→${s2}`).toBe(true);
      if (s1 > 0 && s1 < s2) {
        // a log that rewrote an old entry and re-signed cannot prove consistency with the old root
        const forged = [...leaves];
        forged[randomInt(s1)] = leafHash(Buffer.from('tampered'));
        const fp = consistencyProof(forged, s1, s2);
        expect(verifyConsistency(s1, s2, roots[s1]!, rootFromLeafHashes(forged.slice(0, s2)), fp)).toBe(
          false,
        );
      }
    }
  });
});
