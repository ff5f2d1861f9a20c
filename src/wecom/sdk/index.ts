/** WeCom finance SDK binding: the contract, the implementations and helpers. */
export * from './types.js';
export { KoffiFinanceSdk, loadFinanceLibrary } from './koffi-sdk.js';
export { SupervisedFinanceSdk, type SupervisorOptions, type SupervisorEvent } from './supervised-sdk.js';
export { HttpEmulatorFinanceSdk } from './http-emulator-sdk.js';
export { ensureStandinLibrary, type BuildStandinOptions } from './build-standin.js';
export {
  parseChatData,
  quoteSeqNumbers,
  downloadMedia,
  type ChatDataItem,
  type ChatDataEnvelope,
  type DownloadMediaOptions,
  type DownloadedMedia,
} from './chatdata.js';
export * from './messages.js';
