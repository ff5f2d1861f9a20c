/**
 * `pkcs11` keyring: KEKs live in an HSM (any PKCS#11 module; tested with SoftHSM2).
 *
 * - KEK version N is a non-extractable, sensitive AES-256 token key labelled `<prefix>-kek-v<N>`.
 *   DEKs are wrapped with CKM_AES_GCM through C_Encrypt/C_Decrypt (SoftHSM rejects C_WrapKey with
 *   GCM); output nonce ‖ ct ‖ tag, the same format as the local keyring.
 * - Destroyed versions leave a tombstone data object so version numbers are never reused.
 * - Secrets (WeCom RSA keys, the audit signing key, per-corp keys) are private token data objects
 *   (CKA_APPLICATION `<prefix>-secret`, CKA_LABEL = name) whose value is id ‖ AES-GCM sealed under
 *   a dedicated non-extractable key `<prefix>-secrets-key` — not under a KEK version, so KEK
 *   rotation and destruction never touch them. Reading the token files without the HSM key yields
 *   nothing. (An HSM that should also *use* the RSA keys can hold them as CKO_PRIVATE_KEY and
 *   decrypt with CKM_RSA_PKCS; that is a later extension.)
 * - One login per process per token (PKCS#11 login is per application); calls are synchronous so
 *   operations on the shared session never interleave.
 * - Concurrent creation of the same label by two processes is resolved deterministically: each
 *   object gets a random CKA_ID, every reader uses the lowest, and a creator that lost deletes its
 *   own object before using it.
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import type * as P11 from 'pkcs11js';
import { NONCE_BYTES } from '../cipher.js';
import { DecryptionError, KeyringError } from '../errors.js';
import { assertSecretName, type KekVersionInfo, type Keyring, type WrappedDek } from './types.js';
import { wrapAad } from './wrap-format.js';

type Pkcs11Module = typeof P11;
type Handle = Buffer;

export interface Pkcs11KeyringOptions {
  /** Path of the PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so. */
  library: string;
  /** Token label (slot ids change on re-initialisation, labels do not). */
  tokenLabel: string;
  /** User PIN. */
  pin: string;
  /** Prefix of object labels, to share a token between installations. Default 'vigil'. */
  labelPrefix?: string;
}

// Secret data objects start with a 16-byte id (8-byte time ‖ 8 random) ordering concurrent writes.
const SECRET_ID_BYTES = 16;

let p11mod: Pkcs11Module | undefined;
function loadModule(): Pkcs11Module {
  if (!p11mod) {
    // Loaded lazily so importing this file does not require the native addon.
    const require = createRequire(import.meta.url);
    p11mod = require('pkcs11js') as Pkcs11Module;
  }
  return p11mod;
}

interface LibState {
  lib: P11.PKCS11;
  refs: number;
}
interface TokenState {
  lib: LibState;
  libraryPath: string;
  session: Handle;
  refs: number;
}
const libs = new Map<string, LibState>();
const tokens = new Map<string, TokenState>();

function p11error(what: string, err: unknown): KeyringError {
  const pk = loadModule();
  const code = (err as { code?: number }).code;
  const name = (err as Error).message ?? String(err);
  if (code === pk.CKR_PIN_INCORRECT)
    return new KeyringError(`${what}: wrong PIN`, { cause: err, code: 'VIGIL_HSM_PIN' });
  if (code === pk.CKR_PIN_LOCKED)
    return new KeyringError(`${what}: PIN locked`, { cause: err, code: 'VIGIL_HSM_PIN' });
  if (code === pk.CKR_DEVICE_REMOVED || code === pk.CKR_TOKEN_NOT_PRESENT)
    return new KeyringError(`${what}: token not present`, { cause: err, code: 'VIGIL_HSM_UNAVAILABLE' });
  return new KeyringError(`${what}: ${name}`, { cause: err, code: 'VIGIL_HSM' });
}

