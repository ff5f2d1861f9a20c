import { createHash, randomBytes } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AeadAlg } from '../cipher.js';
import { DecryptionError } from '../errors.js';
import { BlobNotFoundError, FsBlobBackend } from './backend.js';
import { BlobStore } from './blobstore.js';

let root: string;
const corpKeys = new Map<string, Buffer>([
  ['ww01', randomBytes(32)],
  ['ww02', randomBytes(32)],
]);
const corpKey = async (c: string) => corpKeys.get(c)!;
const CHUNK = 1024;

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'vigil-blob-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const store = (alg: AeadAlg = 'A256GCM') =>
  new BlobStore({ backend: new FsBlobBackend(root), corpKey, alg, chunkSize: CHUNK });
const fileOf = (corp: string, address: string) =>
  path.join(root, ...BlobStore.keyOf(corp, address).split('/'));

async function* pieces(data: Buffer): AsyncIterable<Buffer> {
  let off = 0;
  while (off < data.length) {
    const n = 1 + Math.floor(Math.random() * 3000);
    yield data.subarray(off, off + n);
    off += n;
  }
}

describe.each<AeadAlg>(['A256GCM', 'SM4GCM'])('BlobStore (%s)', (alg) => {
  it('round-trips sizes around chunk boundaries, streamed in odd pieces', async () => {
    const bs = store(alg);
    for (const size of [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 17]) {
      const data = randomBytes(size);
      const r = await bs.put('ww01', pieces(data));
      expect(r).toMatchObject({ size, created: true });
      expect(await bs.getBuffer('ww01', r.address)).toEqual(data);
    }
  });
});

describe('BlobStore', () => {
  it('deduplicates within a corp, not across corps, and never exposes a plain hash', async () => {
    const bs = store();
    const data = randomBytes(5000);
    const a = await bs.put('ww01', data);
    const b = await bs.put('ww01', pieces(data));
    const c = await bs.put('ww02', data);
    expect(b).toEqual({ ...a, created: false });
    expect(c.address).not.toBe(a.address);
    expect(c.created).toBe(true);
    expect(a.address).not.toBe(createHash('sha256').update(data).digest('hex'));
    expect(await bs.addressOf('ww01', data)).toBe(a.address);
    expect(await bs.verifyAddress('ww01', data, a.address)).toBe(true);
    expect(await readdir(path.join(root, '.tmp'))).toEqual([]);
    const stored = await readFile(fileOf('ww01', a.address));
    expect(stored.includes(data.subarray(0, 64))).toBe(false);
  });

  it('concurrent puts of the same content create it once', async () => {
    const bs = store();
    const data = randomBytes(10_000);
    const rs = await Promise.all([...Array(6)].map(() => bs.put('ww01', pieces(data))));
    expect(rs.filter((r) => r.created)).toHaveLength(1);
    expect(await bs.getBuffer('ww01', rs[0]!.address)).toEqual(data);
  });

  it('streams a multi-megabyte object chunk by chunk', async () => {
    const bs = new BlobStore({ backend: new FsBlobBackend(root), corpKey });
    const data = randomBytes(5 * 1024 * 1024 + 123);
    const r = await bs.put('ww01', pieces(data));
    let n = 0;
    let max = 0;
    const h = createHash('sha256');
    for await (const part of bs.get('ww01', r.address)) {
      n++;
      max = Math.max(max, part.length);
      h.update(part);
    }
    expect(h.digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
    expect(max).toBe(64 * 1024);
    expect(n).toBe(Math.ceil(data.length / (64 * 1024)));
  });

  describe('tampering fails with DecryptionError', () => {
    const data = randomBytes(3 * CHUNK + 100);
    const sealed = CHUNK + 16;
    let bs: BlobStore;
    let address: string;
    let file: string;
    let orig: Buffer;
    let headerLen: number;
    beforeEach(async () => {
      bs = store();
      address = (await bs.put('ww01', data)).address;
      file = fileOf('ww01', address);
      orig = await readFile(file);
      headerLen = orig.length - (3 * sealed + 100 + 16);
    });
    const expectFail = async () => {
      const err = await bs.getBuffer('ww01', address).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DecryptionError);
    };

    it('truncation at a chunk boundary (final-chunk flag)', async () => {
      await writeFile(file, orig.subarray(0, headerLen + 3 * sealed));
      await expectFail();
      await writeFile(file, orig.subarray(0, headerLen + sealed));
      await expectFail();
      await writeFile(file, orig.subarray(0, headerLen));
      await expectFail();
    });
    it('truncation inside a chunk, and appended bytes', async () => {
      await writeFile(file, orig.subarray(0, orig.length - 5));
      await expectFail();
      await writeFile(file, Buffer.concat([orig, Buffer.from([0])]));
      await expectFail();
    });
    it('bit flips anywhere (sampled)', async () => {
      for (const i of [
        0,
        4,
        5,
        9,
        17,
        18,
        headerLen - 1,
        headerLen,
        headerLen + sealed + 3,
        orig.length - 1,
      ]) {
        const t = Buffer.from(orig);
        t[i]! ^= 0x10;
        await writeFile(file, t);
        await expectFail();
      }
    });
    it('reordered chunks', async () => {
      const h = orig.subarray(0, headerLen);
      const c = [0, 1, 2].map((i) => orig.subarray(headerLen + i * sealed, headerLen + (i + 1) * sealed));
      await writeFile(file, Buffer.concat([h, c[1]!, c[0]!, c[2]!, orig.subarray(headerLen + 3 * sealed)]));
      await expectFail();
    });
    it('an object copied under another address or another corp', async () => {
      const other = (await bs.put('ww01', randomBytes(10))).address;
      await copyFile(file, fileOf('ww01', other));
      await expect(bs.getBuffer('ww01', other)).rejects.toBeInstanceOf(DecryptionError);
      const dest = fileOf('ww02', address);
      await mkdir(path.dirname(dest), { recursive: true });
      await copyFile(file, dest);
      await expect(bs.getBuffer('ww02', address)).rejects.toBeInstanceOf(DecryptionError);
    });
  });

  it('reports missing blobs, deletes, rejects bad keys and cleans up after a failed source', async () => {
    const bs = store();
    const missing = 'a'.repeat(64);
    await expect(bs.getBuffer('ww01', missing)).rejects.toBeInstanceOf(BlobNotFoundError);
    const r = await bs.put('ww01', Buffer.from('x'));
    expect(await bs.has('ww01', r.address)).toBe(true);
    await bs.delete('ww01', r.address);
    expect(await bs.has('ww01', r.address)).toBe(false);
    expect(() => BlobStore.keyOf('../x', missing)).toThrow(RangeError);
    expect(() => BlobStore.keyOf('ww01', '../../etc/passwd')).toThrow(RangeError);
    async function* broken(): AsyncIterable<Buffer> {
      yield Buffer.alloc(5000);
      throw new Error('network dropped');
    }
    await expect(bs.put('ww01', broken())).rejects.toThrow('network dropped');
    expect(await readdir(path.join(root, '.tmp'))).toEqual([]);
  });
});
