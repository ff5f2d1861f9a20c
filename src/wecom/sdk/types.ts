/** The finance SDK contract shared by the koffi binding, the supervised child and the HTTP client. */

/** One media chunk from GetMediaData. */
export interface MediaChunk {
  /** Cursor for the next chunk, e.g. "Range:bytes=524288-1048575". */
  outIndexBuf: string;
  /** Binary chunk (never read as a C string). */
  data: Buffer;
  isFinish: boolean;
}

/** The WeCom finance SDK (会话内容存档) as Vigil uses it. All calls are async. */
export interface FinanceSdk {
  /** NewSdk + Init with the corp id and the 会话内容存档 Secret. */
  init(corpId: string, secret: string): Promise<void>;
  /** GetChatData: raw JSON text of messages after `seq` (exclusive). Check the JSON errcode too. */
  getChatData(seq: bigint, limit: number, proxy?: string, passwd?: string, timeout?: number): Promise<string>;
  /** DecryptData: `encryptKey` is the RSA-decrypted random key. Returns the message plaintext. */
  decryptData(encryptKey: string, encryptMsg: string): Promise<string>;
  /** GetMediaData: one chunk; pass '' first, then the previous outIndexBuf. */
  getMediaData(
    indexBuf: string,
    sdkFileId: string,
    proxy?: string,
    passwd?: string,
    timeout?: number,
  ): Promise<MediaChunk>;
  /** DestroySdk / stop the child process. */
  close(): Promise<void>;
}

/** Meaning of the SDK return codes (vendor header). */
export const SDK_ERROR_MESSAGES: Record<number, string> = {
  10000: 'bad parameters',
  10001: 'network error',
  10002: 'response parse failure',
  10003: 'system failure',
  10004: 'key error caused encryption failure',
  10005: 'bad or expired sdkfileid',
  10006: 'decryption failed',
  10007: 'no private key for this publickey_ver',
  10008: 'failed to parse encrypt_key',
  10009: 'illegal IP (server IP not trusted)',
  10010: 'data expired',
  10011: 'certificate error',
};

/** 10001–10003 are transient (network, parse, system): retry with backoff. */
export function isRetryableSdkCode(code: number): boolean {
  return code >= 10001 && code <= 10003;
}

/** A non-zero SDK return code, with the Slice content (often WeCom's error JSON) when there was one. */
export class FinanceSdkError extends Error {
  readonly retryable: boolean;

  constructor(
    readonly code: number,
    readonly op: string,
    readonly slice: string | null = null,
  ) {
    super(
      `${op} returned ${code} (${SDK_ERROR_MESSAGES[code] ?? 'unknown code'})${slice ? `: ${slice.slice(0, 300)}` : ''}`,
    );
    this.name = 'FinanceSdkError';
    this.retryable = isRetryableSdkCode(code);
  }
}

/**
 * The native library crashed on this operation repeatedly (e.g. SIGSEGV in DecryptData).
 * Quarantine the message with its encrypted envelope; do not retry automatically.
 */
export class FinanceSdkCrashedError extends Error {
  readonly retryable = false;
  readonly code = 'crashed' as const;

  constructor(
    readonly op: string,
    readonly crashes: number,
    readonly signal: string | null,
    readonly stderr = '',
  ) {
    super(`${op} crashed the finance SDK ${crashes} time(s)${signal ? ` (${signal})` : ''}`);
    this.name = 'FinanceSdkCrashedError';
  }
}

/** The SDK did not answer in time; the child was killed. Retryable. */
export class FinanceSdkTimeoutError extends Error {
  readonly retryable = true;
  readonly code = 'timeout' as const;

  constructor(
    readonly op: string,
    readonly timeoutMs: number,
  ) {
    super(`${op} timed out after ${timeoutMs} ms`);
    this.name = 'FinanceSdkTimeoutError';
  }
}
