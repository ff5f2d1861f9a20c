export { buildEvidencePackage, PACKAGE_FILES } from './build.js';
export { verifyEvidencePackage } from './verify.js';
export { evidenceSignerFromKeyring, evidenceSigningSecret } from './signer.js';
export { EvidenceKeyError, keyFingerprint, publicKeyPem, rawPublicKey } from './keys.js';
export type * from './types.js';
