import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { link, mkdir, open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

/** An object being written; the key is chosen only at commit (content addressing needs the whole stream first). */
export interface BlobWriter {
  write(chunk: Uint8Array): Promise<void>;
  /** Makes the object visible under `key` unless one exists already (then the new copy is dropped). */
  commit(key: string): Promise<'created' | 'exists'>;
  abort(): Promise<void>;
}

/**
 * Storage of opaque encrypted objects. The local-filesystem backend is the default. An
 * S3-compatible backend maps beginWrite to a multipart upload to a staging key, commit to
 * CopyObject with `If-None-Match: *` (or HEAD + copy) followed by deleting the staging key, read
 * to a ranged GET stream, and delete to DeleteObject.
 */
export interface BlobBackend {
  beginWrite(): Promise<BlobWriter>;
  /** Streams an object; throws BlobNotFoundError when absent. */
  read(key: string): AsyncIterable<Buffer>;
  exists(key: string): Promise<boolean>;
  /** Idempotent. */
  delete(key: string): Promise<void>;
}

/** No object under that key (never stored, or deleted by retention). */
export class BlobNotFoundError extends Error {
  readonly code = 'VIGIL_BLOB_NOT_FOUND';
  constructor(readonly key: string) {
    super(`blob ${key} not found`);
    this.name = 'BlobNotFoundError';
  }
}

const KEY = /^[A-Za-z0-9_-]{1,64}(\/[0-9a-f]{2}){2}\/[0-9a-f]{64}$/;

/** Throws unless `key` is a well-formed blob key (guards against path traversal). */
export function assertBlobKey(key: string): void {
  if (!KEY.test(key)) throw new RangeError(`invalid blob key ${JSON.stringify(key)}`);
}

/** Local filesystem: `<root>/<corpId>/<aa>/<bb>/<address>`, written to `<root>/.tmp` then hard-linked into place. */
export class FsBlobBackend implements BlobBackend {
  constructor(private readonly root: string) {}

  private file(key: string): string {
    assertBlobKey(key);
    return path.join(this.root, ...key.split('/'));
  }

  async beginWrite(): Promise<BlobWriter> {
    const tmpDir = path.join(this.root, '.tmp');
    await mkdir(tmpDir, { recursive: true, mode: 0o700 });
    const tmp = path.join(tmpDir, `${process.pid}-${randomBytes(8).toString('hex')}`);
    const fh: FileHandle = await open(tmp, 'wx', 0o600);
    let closed = false;
    const close = async (): Promise<void> => {
      if (!closed) {
        closed = true;
        await fh.close();
      }
    };
    return {
      write: async (chunk) => {
        await fh.write(chunk);
      },
      commit: async (key) => {
        const dest = this.file(key);
        try {
          await fh.sync();
          await close();
          await mkdir(path.dirname(dest), { recursive: true, mode: 0o700 });
          let result: 'created' | 'exists';
          try {
            await link(tmp, dest); // atomic create-if-absent, unlike rename
            result = 'created';
          } catch (err) {
            const code = (err as NodeJS.ErrnoException).code;
            if (code === 'EEXIST') result = 'exists';
            else if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EXDEV') {
              // filesystem without hard links: rename, accepting a benign overwrite race
              if (await this.exists(key)) result = 'exists';
              else {
                await rename(tmp, dest);
                result = 'created';
              }
            } else throw err;
          }
          if (result === 'created') await fsyncDir(path.dirname(dest));
          return result;
        } finally {
          await rm(tmp, { force: true });
        }
      },
      abort: async () => {
        await close();
        await rm(tmp, { force: true });
      },
    };
  }

  async *read(key: string): AsyncIterable<Buffer> {
    const file = this.file(key);
    try {
      await stat(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new BlobNotFoundError(key);
      throw err;
    }
    for await (const chunk of createReadStream(file, { highWaterMark: 256 * 1024 })) yield chunk as Buffer;
  }

  async exists(key: string): Promise<boolean> {
    try {
      await stat(this.file(key));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.file(key), { force: true });
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const dh = await open(dir, 'r');
  try {
    await dh.sync();
  } catch {
    // not supported everywhere; the link itself is atomic
  } finally {
    await dh.close();
  }
}
