/**
 * koffi binding of libWeWorkFinanceSdk_C.so (the real one or the stand-in). All 17 exports are
 * declared with the vendor header's signatures. Functions returning `char*` are declared as
 * `void *` (same ABI) so koffi hands back the pointer and we copy exactly GetSliceLen /
 * GetDataLen bytes: media is binary and must never be read as a NUL-terminated string.
 * Network calls (GetChatData, GetMediaData) run on koffi's worker threads so the event loop is
 * not blocked. In production run this inside SupervisedFinanceSdk: a vendor crash kills the process.
 */
import koffi, { type LibraryHandle } from 'koffi';
import { FinanceSdkError, type FinanceSdk, type MediaChunk } from './types.js';

type Ptr = bigint | null;
type KoffiFn = ReturnType<LibraryHandle['func']>;

interface Fns {
  NewSdk: () => Ptr;
  Init: (sdk: Ptr, corpid: string, secret: string) => number;
  GetChatData: KoffiFn;
  DecryptData: (key: string, msg: string, slice: Ptr) => number;
  GetMediaData: KoffiFn;
  DestroySdk: (sdk: Ptr) => void;
  NewSlice: () => Ptr;
  FreeSlice: (slice: Ptr) => void;
  GetContentFromSlice: (slice: Ptr) => Ptr;
  GetSliceLen: (slice: Ptr) => number;
  NewMediaData: () => Ptr;
  FreeMediaData: (m: Ptr) => void;
  GetOutIndexBuf: (m: Ptr) => Ptr;
  GetData: (m: Ptr) => Ptr;
  GetIndexLen: (m: Ptr) => number;
  GetDataLen: (m: Ptr) => number;
  IsMediaDataFinish: (m: Ptr) => number;
}

let typesDeclared = false;

function declareTypes(): void {
  if (typesDeclared) return;
  // Same layout as the vendor header; only used through pointers and the accessor functions.
  koffi.opaque('WeWorkFinanceSdk_t');
  koffi.struct('Slice_t', { buf: 'void *', len: 'int' });
  koffi.struct('MediaData_t', {
    outindexbuf: 'void *',
    out_len: 'int',
    data: 'void *',
    data_len: 'int',
    is_finish: 'int',
  });
  typesDeclared = true;
}

/** Loads the library and declares the 17 functions. */
export function loadFinanceLibrary(libraryPath: string): Fns {
  declareTypes();
  const lib = koffi.load(libraryPath);
  const f = (proto: string) => lib.func(proto);
  return {
    NewSdk: f('WeWorkFinanceSdk_t *NewSdk()') as Fns['NewSdk'],
    Init: f('int Init(WeWorkFinanceSdk_t *sdk, const char *corpid, const char *secret)') as Fns['Init'],
    GetChatData: f(
      'int GetChatData(WeWorkFinanceSdk_t *sdk, unsigned long long seq, unsigned int limit, const char *proxy, const char *passwd, int timeout, Slice_t *chatDatas)',
    ),
    DecryptData: f(
      'int DecryptData(const char *encrypt_key, const char *encrypt_msg, Slice_t *msg)',
    ) as Fns['DecryptData'],
    GetMediaData: f(
      'int GetMediaData(WeWorkFinanceSdk_t *sdk, const char *indexbuf, const char *sdkFileid, const char *proxy, const char *passwd, int timeout, MediaData_t *media_data)',
    ),
    DestroySdk: f('void DestroySdk(WeWorkFinanceSdk_t *sdk)') as Fns['DestroySdk'],
    NewSlice: f('Slice_t *NewSlice()') as Fns['NewSlice'],
    FreeSlice: f('void FreeSlice(Slice_t *slice)') as Fns['FreeSlice'],
    GetContentFromSlice: f('void *GetContentFromSlice(Slice_t *slice)') as Fns['GetContentFromSlice'],
    GetSliceLen: f('int GetSliceLen(Slice_t *slice)') as Fns['GetSliceLen'],
    NewMediaData: f('MediaData_t *NewMediaData()') as Fns['NewMediaData'],
    FreeMediaData: f('void FreeMediaData(MediaData_t *media_data)') as Fns['FreeMediaData'],
    GetOutIndexBuf: f('void *GetOutIndexBuf(MediaData_t *media_data)') as Fns['GetOutIndexBuf'],
    GetData: f('void *GetData(MediaData_t *media_data)') as Fns['GetData'],
    GetIndexLen: f('int GetIndexLen(MediaData_t *media_data)') as Fns['GetIndexLen'],
    GetDataLen: f('int GetDataLen(MediaData_t *media_data)') as Fns['GetDataLen'],
    IsMediaDataFinish: f('int IsMediaDataFinish(MediaData_t *media_data)') as Fns['IsMediaDataFinish'],
  };
}

