/**
 * The Keyring is the only holder of key-encryption keys (KEKs) and long-lived secrets. Content
 * keys (DEKs) never leave the process unwrapped; the keyring only wraps and unwraps them.
 *
 * Providers: `local` (key file), `pkcs11` (HSM). A cloud KMS or Vault transit adapter implements
 * the same interface: KEK versions map to KMS key versions / Vault key versions, wrapDek to
 * Encrypt (AAD = EncryptionContext / Vault `context`), unwrapDek to Decrypt, createKekVersion to
 * rotate, destroyKekVersion to scheduled deletion / `min_decryption_version`, and secrets to a
 * secrets manager (or values wrapped under a dedicated KMS key and kept in the local file).
 */

export type KekState = 'active' | 'destroyed';

/** Metadata of one KEK version; the key material itself never leaves the provider. */
export interface KekVersionInfo {
  version: number;
  state: KekState;
  /** ISO-8601, when known to the provider. */
  createdAt?: string;
}

/** A DEK wrapped by one KEK version. `wrapped` is provider-specific opaque bytes. */
export interface WrappedDek {
  kekVersion: number;
  wrapped: Buffer;
}

/** Key-management provider. All methods may be slow (HSM / network), hence async. */
export interface Keyring {
  /** 'local' | 'pkcs11' | a future 'kms' / 'vault'. */
  readonly provider: string;

  /** All versions ever created, including destroyed ones (tombstones), ascending. */
  listKekVersions(): Promise<KekVersionInfo[]>;
  /** The version used for new wraps (the highest active version). Throws if none exists. */
  currentKekVersion(): Promise<number>;
  /** Creates a new KEK version and makes it current. Old versions stay usable for unwrap. */
  createKekVersion(): Promise<number>;
  /** Destroys a non-current KEK version. Everything still wrapped by it becomes unrecoverable. */
  destroyKekVersion(version: number): Promise<void>;

  /** Wraps a DEK under the current KEK; `aad` binds it to its scope. */
  wrapDek(dek: Uint8Array, aad: Uint8Array): Promise<WrappedDek>;
  /** Unwraps; throws DecryptionError on any authentication failure, KeyringError if the version is gone. */
  unwrapDek(wrapped: WrappedDek, aad: Uint8Array): Promise<Buffer>;

  /** Stores (or replaces) a named secret, e.g. `wecom/rsa/<corpId>/v3`. */
  putSecret(name: string, value: Uint8Array): Promise<void>;
  /**
   * Stores a secret only if the name is free and returns the stored value either way, so two
   * processes racing to create a per-corp key end up with the same key.
   */
  putSecretIfAbsent(name: string, value: Uint8Array): Promise<Buffer>;
  /** The secret's bytes, or undefined when no secret has that name. */
  getSecret(name: string): Promise<Buffer | undefined>;
  /** Names starting with `prefix`, sorted. */
  listSecrets(prefix: string): Promise<string[]>;
  /** Deletes a secret (e.g. a corp's search key when the corp is offboarded). */
  deleteSecret(name: string): Promise<void>;

  /** Releases handles (HSM sessions). The keyring is unusable afterwards. */
  close(): Promise<void>;
}

/** Allowed secret names: path-like, ASCII, no `..`, so names can double as file or label names. */
const SECRET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/;

/** Throws a RangeError unless `name` is a valid secret name (≤ 200 chars). */
export function assertSecretName(name: string): void {
  if (name.length > 200 || !SECRET_NAME.test(name)) {
    throw new RangeError(`invalid secret name ${JSON.stringify(name)}: use a/b/c with [A-Za-z0-9._-]`);
  }
}

/** Well-known secret names, so every module agrees on where keys live. */
export const SecretNames = {
  /** PEM of the WeCom archive RSA private key for one `publickey_ver`. */
  wecomRsa: (corpId: string, publickeyVer: number | string): string => `wecom/rsa/${corpId}/v${publickeyVer}`,
  /** PKCS#8 DER of the Ed25519 key that signs audit checkpoints. */
  auditSigning: (name = 'default'): string => `audit/ed25519/${name}`,
  /** 32-byte per-corp key for the blind search index. */
  searchKey: (corpId: string): string => `corp/${corpId}/search`,
  /** 32-byte per-corp key for blob content addressing (HMAC) and blob key wrapping. */
  blobKey: (corpId: string): string => `corp/${corpId}/blob`,
} as const;
