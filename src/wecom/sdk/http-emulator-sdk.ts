/**
 * Pure TypeScript FinanceSdk that reads the emulator's archive endpoints directly, for the
 * zero-config demo on machines without a C compiler. Same semantics as the stand-in library:
 * SDK return code in x-sdk-ret, dropped connections → 10001, the crash marker → crashed.
 */
import { CRASH_MARKER } from '../emulator/generator.js';
import { decryptChatMsg } from '../emulator/emulator-crypto.js';
import { FinanceSdkCrashedError, FinanceSdkError, type FinanceSdk, type MediaChunk } from './types.js';

/** FinanceSdk client of a running emulator (`baseUrl`, e.g. http://127.0.0.1:8787). */
export class HttpEmulatorFinanceSdk implements FinanceSdk {
  private corpId: string | null = null;
  private secret = '';

  constructor(private readonly baseUrl: string) {}

  async init(corpId: string, secret: string): Promise<void> {
    if (!corpId || !secret) throw new FinanceSdkError(10000, 'Init');
    this.corpId = corpId;
    this.secret = secret;
  }

  private async post(
    op: string,
    path: string,
    body: Record<string, unknown>,
    timeout: number,
  ): Promise<Response> {
    if (!this.corpId) throw new FinanceSdkError(10000, op, 'init() was not called');
    try {
      return await fetch(new URL(path, this.baseUrl), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ corpid: this.corpId, secret: this.secret, ...body }),
        signal: AbortSignal.timeout((timeout > 0 ? timeout : 10) * 1000),
      });
    } catch {
      throw new FinanceSdkError(10001, op);
    }
  }

  async getChatData(seq: bigint, limit: number, _proxy = '', _passwd = '', timeout = 10): Promise<string> {
    const res = await this.post(
      'GetChatData',
      '/emulator/finance/chatdata',
      { seq: seq.toString(), limit },
      timeout,
    );
    let text: string;
    try {
      text = await res.text();
    } catch {
      throw new FinanceSdkError(10001, 'GetChatData');
    }
    const ret = Number(res.headers.get('x-sdk-ret') ?? '10002');
    if (ret !== 0) throw new FinanceSdkError(ret, 'GetChatData', text);
    return text;
  }

  async decryptData(encryptKey: string, encryptMsg: string): Promise<string> {
    if (!encryptKey) throw new FinanceSdkError(10008, 'DecryptData');
    let plain: string;
    try {
      plain = decryptChatMsg(encryptKey, encryptMsg);
    } catch {
      throw new FinanceSdkError(10006, 'DecryptData');
    }
    // The native stand-in segfaults here; report what the supervisor would after its retries.
    if (plain.startsWith(CRASH_MARKER)) throw new FinanceSdkCrashedError('DecryptData', 1, 'SIGSEGV');
    return plain;
  }

  async getMediaData(
    indexBuf: string,
    sdkFileId: string,
    _proxy = '',
    _passwd = '',
    timeout = 10,
  ): Promise<MediaChunk> {
    const res = await this.post(
      'GetMediaData',
      '/emulator/finance/media',
      { sdkfileid: sdkFileId, indexbuf: indexBuf },
      timeout,
    );
    let data: Buffer;
    try {
      data = Buffer.from(await res.arrayBuffer());
    } catch {
      throw new FinanceSdkError(10001, 'GetMediaData');
    }
    const ret = Number(res.headers.get('x-sdk-ret') ?? '10002');
    if (ret !== 0) throw new FinanceSdkError(ret, 'GetMediaData', data.toString('utf8'));
    return {
      outIndexBuf: res.headers.get('x-out-index-buf') ?? '',
      data,
      isFinish: res.headers.get('x-is-finish') === '1',
    };
  }

  async close(): Promise<void> {
    this.corpId = null;
  }
}