/** Opens (logging in once per process) and ensures KEK version 1 exists. */
export async function openPkcs11Keyring(options: Pkcs11KeyringOptions): Promise<Pkcs11Keyring> {
  const pk = loadModule();
  const tokenKey = `${options.library}\u0000${options.tokenLabel}`;
  let tok = tokens.get(tokenKey);
  if (!tok) {
    let lib = libs.get(options.library);
    if (!lib) {
      const inst = new pk.PKCS11();
      try {
        inst.load(options.library);
      } catch (err) {
        throw new KeyringError(`cannot load PKCS#11 module ${options.library}: ${(err as Error).message}`, {
          cause: err,
          code: 'VIGIL_HSM_UNAVAILABLE',
        });
      }
      try {
        inst.C_Initialize();
      } catch (err) {
        if ((err as { code?: number }).code !== pk.CKR_CRYPTOKI_ALREADY_INITIALIZED)
          throw p11error('C_Initialize', err);
      }
      lib = { lib: inst, refs: 0 };
      libs.set(options.library, lib);
    }
    const p = lib.lib;
    const slot = p.C_GetSlotList(true).find((s) => p.C_GetTokenInfo(s).label.trim() === options.tokenLabel);
    if (!slot) {
      if (lib.refs === 0) {
        p.C_Finalize();
        libs.delete(options.library);
      }
      throw new KeyringError(`no PKCS#11 token labelled "${options.tokenLabel}" in ${options.library}`, {
        code: 'VIGIL_HSM_UNAVAILABLE',
      });
    }
    const session = p.C_OpenSession(slot, pk.CKF_SERIAL_SESSION | pk.CKF_RW_SESSION);
    try {
      p.C_Login(session, pk.CKU_USER, options.pin);
    } catch (err) {
      if ((err as { code?: number }).code !== pk.CKR_USER_ALREADY_LOGGED_IN) {
        p.C_CloseSession(session);
        if (lib.refs === 0) {
          p.C_Finalize();
          libs.delete(options.library);
        }
        throw p11error(`PKCS#11 login to token "${options.tokenLabel}"`, err);
      }
    }
    lib.refs++;
    tok = { lib, libraryPath: options.library, session, refs: 0 };
    tokens.set(tokenKey, tok);
  }
  tok.refs++;
  const kr = new Pkcs11Keyring(tok, tokenKey, options.labelPrefix ?? 'vigil');
  if ((await kr.listKekVersions()).every((v) => v.state !== 'active')) await kr.createKekVersion();
  return kr;
}

/** HSM-backed keyring. Obtain with openPkcs11Keyring. */
export class Pkcs11Keyring implements Keyring {
  readonly provider = 'pkcs11';
  private closed = false;
  private readonly kekCache = new Map<number, Handle>();

  constructor(
    private readonly tok: TokenState,
    private readonly tokenKey: string,
    private readonly prefix: string,
  ) {}

  private get p(): P11.PKCS11 {
    if (this.closed) throw new KeyringError('PKCS#11 keyring is closed');
    return this.tok.lib.lib;
  }
  private get s(): Handle {
    return this.tok.session;
  }

  private kekLabel(v: number): string {
    return `${this.prefix}-kek-v${v}`;
  }

  /**
   * All objects matching a template, each with its label and id. Keys carry the id in CKA_ID;
   * data objects have no CKA_ID, so secrets carry it in the first 16 bytes of CKA_VALUE.
   */
  private find(
    template: P11.Template,
    idFrom: 'id' | 'value' | 'none' = 'id',
  ): Array<{ h: Handle; label: string; id: Buffer }> {
    const pk = loadModule();
    const p = this.p;
    let handles: Handle[];
    try {
      p.C_FindObjectsInit(this.s, template);
      handles = [];
      for (;;) {
        const batch = p.C_FindObjects(this.s, 64);
        if (batch.length === 0) break;
        handles.push(...batch);
      }
    } catch (err) {
      throw p11error('C_FindObjects', err);
    } finally {
      try {
        p.C_FindObjectsFinal(this.s);
      } catch {
        // already finalised
      }
    }
    return handles.map((h) => {
      const label = p.C_GetAttributeValue(this.s, h, [{ type: pk.CKA_LABEL }])[0]!.value.toString('utf8');
      let id: Buffer = Buffer.alloc(0);
      if (idFrom === 'id') id = p.C_GetAttributeValue(this.s, h, [{ type: pk.CKA_ID }])[0]!.value;
      else if (idFrom === 'value')
        id = p
          .C_GetAttributeValue(this.s, h, [{ type: pk.CKA_VALUE }])[0]!
          .value.subarray(0, SECRET_ID_BYTES);
      return { h, label, id };
    });
  }

