/**
 * Helpers on top of FinanceSdk: lossless parsing of the GetChatData envelope (seq is a uint64,
 * JSON.parse would round it above 2^53) and chunked media download with per-chunk retry and md5
 * verification.
 */
import { createHash } from 'node:crypto';
import { FinanceSdkError, type FinanceSdk } from './types.js';

/** One encrypted message from GetChatData. */
export interface ChatDataItem {
  seq: bigint;
  msgid: string;
  publickeyVer: number;
  encryptRandomKey: string;
  encryptChatMsg: string;
}

/** The parsed GetChatData envelope. `errcode` ≠ 0 is WeCom's error even though the SDK returned 0. */
export interface ChatDataEnvelope {
  errcode: number;
  errmsg: string;
  /** Empty when the key is missing (WeCom omits it when caught up). */
  chatdata: ChatDataItem[];
  /** The `chatdata` key was absent. */
  chatdataMissing: boolean;
}

/**
 * Rewrites every integer value of a "seq" key into a string literal, outside of strings, so
 * JSON.parse keeps all 64 bits.
 */
export function quoteSeqNumbers(json: string): string {
  // Jumps from quote to quote with indexOf (a GetChatData answer is megabytes of base64 strings),
  // tracking the next backslash so escaped quotes are skipped without rescanning.
  let out = '';
  let last = 0;
  let backslash = json.indexOf('\\');
  let i = json.indexOf('"');
  while (i >= 0 && i < json.length) {
    const start = i;
    let end = i + 1;
    for (;;) {
      const quote = json.indexOf('"', end);
      if (quote < 0) {
        end = json.length + 1; // unterminated string
        break;
      }
      if (backslash >= 0 && backslash < end) backslash = json.indexOf('\\', end);
      if (backslash >= 0 && backslash < quote) {
        end = backslash + 2; // the escaped character cannot close the string
        continue;
      }
      end = quote + 1;
      break;
    }
    i = end;
    if (i - start === 5 && json.startsWith('"seq"', start)) {
      let j = i;
      while (j < json.length && /\s/.test(json[j]!)) j++;
      if (json[j] === ':') {
        j++;
        while (j < json.length && /\s/.test(json[j]!)) j++;
        const m = /^-?\d+/.exec(json.slice(j, j + 32));
        if (m) {
          out += `${json.slice(last, j)}"${m[0]}"`;
          last = j + m[0].length;
          i = last;
        }
      }
    }
    i = json.indexOf('"', i);
  }
  return out + json.slice(last);
}

/** Parses GetChatData JSON text losslessly. Throws FinanceSdkError(10002) on malformed JSON. */
export function parseChatData(text: string): ChatDataEnvelope {
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(quoteSeqNumbers(text)) as Record<string, unknown>;
  } catch {
    throw new FinanceSdkError(10002, 'GetChatData', text.slice(0, 300));
  }
  const raw = v.chatdata;
  const items = Array.isArray(raw) ? raw : [];
  return {
    errcode: typeof v.errcode === 'number' ? v.errcode : 0,
    errmsg: typeof v.errmsg === 'string' ? v.errmsg : '',
    chatdataMissing: raw === undefined,
    chatdata: items.map((it: Record<string, unknown>) => ({
      seq: BigInt(String(it.seq)),
      msgid: String(it.msgid),
      publickeyVer: Number(it.publickey_ver),
      encryptRandomKey: String(it.encrypt_random_key),
      encryptChatMsg: String(it.encrypt_chat_msg),
    })),
  };
}

export interface DownloadMediaOptions {
  /** Expected md5 hex from the message (may be empty: then not checked). */
  md5?: string;
  /** Retries of one chunk on retryable errors (default 5). */
  chunkRetries?: number;
  /** Whole-file restarts on md5 mismatch (default 2). */
  md5Retries?: number;
  timeout?: number;
  proxy?: string;
  passwd?: string;
  /** Backoff before retry n (default 100 ms × n). */
  backoffMs?: (attempt: number) => number;
}

/** Result of a media download. */
export interface DownloadedMedia {
  data: Buffer;
  md5: string;
  chunks: number;
  /** md5 restarts needed. */
  md5Restarts: number;
}

/** Downloads a whole file chunk by chunk; retries a failed chunk, not the file (protocol §1.4). */
export async function downloadMedia(
  sdk: FinanceSdk,
  sdkFileId: string,
  opts: DownloadMediaOptions = {},
): Promise<DownloadedMedia> {
  const chunkRetries = opts.chunkRetries ?? 5;
  const md5Retries = opts.md5Retries ?? 2;
  const backoff = opts.backoffMs ?? ((n: number) => 100 * n);
  for (let restart = 0; ; restart++) {
    const parts: Buffer[] = [];
    let index = '';
    let chunks = 0;
    for (;;) {
      let attempt = 0;
      let chunk;
      for (;;) {
        try {
          chunk = await sdk.getMediaData(index, sdkFileId, opts.proxy, opts.passwd, opts.timeout);
          break;
        } catch (e) {
          const retryable = (e as { retryable?: boolean }).retryable === true;
          if (!retryable || attempt >= chunkRetries) throw e;
          attempt++;
          await new Promise((r) => setTimeout(r, backoff(attempt)));
        }
      }
      parts.push(chunk.data);
      chunks++;
      if (chunk.isFinish) break;
      if (chunk.outIndexBuf === '' || chunk.outIndexBuf === index) {
        throw new FinanceSdkError(10002, 'GetMediaData', `cursor did not advance: "${chunk.outIndexBuf}"`);
      }
      index = chunk.outIndexBuf;
    }
    const data = Buffer.concat(parts);
    const md5 = createHash('md5').update(data).digest('hex');
    if (!opts.md5 || md5 === opts.md5.toLowerCase() || restart >= md5Retries) {
      return { data, md5, chunks, md5Restarts: restart };
    }
  }
}
