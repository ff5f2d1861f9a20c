import { encodeParts } from '../cipher.js';

/**
 * AAD of a DEK wrap: the KEK version is bound so a wrapped DEK relabelled with another version
 * cannot be confused. Shared by providers so wrapped DEKs have one format (nonce ‖ ct ‖ tag,
 * AES-256-GCM), which also makes HSM-wrapped DEKs portable (Node can open them with the raw KEK).
 */
export function wrapAad(kekVersion: number, aad: Uint8Array): Buffer {
  return Buffer.concat([encodeParts(['vigil-dek-wrap-v1', String(kekVersion)]), aad]);
}