  /** The winning object among same-labelled duplicates: lowest CKA_ID (or highest for "latest wins"). */
  private pick<T extends { id: Buffer }>(objs: T[], latest = false): T | undefined {
    const sorted = [...objs].sort((a, b) => Buffer.compare(a.id, b.id));
    return latest ? sorted[sorted.length - 1] : sorted[0];
  }

  private kekObjects(): Array<{ h: Handle; label: string; id: Buffer }> {
    const pk = loadModule();
    return this.find([
      { type: pk.CKA_CLASS, value: pk.CKO_SECRET_KEY },
      { type: pk.CKA_KEY_TYPE, value: pk.CKK_AES },
    ]);
  }

  private tombstones(): Set<number> {
    const pk = loadModule();
    const out = new Set<number>();
    for (const o of this.find(
      [
        { type: pk.CKA_CLASS, value: pk.CKO_DATA },
        { type: pk.CKA_APPLICATION, value: `${this.prefix}-kek-tombstone` },
      ],
      'none',
    )) {
      const m = new RegExp(`^${this.prefix}-kek-v(\\d+)$`).exec(o.label);
      if (m) out.add(Number(m[1]));
    }
    return out;
  }

  private kekHandle(version: number): Handle | undefined {
    const cached = this.kekCache.get(version);
    if (cached) return cached;
    const pk = loadModule();
    const objs = this.find([
      { type: pk.CKA_CLASS, value: pk.CKO_SECRET_KEY },
      { type: pk.CKA_LABEL, value: this.kekLabel(version) },
    ]);
    const h = this.pick(objs)?.h;
    if (h) this.kekCache.set(version, h);
    return h;
  }

  async listKekVersions(): Promise<KekVersionInfo[]> {
    const re = new RegExp(`^${this.prefix}-kek-v(\\d+)$`);
    const versions = new Map<number, KekVersionInfo>();
    for (const o of this.kekObjects()) {
      const m = re.exec(o.label);
      if (m) versions.set(Number(m[1]), { version: Number(m[1]), state: 'active' });
    }
    for (const v of this.tombstones())
      if (!versions.has(v)) versions.set(v, { version: v, state: 'destroyed' });
    return [...versions.values()].sort((a, b) => a.version - b.version);
  }

  async currentKekVersion(): Promise<number> {
    const active = (await this.listKekVersions()).filter((v) => v.state === 'active');
    if (active.length === 0) throw new KeyringError('no active KEK version on the token');
    return active[active.length - 1]!.version;
  }

  private generateAesKey(label: string): { h: Handle; id: Buffer } {
    const pk = loadModule();
    const id = randomBytes(16);
    try {
      const h = this.p.C_GenerateKey(this.s, { mechanism: pk.CKM_AES_KEY_GEN }, [
        { type: pk.CKA_CLASS, value: pk.CKO_SECRET_KEY },
        { type: pk.CKA_KEY_TYPE, value: pk.CKK_AES },
        { type: pk.CKA_VALUE_LEN, value: 32 },
        { type: pk.CKA_LABEL, value: label },
        { type: pk.CKA_ID, value: id },
        { type: pk.CKA_TOKEN, value: true },
        { type: pk.CKA_PRIVATE, value: true },
        { type: pk.CKA_SENSITIVE, value: true },
        { type: pk.CKA_EXTRACTABLE, value: false },
        { type: pk.CKA_ENCRYPT, value: true },
        { type: pk.CKA_DECRYPT, value: true },
        { type: pk.CKA_WRAP, value: false },
        { type: pk.CKA_UNWRAP, value: false },
      ]);
      return { h, id };
    } catch (err) {
      throw p11error(`generating ${label}`, err);
    }
  }

  /** Creates a labelled key unless a racing process won; returns the winner's handle. */
  private createUnique(label: string): Handle {
    const pk = loadModule();
    const mine = this.generateAesKey(label);
    const all = this.find([
      { type: pk.CKA_CLASS, value: pk.CKO_SECRET_KEY },
      { type: pk.CKA_LABEL, value: label },
    ]);
    const winner = this.pick(all)!;
    if (!winner.id.equals(mine.id)) this.p.C_DestroyObject(this.s, mine.h);
    return winner.h;
  }

