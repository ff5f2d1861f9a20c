/**
 * Errors raised by the crypto module. Each one is terminal: retrying the same call with the same
 * input can never succeed, so callers (job runners, HTTP handlers) must not retry them.
 */

/** Base class so callers can test `err instanceof VigilCryptoError` and read `retryable`. */
export class VigilCryptoError extends Error {
  readonly retryable = false as const;
  constructor(
    message: string,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * Authentication of a ciphertext failed. Deliberately one message for every cause (wrong key,
 * wrong AAD, flipped bit, truncated blob, unknown format) so the error is no oracle and a
 * tampered or moved value is never decrypted to wrong plaintext.
 */
export class DecryptionError extends VigilCryptoError {
  static readonly MESSAGE = 'authentication failed: ciphertext altered or moved';
  constructor(options?: { cause?: unknown; message?: string }) {
    super(options?.message ?? DecryptionError.MESSAGE, 'VIGIL_DECRYPTION_FAILED', options);
  }
}

/** The data key of the scope was destroyed on purpose (crypto-shredding by retention). */
export class ContentDestroyedError extends VigilCryptoError {
  constructor(
    readonly scopeKey: string,
    options?: { cause?: unknown },
  ) {
    super(`content destroyed by retention (scope ${scopeKey})`, 'VIGIL_CONTENT_DESTROYED', options);
  }
}

/** Key material, a key file or an HSM is unusable (bad permissions, wrong passphrase/PIN, missing token). */
export class KeyringError extends VigilCryptoError {
  constructor(message: string, options?: { cause?: unknown; code?: string }) {
    super(message, options?.code ?? 'VIGIL_KEYRING', options);
  }
}
