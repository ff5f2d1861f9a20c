import type { Keyring } from '../../crypto/keyring/types.js';

/** Which WeCom secret an API needs: 会话内容存档, 通讯录同步, 客户联系, or the self-built app. */
export type WecomSecretKind = 'archive' | 'contacts' | 'externalcontact' | 'app';

export const WECOM_SECRET_KINDS: readonly WecomSecretKind[] = [
  'archive',
  'contacts',
  'externalcontact',
  'app',
];

/** Keyring name of one WeCom secret of a Vigil corp: `wecom/secret/<corpId>/<kind>`. */
export function wecomSecretName(corpId: number, kind: WecomSecretKind): string {
  return `wecom/secret/${corpId}/${kind}`;
}

/** Keyring name of the callback Token or EncodingAESKey of a Vigil corp. */
export function wecomCallbackSecretName(corpId: number, which: 'token' | 'aeskey'): string {
  return `wecom/callback/${corpId}/${which}`;
}

/** A secret Vigil needs is not in the keyring; the message names the secret, never a value. */
export class WecomSecretMissingError extends Error {
  constructor(
    readonly corpId: number,
    readonly kind: WecomSecretKind,
  ) {
    super(
      `WeCom ${kind} secret of corp ${corpId} is not configured (keyring: ${wecomSecretName(corpId, kind)})`,
    );
    this.name = 'WecomSecretMissingError';
  }
}

/** The `secrets` callback of WecomApiClient, reading `wecom/secret/<corpId>/<kind>` from a keyring. */
export function keyringSecrets(keyring: Keyring, corpId: number): (kind: WecomSecretKind) => Promise<string> {
  return async (kind) => {
    const value = await keyring.getSecret(wecomSecretName(corpId, kind));
    if (!value || value.length === 0) throw new WecomSecretMissingError(corpId, kind);
    return value.toString('utf8');
  };
}