  async createKekVersion(): Promise<number> {
    const all = await this.listKekVersions();
    const version = Math.max(0, ...all.map((v) => v.version)) + 1;
    this.kekCache.set(version, this.createUnique(this.kekLabel(version)));
    return version;
  }

  async destroyKekVersion(version: number): Promise<void> {
    const pk = loadModule();
    const versions = await this.listKekVersions();
    const v = versions.find((x) => x.version === version);
    if (!v) throw new KeyringError(`KEK version ${version} does not exist`);
    if (v.state === 'destroyed') return;
    if ((await this.currentKekVersion()) === version)
      throw new KeyringError(`KEK version ${version} is current; create a new version and rewrap first`);
    try {
      this.p.C_CreateObject(this.s, [
        { type: pk.CKA_CLASS, value: pk.CKO_DATA },
        { type: pk.CKA_TOKEN, value: true },
        { type: pk.CKA_PRIVATE, value: true },
        { type: pk.CKA_APPLICATION, value: `${this.prefix}-kek-tombstone` },
        { type: pk.CKA_LABEL, value: this.kekLabel(version) },
        { type: pk.CKA_VALUE, value: Buffer.from(new Date().toISOString()) },
      ]);
      for (const o of this.find([
        { type: pk.CKA_CLASS, value: pk.CKO_SECRET_KEY },
        { type: pk.CKA_LABEL, value: this.kekLabel(version) },
      ]))
        this.p.C_DestroyObject(this.s, o.h);
    } catch (err) {
      throw p11error(`destroying KEK version ${version}`, err);
    }
    this.kekCache.delete(version);
  }

  private gcm(iv: Buffer, aad: Buffer): P11.Mechanism {
    const pk = loadModule();
    return {
      mechanism: pk.CKM_AES_GCM,
      parameter: { type: pk.CK_PARAMS_AES_GCM, iv, aad, ivBits: 96, tagBits: 128 } as P11.AesGCM,
    };
  }

  private encryptWith(key: Handle, plaintext: Uint8Array, aad: Buffer): Buffer {
    const iv = randomBytes(NONCE_BYTES);
    try {
      this.p.C_EncryptInit(this.s, this.gcm(iv, aad), key);
      const out = this.p.C_Encrypt(this.s, Buffer.from(plaintext), Buffer.alloc(plaintext.length + 16));
      return Buffer.concat([iv, out]);
    } catch (err) {
      throw p11error('C_Encrypt (AES-GCM)', err);
    }
  }

  private decryptWith(key: Handle, sealed: Buffer, aad: Buffer): Buffer {
    if (sealed.length < NONCE_BYTES + 16) throw new DecryptionError();
    try {
      this.p.C_DecryptInit(this.s, this.gcm(sealed.subarray(0, NONCE_BYTES), aad), key);
      const body = sealed.subarray(NONCE_BYTES);
      return Buffer.from(this.p.C_Decrypt(this.s, body, Buffer.alloc(body.length)));
    } catch (err) {
      // SoftHSM reports a bad tag as CKR_GENERAL_ERROR: every failure here is "authentication failed".
      throw new DecryptionError({ cause: err });
    }
  }

  async wrapDek(dek: Uint8Array, aad: Uint8Array): Promise<WrappedDek> {
    const kekVersion = await this.currentKekVersion();
    const h = this.kekHandle(kekVersion);
    if (!h) throw new KeyringError(`KEK version ${kekVersion} not found on the token`);
    return { kekVersion, wrapped: this.encryptWith(h, dek, wrapAad(kekVersion, aad)) };
  }

  async unwrapDek(w: WrappedDek, aad: Uint8Array): Promise<Buffer> {
    const h = this.kekHandle(w.kekVersion);
    if (!h) {
      const destroyed = this.tombstones().has(w.kekVersion);
      throw new KeyringError(
        destroyed
          ? `KEK version ${w.kekVersion} was destroyed`
          : `KEK version ${w.kekVersion} not found on the token`,
        {
          code: destroyed ? 'VIGIL_KEK_DESTROYED' : 'VIGIL_KEK_UNKNOWN',
        },
      );
    }
    return this.decryptWith(h, w.wrapped, wrapAad(w.kekVersion, aad));
  }

  // ---- secrets -------------------------------------------------------------------------------

