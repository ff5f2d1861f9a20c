/** WeCom emulator: HTTP server, synthetic corps, ground truth and faults. */
export { createEmulator, buildEmulator, type Emulator, type EmulatorOptions } from './server.js';
export {
  EmulatedCorp,
  type CorpOptions,
  type CorpSecrets,
  type RequestFaults,
  type CallbackOptions,
  type ExpectedMessage,
  type ExpectedMedia,
  type NotifyRecord,
  type SentMessage,
} from './corp-state.js';
export {
  SyntheticCorp,
  ALL_MSGTYPES,
  CRASH_MARKER,
  CONTENT_FAULT_KINDS,
  type ContentFaultKind,
  type GeneratorOptions,
  type GeneratedMessage,
  type RiskLabel,
  type MediaAttachment,
} from './generator.js';
export { encryptChatMsg, decryptChatMsg, encryptRandomKey, decryptRandomKey } from './emulator-crypto.js';
export { loadMediaFixtures, writeMediaFixtures, FIXTURE_NAMES } from './media-fixtures.js';
export { runEmulatorCli, type EmulatorCliOptions } from './cli.js';