/** Copies `len` bytes from unmanaged memory (binary-safe). */
function copyBytes(ptr: Ptr, len: number): Buffer {
  if (!ptr || len <= 0) return Buffer.alloc(0);
  return Buffer.from(Buffer.from(koffi.view(ptr, len))); // the inner one is a view, the outer a copy
}

function callAsync(fn: KoffiFn, ...args: unknown[]): Promise<number> {
  return new Promise((resolve, reject) => {
    fn.async(...args, (err: unknown, res: number) => (err ? reject(err as Error) : resolve(res)));
  });
}

/** FinanceSdk over a loaded native library, in this process. */
export class KoffiFinanceSdk implements FinanceSdk {
  private readonly fns: Fns;
  private sdk: Ptr = null;

  constructor(readonly libraryPath: string) {
    this.fns = loadFinanceLibrary(libraryPath);
  }

  async init(corpId: string, secret: string): Promise<void> {
    if (this.sdk) this.fns.DestroySdk(this.sdk);
    this.sdk = this.fns.NewSdk();
    if (!this.sdk) throw new FinanceSdkError(10003, 'NewSdk');
    const ret = this.fns.Init(this.sdk, corpId, secret);
    if (ret !== 0) {
      this.fns.DestroySdk(this.sdk);
      this.sdk = null;
      throw new FinanceSdkError(ret, 'Init');
    }
  }

  private handle(op: string): Ptr {
    if (!this.sdk) throw new FinanceSdkError(10000, op, 'init() was not called');
    return this.sdk;
  }

  /** The Slice's bytes as UTF-8 text, decoded straight from the library's memory (before FreeSlice). */
  private readSlice(slice: Ptr): string {
    const ptr = this.fns.GetContentFromSlice(slice);
    const len = this.fns.GetSliceLen(slice);
    if (!ptr || len <= 0) return '';
    return Buffer.from(koffi.view(ptr, len)).toString('utf8');
  }

  async getChatData(seq: bigint, limit: number, proxy = '', passwd = '', timeout = 10): Promise<string> {
    const sdk = this.handle('GetChatData');
    if (seq < 0n || seq > 0xffffffffffffffffn)
      throw new FinanceSdkError(10000, 'GetChatData', 'seq out of uint64 range');
    const slice = this.fns.NewSlice();
    try {
      // seq is passed as a BigInt: unsigned long long, never a JS number.
      const ret = await callAsync(this.fns.GetChatData, sdk, seq, limit, proxy, passwd, timeout, slice);
      // Read the Slice even on failure: it usually holds WeCom's error JSON.
      const text = this.readSlice(slice);
      if (ret !== 0) throw new FinanceSdkError(ret, 'GetChatData', text || null);
      return text;
    } finally {
      this.fns.FreeSlice(slice);
    }
  }

  async decryptData(encryptKey: string, encryptMsg: string): Promise<string> {
    const slice = this.fns.NewSlice();
    try {
      const ret = this.fns.DecryptData(encryptKey, encryptMsg, slice);
      const text = this.readSlice(slice);
      if (ret !== 0) throw new FinanceSdkError(ret, 'DecryptData', text || null);
      return text;
    } finally {
      this.fns.FreeSlice(slice);
    }
  }

  async getMediaData(
    indexBuf: string,
    sdkFileId: string,
    proxy = '',
    passwd = '',
    timeout = 10,
  ): Promise<MediaChunk> {
    const sdk = this.handle('GetMediaData');
    const media = this.fns.NewMediaData();
    try {
      const ret = await callAsync(
        this.fns.GetMediaData,
        sdk,
        indexBuf,
        sdkFileId,
        proxy,
        passwd,
        timeout,
        media,
      );
      const data = copyBytes(this.fns.GetData(media), this.fns.GetDataLen(media));
      if (ret !== 0)
        throw new FinanceSdkError(ret, 'GetMediaData', data.length > 0 ? data.toString('utf8') : null);
      return {
        outIndexBuf: copyBytes(this.fns.GetOutIndexBuf(media), this.fns.GetIndexLen(media)).toString('utf8'),
        data,
        isFinish: this.fns.IsMediaDataFinish(media) === 1,
      };
    } finally {
      this.fns.FreeMediaData(media);
    }
  }

  async close(): Promise<void> {
    if (this.sdk) this.fns.DestroySdk(this.sdk);
    this.sdk = null;
  }
}
