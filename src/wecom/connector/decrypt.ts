import type { MessageToArchive } from '../../archive/types.js';
import { SecretNames, type Keyring } from '../../crypto/keyring/types.js';
import type { DecryptOutcome } from '../sdk/supervised-sdk.js';
import { FinanceSdkCrashedError, FinanceSdkError, type FinanceSdk } from '../sdk/types.js';
import type { EnvelopeOutcome, EnvelopeRow } from './connector.repository.js';
import { NormalizeError, normalizeMessage } from './normalize.js';
import type { RsaPool } from './rsa-pool.js';

const MAX_DECRYPT_ATTEMPTS = 8;

/** A decrypted and normalized message, or what happens to its envelope instead. */
export type Decrypted = { message: MessageToArchive } | { outcome: EnvelopeOutcome };

/** An envelope to decrypt; `quarantineReason` marks one that was malformed on arrival. */
export type EnvelopeToDecrypt = EnvelopeRow & { quarantineReason?: string };

/** After the RSA step: each message's random key, or its outcome when it has one already. */
export interface Unwrapped {
  keys: Array<string | undefined>;
  results: Array<Decrypted | undefined>;
}

/** An SDK that can run many DecryptData calls in one round trip (SupervisedFinanceSdk). */
interface BatchDecryptSdk {
  decryptBatch(items: Array<{ encryptKey: string; encryptMsg: string }>): Promise<DecryptOutcome[]>;
}

function canDecryptBatch(sdk: FinanceSdk): sdk is FinanceSdk & BatchDecryptSdk {
  return typeof (sdk as Partial<BatchDecryptSdk>).decryptBatch === 'function';
}

/**
 * Decryption of a corp's envelopes in two steps, so a pipeline can overlap them across batches:
 * `unwrapKeys` (RSA of encrypt_random_key on the worker-thread pool, grouped by key version) and
 * `open` (DecryptData, in one round trip to the supervised child when the SDK supports it, then
 * normalize). Results are in the order of the envelopes.
 */
export class EnvelopeDecryptor {
  /** Private key PEMs by publickey_ver (null: not in the keyring). */
  private readonly rsaKeys = new Map<number, string | null>();

  constructor(
    private readonly keyring: Keyring,
    private readonly corpId: number,
    private readonly sdk: FinanceSdk,
    private readonly rsa: RsaPool,
  ) {}

  async decryptAll(envelopes: EnvelopeToDecrypt[]): Promise<Decrypted[]> {
    return this.open(envelopes, await this.unwrapKeys(envelopes));
  }

  /** Forgets a key version's cached absence (call after adding that private key). */
  forgetKey(publickeyVer: number): void {
    this.rsaKeys.delete(publickeyVer);
  }

  async unwrapKeys(envelopes: EnvelopeToDecrypt[]): Promise<Unwrapped> {
    const results: Array<Decrypted | undefined> = new Array(envelopes.length);
    const keys: Array<string | undefined> = new Array(envelopes.length);
    const byVersion = new Map<number, number[]>();
    for (let i = 0; i < envelopes.length; i++) {
      const envelope = envelopes[i]!;
      if (envelope.quarantineReason) {
        results[i] = {
          outcome: { msgid: envelope.msgid, state: 'quarantined', reason: envelope.quarantineReason },
        };
        continue;
      }
      const pem = envelope.publickey_ver === null ? null : await this.rsaKey(envelope.publickey_ver);
      if (!pem) {
        results[i] = {
          outcome: {
            msgid: envelope.msgid,
            state: 'held_key',
            reason: `no private key for publickey_ver ${envelope.publickey_ver}`,
          },
        };
        continue;
      }
      const list = byVersion.get(envelope.publickey_ver!) ?? [];
      list.push(i);
      byVersion.set(envelope.publickey_ver!, list);
    }
    for (const [version, indexes] of byVersion) {
      const rsa = await this.rsa.decrypt(
        this.rsaKeys.get(version)!,
        indexes.map((i) => Buffer.from(envelopes[i]!.encrypt_random_key ?? '', 'base64')),
      );
      indexes.forEach((i, k) => {
        const r = rsa[k]!;
        if (r.ok) keys[i] = r.value.toString('utf8');
        else
          results[i] = {
            outcome: {
              msgid: envelopes[i]!.msgid,
              state: 'quarantined',
              reason: `RSA decryption of encrypt_random_key failed: ${r.message}`,
            },
          };
      });
    }
    return { keys, results };
  }

  async open(envelopes: EnvelopeToDecrypt[], unwrapped: Unwrapped): Promise<Decrypted[]> {
    const results = [...unwrapped.results];
    const todo = envelopes.map((_, i) => i).filter((i) => unwrapped.keys[i] !== undefined);
    const items = todo.map((i) => ({
      encryptKey: unwrapped.keys[i]!,
      encryptMsg: envelopes[i]!.encrypt_chat_msg ?? '',
    }));
    let decrypted: DecryptOutcome[];
    if (canDecryptBatch(this.sdk)) decrypted = await this.sdk.decryptBatch(items);
    else {
      decrypted = [];
      for (const item of items) {
        try {
          decrypted.push({
            ok: true,
            plaintext: await this.sdk.decryptData(item.encryptKey, item.encryptMsg),
          });
        } catch (err) {
          decrypted.push({ ok: false, error: err as Error });
        }
      }
    }
    todo.forEach((i, k) => {
      results[i] = afterDecryptData(envelopes[i]!, decrypted[k]!);
    });
    return results as Decrypted[];
  }

  private async rsaKey(version: number): Promise<string | null> {
    if (!this.rsaKeys.has(version)) {
      const pem = await this.keyring.getSecret(SecretNames.wecomRsa(String(this.corpId), version));
      this.rsaKeys.set(version, pem ? pem.toString('utf8') : null);
    }
    return this.rsaKeys.get(version)!;
  }
}

/** The outcome of one message once DecryptData ran: normalized, or why it is retried or quarantined. */
function afterDecryptData(envelope: EnvelopeRow, decrypted: DecryptOutcome): Decrypted {
  const msgid = envelope.msgid;
  if (!decrypted.ok) {
    const err = decrypted.error;
    if (err instanceof FinanceSdkCrashedError) {
      return {
        outcome: {
          msgid,
          state: 'quarantined',
          reason: `DecryptData crashed ${err.crashes} times (${err.signal ?? 'exit'})`,
        },
      };
    }
    if (err instanceof FinanceSdkError && err.retryable && envelope.attempts + 1 < MAX_DECRYPT_ATTEMPTS) {
      return {
        outcome: { msgid, state: 'retry', reason: err.message, delaySeconds: 2 ** envelope.attempts },
      };
    }
    return { outcome: { msgid, state: 'quarantined', reason: `DecryptData failed: ${err.message}` } };
  }
  try {
    return { message: normalizeMessage(decrypted.plaintext, msgid) };
  } catch (err) {
    if (err instanceof NormalizeError)
      return { outcome: { msgid, state: 'quarantined', reason: err.message } };
    throw err;
  }
}