  private secretsKey(create: boolean): Handle | undefined {
    const pk = loadModule();
    const label = `${this.prefix}-secrets-key`;
    const found = this.pick(
      this.find([
        { type: pk.CKA_CLASS, value: pk.CKO_SECRET_KEY },
        { type: pk.CKA_LABEL, value: label },
      ]),
    );
    if (found) return found.h;
    return create ? this.createUnique(label) : undefined;
  }

  private secretObjects(name?: string): Array<{ h: Handle; label: string; id: Buffer }> {
    const pk = loadModule();
    const t: P11.Template = [
      { type: pk.CKA_CLASS, value: pk.CKO_DATA },
      { type: pk.CKA_APPLICATION, value: `${this.prefix}-secret` },
    ];
    if (name !== undefined) t.push({ type: pk.CKA_LABEL, value: name });
    return this.find(t, 'value');
  }

  private secretAad(name: string): Buffer {
    return Buffer.from(`vigil-pkcs11-secret-v1\u0000${name}`, 'utf8');
  }

  private createSecret(name: string, value: Uint8Array, id: Buffer): Handle {
    const pk = loadModule();
    const sealed = this.encryptWith(this.secretsKey(true)!, value, this.secretAad(name));
    try {
      return this.p.C_CreateObject(this.s, [
        { type: pk.CKA_CLASS, value: pk.CKO_DATA },
        { type: pk.CKA_TOKEN, value: true },
        { type: pk.CKA_PRIVATE, value: true },
        { type: pk.CKA_MODIFIABLE, value: false },
        { type: pk.CKA_APPLICATION, value: `${this.prefix}-secret` },
        { type: pk.CKA_LABEL, value: name },
        { type: pk.CKA_VALUE, value: Buffer.concat([id, sealed]) },
      ]);
    } catch (err) {
      throw p11error(`storing secret ${name}`, err);
    }
  }

  private readSecret(name: string, h: Handle): Buffer {
    const pk = loadModule();
    const key = this.secretsKey(false);
    if (!key) throw new KeyringError('secrets key missing on the token');
    const v = this.p.C_GetAttributeValue(this.s, h, [{ type: pk.CKA_VALUE }])[0]!.value;
    return this.decryptWith(key, v.subarray(SECRET_ID_BYTES), this.secretAad(name));
  }

  async putSecret(name: string, value: Uint8Array): Promise<void> {
    assertSecretName(name);
    // id = time ‖ random, so the newest write is the highest id ("latest wins"); older copies are then removed.
    const id = Buffer.concat([bigEndianTime(), randomBytes(8)]);
    this.createSecret(name, value, id);
    for (const o of this.secretObjects(name)) if (!o.id.equals(id)) this.p.C_DestroyObject(this.s, o.h);
  }

  async putSecretIfAbsent(name: string, value: Uint8Array): Promise<Buffer> {
    assertSecretName(name);
    const existing = this.pick(this.secretObjects(name), true);
    if (existing) return this.readSecret(name, existing.h);
    const id = Buffer.concat([bigEndianTime(), randomBytes(8)]);
    const h = this.createSecret(name, value, id);
    // Lost a race? The earliest write wins; remove ours.
    const first = this.pick(this.secretObjects(name))!;
    if (first.id.equals(id)) return Buffer.from(value);
    this.p.C_DestroyObject(this.s, h);
    return this.readSecret(name, first.h);
  }

  async getSecret(name: string): Promise<Buffer | undefined> {
    assertSecretName(name);
    const o = this.pick(this.secretObjects(name), true);
    return o ? this.readSecret(name, o.h) : undefined;
  }

  async listSecrets(prefix: string): Promise<string[]> {
    return [...new Set(this.secretObjects().map((o) => o.label))].filter((n) => n.startsWith(prefix)).sort();
  }

  async deleteSecret(name: string): Promise<void> {
    assertSecretName(name);
    for (const o of this.secretObjects(name)) this.p.C_DestroyObject(this.s, o.h);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const tok = this.tok;
    if (--tok.refs > 0) return;
    tokens.delete(this.tokenKey);
    const p = tok.lib.lib;
    try {
      p.C_Logout(tok.session);
    } catch {
      // other sessions may still hold the login; ignore
    }
    p.C_CloseSession(tok.session);
    if (--tok.lib.refs === 0) {
      p.C_Finalize();
      libs.delete(tok.libraryPath);
    }
  }
}

function bigEndianTime(): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(Date.now()));
  return b;
}
