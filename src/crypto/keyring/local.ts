/**
 * `local` keyring: one JSON key file holding KEK versions and named secrets.
 *
 * Protection: with a passphrase, every key is sealed with AES-256-GCM under
 * scrypt(passphrase, salt) (N=2^17, r=8, p=1 by default — ASVS 5.0 App. C — parameters stored in
 * the file). Without a passphrase the keys are stored in the clear and the file's 0600 mode is the
 * only protection, so we refuse to open a file readable by group or others. Mutations take a lock
 * file and re-read the file first, then replace it atomically, so several Vigil processes can
 * share one key file.
 */
import { randomBytes, scrypt as scryptCb, type ScryptOptions } from 'node:crypto';
import { chmod, mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { aeadOpen, aeadSeal, encodeParts, NONCE_BYTES } from '../cipher.js';
import { DecryptionError, KeyringError } from '../errors.js';
import { atomicWriteFile, withFileLock } from './file-lock.js';
import { wrapAad } from './wrap-format.js';
import { assertSecretName, type KekVersionInfo, type Keyring, type WrappedDek } from './types.js';

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/** ASVS 5.0 Appendix C minimum for scrypt. */
export const DEFAULT_SCRYPT: ScryptParams = { N: 2 ** 17, r: 8, p: 1 };

export interface LocalKeyringOptions {
  /** Path of the JSON key file; its directory is created (0700) if missing. */
  path: string;
  /** When set, keys are sealed under a scrypt-derived key; otherwise only file permissions protect them. */
  passphrase?: string;
  /** scrypt cost when creating a new file. Lower values are for tests only. */
  scrypt?: ScryptParams;
}

interface FileKek {
  version: number;
  state: 'active' | 'destroyed';
  createdAt: string;
  destroyedAt?: string;
  material?: string; // base64: raw key (mode none) or nonce‖ct‖tag (mode scrypt)
}

interface FileSecret {
  name: string;
  createdAt: string;
  material: string;
}

type Protection = { mode: 'none' } | ({ mode: 'scrypt'; salt: string; verifier: string } & ScryptParams);

interface KeyFile {
  format: 'vigil-local-keyring';
  formatVersion: 1;
  createdAt: string;
  protection: Protection;
  keks: FileKek[];
  secrets: FileSecret[];
}

const VERIFIER_PLAINTEXT = Buffer.from('vigil-local-keyring verifier v1');

function scrypt(passphrase: string, salt: Buffer, p: ScryptParams): Promise<Buffer> {
  const opts: ScryptOptions = { N: p.N, r: p.r, p: p.p, maxmem: 128 * p.N * p.r * p.p + 32 * 1024 * 1024 };
  return new Promise((resolve, reject) =>
    scryptCb(passphrase, salt, 32, opts, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

/** Opens the key file, creating it (with KEK version 1) if it does not exist. */
export async function openOrCreateLocalKeyring(options: LocalKeyringOptions): Promise<LocalKeyring> {
  const file = path.resolve(options.path);
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  // The lock serialises creation, so two processes starting at once cannot each write a new file.
  const raw = await withFileLock(file, async () => {
    const existing = await readKeyFile(file);
    if (existing) return existing;
    const created = await newKeyFile(options);
    await atomicWriteFile(file, serialize(created.file));
    await chmod(file, 0o600);
    return created.file;
  });
  const master = await deriveMaster(raw.protection, options.passphrase, file);
  return new LocalKeyring(file, raw, master);
}

async function newKeyFile(options: LocalKeyringOptions): Promise<{ file: KeyFile }> {
  const now = new Date().toISOString();
  let protection: Protection = { mode: 'none' };
  let master: Buffer | undefined;
  if (options.passphrase !== undefined) {
    if (options.passphrase.length < 12)
      throw new KeyringError('keyring passphrase must be at least 12 characters');
    const params = options.scrypt ?? DEFAULT_SCRYPT;
    const salt = randomBytes(16);
    master = await scrypt(options.passphrase, salt, params);
    protection = { mode: 'scrypt', ...params, salt: salt.toString('base64'), verifier: '' };
    protection.verifier = seal(master, VERIFIER_PLAINTEXT, ['verifier']).toString('base64');
  }
  const kek = randomBytes(32);
  const file: KeyFile = {
    format: 'vigil-local-keyring',
    formatVersion: 1,
    createdAt: now,
    protection,
    keks: [{ version: 1, state: 'active', createdAt: now, material: protect(master, kek, ['kek', '1']) }],
    secrets: [],
  };
  return { file };
}

async function readKeyFile(file: string): Promise<KeyFile | undefined> {
  let st;
  try {
    st = await stat(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  if ((st.mode & 0o077) !== 0) {
    throw new KeyringError(
      `key file ${file} is accessible by group or others (mode ${(st.mode & 0o777).toString(8)}); run: chmod 600 ${file}`,
      { code: 'VIGIL_KEYFILE_PERMISSIONS' },
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (cause) {
    throw new KeyringError(`key file ${file} is not valid JSON`, { cause });
  }
  const kf = parsed as KeyFile;
  if (
    kf?.format !== 'vigil-local-keyring' ||
    kf.formatVersion !== 1 ||
    !Array.isArray(kf.keks) ||
    !Array.isArray(kf.secrets)
  ) {
    throw new KeyringError(`${file} is not a Vigil key file (format vigil-local-keyring v1)`);
  }
  return kf;
}

async function deriveMaster(
  p: Protection,
  passphrase: string | undefined,
  file: string,
): Promise<Buffer | undefined> {
  if (p.mode === 'none') {
    if (passphrase !== undefined) {
      throw new KeyringError(
        `key file ${file} was created without a passphrase but one is configured; remove the passphrase setting or re-create the file`,
      );
    }
    return undefined;
  }
  if (passphrase === undefined)
    throw new KeyringError(`key file ${file} is passphrase-protected; configure the keyring passphrase`);
  const master = await scrypt(passphrase, Buffer.from(p.salt, 'base64'), p);
  try {
    unseal(master, Buffer.from(p.verifier, 'base64'), ['verifier']);
  } catch {
    throw new KeyringError(`wrong passphrase for key file ${file}`, { code: 'VIGIL_KEYFILE_PASSPHRASE' });
  }
  return master;
}

function seal(master: Buffer, value: Uint8Array, label: string[]): Buffer {
  const nonce = randomBytes(NONCE_BYTES);
  return Buffer.concat([
    nonce,
    aeadSeal('A256GCM', master, nonce, value, encodeParts(['vigil-local-keyring', ...label])),
  ]);
}

function unseal(master: Buffer, blob: Buffer, label: string[]): Buffer {
  return aeadOpen(
    'A256GCM',
    master,
    blob.subarray(0, NONCE_BYTES),
    blob.subarray(NONCE_BYTES),
    encodeParts(['vigil-local-keyring', ...label]),
  );
}

function protect(master: Buffer | undefined, value: Uint8Array, label: string[]): string {
  return (master ? seal(master, value, label) : Buffer.from(value)).toString('base64');
}

function serialize(kf: KeyFile): string {
  return JSON.stringify(kf, null, 2) + '\n';
}

/** Key-file keyring. Obtain with openOrCreateLocalKeyring. */
export class LocalKeyring implements Keyring {
  readonly provider = 'local';
  private keks = new Map<number, Buffer>();
  private secrets = new Map<string, Buffer>();
  private fileStamp = '';

  constructor(
    private readonly file: string,
    private data: KeyFile,
    private readonly master: Buffer | undefined,
  ) {
    this.load(data);
  }

  /** Path of the key file (for diagnostics; never log its content). */
  get path(): string {
    return this.file;
  }

  private open(material: string, label: string[]): Buffer {
    const b = Buffer.from(material, 'base64');
    if (!this.master) return b;
    try {
      return unseal(this.master, b, label);
    } catch (cause) {
      throw new KeyringError(
        `key file ${this.file}: entry ${label.join(' ')} failed authentication (file altered?)`,
        { cause },
      );
    }
  }

  private load(data: KeyFile): void {
    const keks = new Map<number, Buffer>();
    for (const k of data.keks)
      if (k.state === 'active' && k.material)
        keks.set(k.version, this.open(k.material, ['kek', String(k.version)]));
    const secrets = new Map<string, Buffer>();
    for (const s of data.secrets) secrets.set(s.name, this.open(s.material, ['secret', s.name]));
    for (const b of this.keks.values()) b.fill(0);
    this.keks = keks;
    this.secrets = secrets;
    this.data = data;
  }

  /** Re-reads the file if another process changed it. */
  private async refresh(): Promise<void> {
    const st = await stat(this.file);
    const stamp = `${st.ino}:${st.size}:${st.mtimeMs}`;
    if (stamp === this.fileStamp) return;
    const kf = await readKeyFile(this.file);
    if (!kf) throw new KeyringError(`key file ${this.file} disappeared`);
    this.load(kf);
    this.fileStamp = stamp;
  }

  /** Read-modify-write under the lock, starting from the current file content. */
  private async mutate<T>(fn: (kf: KeyFile) => T): Promise<T> {
    return withFileLock(this.file, async () => {
      this.fileStamp = '';
      await this.refresh();
      const next = structuredClone(this.data);
      const result = fn(next);
      await atomicWriteFile(this.file, serialize(next));
      this.load(next);
      return result;
    });
  }

  async listKekVersions(): Promise<KekVersionInfo[]> {
    await this.refresh();
    return this.data.keks
      .map((k) => ({ version: k.version, state: k.state, createdAt: k.createdAt }))
      .sort((a, b) => a.version - b.version);
  }

  async currentKekVersion(): Promise<number> {
    await this.refresh();
    return currentOf(this.data, this.file);
  }

  async createKekVersion(): Promise<number> {
    return this.mutate((kf) => {
      const version = Math.max(0, ...kf.keks.map((k) => k.version)) + 1;
      kf.keks.push({
        version,
        state: 'active',
        createdAt: new Date().toISOString(),
        material: protect(this.master, randomBytes(32), ['kek', String(version)]),
      });
      return version;
    });
  }

  async destroyKekVersion(version: number): Promise<void> {
    await this.mutate((kf) => {
      const k = kf.keks.find((x) => x.version === version);
      if (!k) throw new KeyringError(`KEK version ${version} does not exist`);
      if (k.state === 'destroyed') return;
      if (currentOf(kf, this.file) === version)
        throw new KeyringError(`KEK version ${version} is current; create a new version and rewrap first`);
      k.state = 'destroyed';
      k.destroyedAt = new Date().toISOString();
      delete k.material;
    });
  }

  async wrapDek(dek: Uint8Array, aad: Uint8Array): Promise<WrappedDek> {
    const kekVersion = await this.currentKekVersion();
    const kek = this.keks.get(kekVersion)!;
    const nonce = randomBytes(NONCE_BYTES);
    return {
      kekVersion,
      wrapped: Buffer.concat([nonce, aeadSeal('A256GCM', kek, nonce, dek, wrapAad(kekVersion, aad))]),
    };
  }

  async unwrapDek(w: WrappedDek, aad: Uint8Array): Promise<Buffer> {
    let kek = this.keks.get(w.kekVersion);
    if (!kek) {
      await this.refresh();
      kek = this.keks.get(w.kekVersion);
    }
    if (!kek) {
      const known = this.data.keks.find((k) => k.version === w.kekVersion);
      throw new KeyringError(
        known
          ? `KEK version ${w.kekVersion} was destroyed`
          : `KEK version ${w.kekVersion} is unknown to ${this.file}`,
        {
          code: known ? 'VIGIL_KEK_DESTROYED' : 'VIGIL_KEK_UNKNOWN',
        },
      );
    }
    if (w.wrapped.length < NONCE_BYTES) throw new DecryptionError();
    return aeadOpen(
      'A256GCM',
      kek,
      w.wrapped.subarray(0, NONCE_BYTES),
      w.wrapped.subarray(NONCE_BYTES),
      wrapAad(w.kekVersion, aad),
    );
  }

  async putSecret(name: string, value: Uint8Array): Promise<void> {
    assertSecretName(name);
    await this.mutate((kf) => {
      const entry = {
        name,
        createdAt: new Date().toISOString(),
        material: protect(this.master, value, ['secret', name]),
      };
      const i = kf.secrets.findIndex((s) => s.name === name);
      if (i >= 0) kf.secrets[i] = entry;
      else kf.secrets.push(entry);
    });
  }

  async putSecretIfAbsent(name: string, value: Uint8Array): Promise<Buffer> {
    assertSecretName(name);
    await this.mutate((kf) => {
      if (kf.secrets.some((s) => s.name === name)) return;
      kf.secrets.push({
        name,
        createdAt: new Date().toISOString(),
        material: protect(this.master, value, ['secret', name]),
      });
    });
    return Buffer.from(this.secrets.get(name)!);
  }

  async getSecret(name: string): Promise<Buffer | undefined> {
    assertSecretName(name);
    if (!this.secrets.has(name)) await this.refresh();
    const v = this.secrets.get(name);
    return v ? Buffer.from(v) : undefined;
  }

  async listSecrets(prefix: string): Promise<string[]> {
    await this.refresh();
    return [...this.secrets.keys()].filter((n) => n.startsWith(prefix)).sort();
  }

  async deleteSecret(name: string): Promise<void> {
    assertSecretName(name);
    await this.mutate((kf) => {
      kf.secrets = kf.secrets.filter((s) => s.name !== name);
    });
  }

  async close(): Promise<void> {
    for (const b of this.keks.values()) b.fill(0);
    for (const b of this.secrets.values()) b.fill(0);
    this.keks.clear();
    this.secrets.clear();
  }
}

function currentOf(kf: KeyFile, file: string): number {
  const active = kf.keks.filter((k) => k.state === 'active').map((k) => k.version);
  if (active.length === 0) throw new KeyringError(`key file ${file} has no active KEK version`);
  return Math.max(...active);
}
