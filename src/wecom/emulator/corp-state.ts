/**
 * Mutable state of one emulated corp: secrets, RSA key versions and rotation, which messages are
 * visible, injected messages, request-level faults, tokens, login codes, sent app messages and
 * msgaudit_notify callbacks. The message content itself comes from SyntheticCorp.
 */
import { createHash, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { computeSignature, WXBizMsgCrypt } from '../callback-crypto.js';
import { encryptChatMsg, encryptRandomKey } from './emulator-crypto.js';
import {
  SyntheticCorp,
  type GeneratedMessage,
  type GeneratorOptions,
  type MediaAttachment,
} from './generator.js';
import { md5Hex } from './media-fixtures.js';
import { Rng } from './prng.js';
import { SealedEnvelopes } from './sealed-envelopes.js';

/** Faults that act on requests (not on message content); may be changed at any time. */
export interface RequestFaults {
  /** Share of chatdata/media requests whose connection is dropped (SDK → 10001). */
  networkErrorRate?: number;
  /** Share of chatdata requests answered ret 0 with errcode 48002 inside the JSON. */
  apiForbiddenRate?: number;
  /** When caught up, answer `{"errcode":0,"errmsg":"ok"}` without a chatdata key. */
  omitChatdataWhenCaughtUp?: boolean;
  /** Share of media chunk requests whose connection is dropped. */
  mediaChunkFailureRate?: number;
  /** Share of requests delayed by slowMs. */
  slowRate?: number;
  slowMs?: number;
  /** Every archive request fails with 10009 (server IP not trusted). */
  illegalIp?: boolean;
  /** Messages older than this many days (emulator clock) are no longer served. */
  windowDays?: number;
  /** Media of messages older than this many days fail with 10010 (data expired). */
  mediaExpiryDays?: number;
}

export interface CorpSecrets {
  /** 会话内容存档 Secret: msgaudit APIs and the finance SDK. */
  archive: string;
  /** 通讯录同步 Secret: user/list_id and the contact APIs. */
  contacts: string;
  /** 客户联系 Secret. */
  externalcontact: string;
  /** Self-built app secret: message/send, auth/getuserinfo, contacts read. */
  app: string;
}

export type SecretKind = keyof CorpSecrets;

export interface CallbackOptions {
  url: string;
  token: string;
  encodingAesKey: string;
  /** Minimum gap between two msgaudit_notify events (WeCom: 15 s). */
  intervalMs?: number;
}

export interface CorpOptions extends Omit<GeneratorOptions, 'seed'> {
  seed?: string;
  secrets?: Partial<CorpSecrets>;
  agentId?: number;
  /** RSA public keys by version; when omitted a 2048-bit pair (version 1) is generated. */
  publicKeys?: Array<{ ver: number; pem: string }>;
  /** How many generated messages are visible at start (default all). */
  visibleCount?: number;
  faults?: RequestFaults;
  callback?: CallbackOptions;
  /** Media chunk size (default 512 KB, as WeCom). */
  mediaChunkSize?: number;
}

/** A msgaudit_notify delivery attempt, for tests. */
export interface NotifyRecord {
  at: number;
  url: string;
  status: number | null;
  error: string | null;
  body: string;
}

/** An app message sent through message/send. */
export interface SentMessage {
  at: number;
  agentid: number;
  touser: string[];
  msgtype: string;
  body: Record<string, unknown>;
  msgid: string;
}

/** Expected media of one message, for ground truth. */
export interface ExpectedMedia extends MediaAttachment {
  bytes: Buffer;
  /** Download fails for good (10005/10010). */
  expired: boolean;
}

/** What an archive should hold for one message. */
export interface ExpectedMessage extends Omit<GeneratedMessage, 'media'> {
  publickeyVer: number;
  media: ExpectedMedia[];
}

const UNKNOWN_KEY_VER = 9999;

/** One emulated corp. */
export class EmulatedCorp {
  readonly corpId: string;
  readonly gen: SyntheticCorp;
  readonly secrets: CorpSecrets;
  readonly agentId: number;
  readonly mediaChunkSize: number;
  faults: RequestFaults;
  callback: CallbackOptions | null;
  readonly sent: SentMessage[] = [];
  readonly notifications: NotifyRecord[] = [];
  /** Login user chosen on the emulated authorize page when no userid is given. */
  loginUser: string | null = null;

  private readonly publicKeys = new Map<number, KeyObject>();
  private readonly generatedPrivateKeys = new Map<number, string>();
  private readonly keySchedule: Array<{ fromIndex: number; ver: number }> = [];
  private readonly injected: GeneratedMessage[] = [];
  private readonly customMedia = new Map<string, Buffer>();
  private readonly md5Served = new Set<string>();
  private readonly requestRng: Rng;
  private visible: number;
  private lostKey: KeyObject | null = null;
  /** Envelopes encrypted ahead by sealEnvelopes, by message index. */
  private sealed: SealedEnvelopes | null = null;
  private notifyTimer: NodeJS.Timeout | null = null;
  private lastNotifyAt = 0;
  private lastNotifiedCount = 0;

  constructor(
    opts: CorpOptions,
    private readonly now: () => number,
  ) {
    this.corpId = opts.corpId;
    const seed = opts.seed ?? opts.corpId;
    this.gen = new SyntheticCorp({ ...opts, seed });
    const derive = (kind: string): string =>
      createHash('sha256').update(`${seed}|secret|${kind}`).digest('base64url').slice(0, 43);
    this.secrets = {
      archive: opts.secrets?.archive ?? derive('archive'),
      contacts: opts.secrets?.contacts ?? derive('contacts'),
      externalcontact: opts.secrets?.externalcontact ?? derive('externalcontact'),
      app: opts.secrets?.app ?? derive('app'),
    };
    this.agentId = opts.agentId ?? 1000002;
    this.mediaChunkSize = opts.mediaChunkSize ?? 512 * 1024;
    this.faults = { ...opts.faults };
    this.callback = opts.callback ?? null;
    this.requestRng = Rng.from(seed, 'requests');
    this.visible = Math.min(opts.visibleCount ?? this.gen.messageCount, this.gen.messageCount);
    this.lastNotifiedCount = this.visible;
    if (opts.publicKeys && opts.publicKeys.length > 0) {
      for (const k of opts.publicKeys) this.registerPublicKey(k.ver, k.pem);
    } else {
      const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      this.generatedPrivateKeys.set(1, privateKey.export({ type: 'pkcs1', format: 'pem' }).toString());
      this.registerPublicKey(1, publicKey.export({ type: 'spki', format: 'pem' }).toString());
    }
  }

  // ---------- keys ----------

  /** Registers an RSA public key version; the first one registered applies from message 0. */
  registerPublicKey(ver: number, pem: string): void {
    this.publicKeys.set(ver, createPublicKey(pem));
    if (this.keySchedule.length === 0) this.keySchedule.push({ fromIndex: 0, ver });
  }

  /** Key rotation: messages that become visible from now on are encrypted to `ver`. */
  rotateKey(ver: number, pem: string): void {
    this.publicKeys.set(ver, createPublicKey(pem));
    this.keySchedule.push({ fromIndex: this.visible, ver });
  }

  /** Private key PEM (PKCS#1) of a version the emulator generated itself, for demos and tests. */
  generatedPrivateKey(ver: number): string | undefined {
    return this.generatedPrivateKeys.get(ver);
  }

  /** publickey_ver used for message `index`, including old/unknown key-version faults. */
  keyVersionOf(index: number, fault: string | null): number {
    let pos = 0;
    for (let i = 0; i < this.keySchedule.length; i++) if (this.keySchedule[i]!.fromIndex <= index) pos = i;
    if (fault === 'unknown_key_version') return UNKNOWN_KEY_VER;
    if (fault === 'old_key_version' && pos > 0) return this.keySchedule[pos - 1]!.ver;
    return this.keySchedule[pos]!.ver;
  }

  private publicKeyFor(ver: number): KeyObject {
    const k = this.publicKeys.get(ver);
    if (k) return k;
    // A key nobody holds: the client cannot decrypt, exactly like a version it never uploaded.
    this.lostKey ??= generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
    return this.lostKey;
  }

  // ---------- messages ----------

  /** Generated plus injected messages. */
  totalCount(): number {
    return this.gen.messageCount + this.injected.length;
  }

  /** Messages currently served by GetChatData. */
  visibleCount(): number {
    return this.visible;
  }

  /** Message by index (generated or injected). */
  message(index: number): GeneratedMessage {
    return index < this.gen.messageCount
      ? this.gen.message(index)
      : this.injected[index - this.gen.messageCount]!;
  }

  seqOf(index: number): bigint {
    return this.gen.seqOf(index);
  }

  /** Makes `count` more messages visible ("new messages arrive"), then schedules a notify. */
  advance(count: number): number {
    this.visible = Math.min(this.totalCount(), this.visible + Math.max(0, count));
    this.scheduleNotify();
    return this.visible;
  }

  /** Registers media bytes for injected messages; returns its attachment descriptor. */
  addMedia(bytes: Buffer, name = 'custom'): MediaAttachment {
    const n = this.customMedia.size;
    const sig = createHash('sha256').update(`${this.gen.seed}|custom|${n}`).digest('hex').slice(0, 16);
    const sdkfileid = Buffer.from(`emuc|${this.corpId}|${name}|${n}|${sig}`).toString('base64');
    this.customMedia.set(sdkfileid, bytes);
    return { sdkfileid, source: 'custom', md5: md5Hex(bytes), size: bytes.length };
  }

  /**
   * Appends a custom message after all generated ones and makes everything visible. `body` holds
   * the message fields except msgid/msgtime (generated); `plaintext` overrides the JSON text.
   */
  injectMessage(
    body: Record<string, unknown>,
    opts: { media?: MediaAttachment[]; plaintext?: string; fault?: GeneratedMessage['fault'] } = {},
  ): GeneratedMessage {
    const index = this.totalCount();
    const msgid = `CAQQinj${createHash('sha1').update(`${this.corpId}|inj|${index}`).digest('base64').slice(0, 20)}`;
    const msgtime = this.now();
    const message: Record<string, unknown> =
      body.action === 'switch'
        ? { msgid, time: msgtime, ...body }
        : { msgid, action: 'send', msgtime, ...body };
    const m: GeneratedMessage = {
      index,
      seq: this.gen.seqOf(index),
      msgid,
      msgtime,
      msgtype: typeof body.msgtype === 'string' ? body.msgtype : 'switch',
      message,
      plaintext: opts.plaintext ?? JSON.stringify(message),
      media: opts.media ?? [],
      risk: null,
      fault: opts.fault ?? null,
    };
    this.injected.push(m);
    this.visible = this.totalCount();
    this.scheduleNotify();
    return m;
  }

  /** First visible index still inside the retention window (binary search; msgtime is monotone). */
  firstIndexInWindow(): number {
    const days = this.faults.windowDays;
    if (days === undefined) return 0;
    const cutoff = this.now() - days * 86_400_000;
    let lo = 0;
    let hi = this.visible;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.message(mid).msgtime < cutoff) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Random key for a message: deterministic so ciphertexts are reproducible. */
  randomKeyOf(index: number): string {
    return Rng.from(this.gen.seed, 'randomkey', index, this.message(index).msgid).chars(32);
  }

  /**
   * Encrypts the envelopes of all visible messages now and serves these from then on, as WeCom
   * does: it encrypts a message once, when it is sent, not on every pull. Load generators (the
   * ingest benchmark) call it so serving a pull costs what it costs WeCom.
   */
  sealEnvelopes(onProgress?: (sealed: number, total: number) => void): void {
    const total = this.visible;
    const sealed = new SealedEnvelopes(total);
    for (let i = 0; i < total; i++) {
      sealed.append(this.encryptEnvelope(i));
      if (onProgress && (i + 1) % 10_000 === 0) onProgress(i + 1, total);
    }
    this.sealed = sealed;
  }

  /** The entries of messages [start, end), comma-separated: the inside of GetChatData's list. */
  chatDataItems(start: number, end: number): Buffer {
    const sealedEnd = Math.min(end, this.sealed?.count ?? 0);
    const pieces = start < sealedEnd ? this.sealed!.pieces(start, sealedEnd) : [];
    const rest: string[] = [];
    for (let i = Math.max(start, sealedEnd); i < end; i++) rest.push(this.encryptEnvelope(i));
    if (rest.length > 0) pieces.push(Buffer.from((pieces.length > 0 ? ',' : '') + rest.join(',')));
    return Buffer.concat(pieces);
  }

  /** The GetChatData envelope entry for one message (JSON text; seq written as a raw integer). */
  private encryptEnvelope(index: number): string {
    const m = this.message(index);
    const ver = this.keyVersionOf(index, m.fault);
    const rk = this.randomKeyOf(index);
    const ek = encryptRandomKey(this.publicKeyFor(ver), rk);
    const em = encryptChatMsg(rk, m.plaintext);
    return `{"seq":${m.seq.toString()},"msgid":${JSON.stringify(m.msgid)},"publickey_ver":${ver},"encrypt_random_key":"${ek}","encrypt_chat_msg":"${em}"}`;
  }

  // ---------- media ----------

  /** Resolves an sdkfileid to bytes and the owning message index (-1 for custom media). */
  resolveMedia(sdkfileid: string): { bytes: Buffer; index: number } | null {
    const custom = this.customMedia.get(sdkfileid);
    if (custom) return { bytes: custom, index: -1 };
    return this.gen.resolveSdkFileId(sdkfileid);
  }

  /** Whether the first full download of this file should be corrupted (md5 mismatch on first try). */
  takeMd5Corruption(sdkfileid: string, index: number): boolean {
    if (index < 0 || this.message(index).fault !== 'md5_mismatch_first_try') return false;
    if (this.md5Served.has(sdkfileid)) return false;
    this.md5Served.add(sdkfileid);
    return true;
  }

  /** Deterministic draw for request-level faults. */
  roll(rate: number | undefined): boolean {
    const r = this.requestRng.next();
    return rate !== undefined && rate > 0 && r < rate;
  }

  // ---------- ground truth ----------

  /** The expected archive content for messages [from, to) of the visible ones. */
  *groundTruth(from = 0, to = this.visible): Generator<ExpectedMessage> {
    const mediaCutoff =
      this.faults.mediaExpiryDays === undefined
        ? -Infinity
        : this.now() - this.faults.mediaExpiryDays * 86_400_000;
    for (let i = Math.max(0, from); i < Math.min(to, this.visible); i++) {
      const m = this.message(i);
      const expired = m.fault === 'expired_media' || m.msgtime < mediaCutoff;
      yield {
        ...m,
        publickeyVer: this.keyVersionOf(i, m.fault),
        media: m.media.map((a) => ({ ...a, bytes: this.resolveMedia(a.sdkfileid)!.bytes, expired })),
      };
    }
  }

  // ---------- callbacks ----------

  /** Schedules a msgaudit_notify if a callback is configured and new messages exist. */
  scheduleNotify(): void {
    if (!this.callback || this.notifyTimer || this.visible <= this.lastNotifiedCount) return;
    const interval = this.callback.intervalMs ?? 15_000;
    const wait = Math.max(0, this.lastNotifyAt + interval - Date.now());
    this.notifyTimer = setTimeout(() => {
      this.notifyTimer = null;
      void this.sendNotify();
    }, wait);
    this.notifyTimer.unref();
  }

  private async sendNotify(): Promise<void> {
    const cb = this.callback;
    if (!cb || this.visible <= this.lastNotifiedCount) return;
    this.lastNotifyAt = Date.now();
    this.lastNotifiedCount = this.visible;
    const body = this.eventXml(
      `<ToUserName><![CDATA[${this.corpId}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>` +
        `<CreateTime>${Math.floor(this.now() / 1000)}</CreateTime><MsgType><![CDATA[event]]></MsgType>` +
        `<AgentID>${this.agentId}</AgentID><Event><![CDATA[msgaudit_notify]]></Event>`,
    );
    await this.postCallback(cb, body);
    this.scheduleNotify();
  }

  /** Sends a change_external_contact/msg_audit_approved event (a customer agreed to archiving). */
  async notifyMsgAuditApproved(userId: string, externalUserId: string): Promise<NotifyRecord | null> {
    if (!this.callback) return null;
    const body = this.eventXml(
      `<ToUserName><![CDATA[${this.corpId}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>` +
        `<CreateTime>${Math.floor(this.now() / 1000)}</CreateTime><MsgType><![CDATA[event]]></MsgType>` +
        `<Event><![CDATA[change_external_contact]]></Event><ChangeType><![CDATA[msg_audit_approved]]></ChangeType>` +
        `<UserID><![CDATA[${userId}]]></UserID><ExternalUserID><![CDATA[${externalUserId}]]></ExternalUserID>` +
        `<WelcomeCode><![CDATA[${randomBytes(12).toString('hex')}]]></WelcomeCode>`,
    );
    return this.postCallback(this.callback, body);
  }

  private eventXml(inner: string): string {
    return `<xml>${inner}</xml>`;
  }

  private async postCallback(cb: CallbackOptions, plainXml: string): Promise<NotifyRecord> {
    const crypt = new WXBizMsgCrypt(cb.token, cb.encodingAesKey, this.corpId);
    const timestamp = String(Math.floor(Date.now() / 1000));
    const nonce = randomBytes(6).toString('hex');
    const encrypted = crypt.encrypt(plainXml);
    const signature = computeSignature(cb.token, timestamp, nonce, encrypted);
    const body =
      `<xml><ToUserName><![CDATA[${this.corpId}]]></ToUserName><Encrypt><![CDATA[${encrypted}]]></Encrypt>` +
      `<AgentID><![CDATA[${this.agentId}]]></AgentID></xml>`;
    const url = new URL(cb.url);
    url.searchParams.set('msg_signature', signature);
    url.searchParams.set('timestamp', timestamp);
    url.searchParams.set('nonce', nonce);
    const rec: NotifyRecord = {
      at: Date.now(),
      url: url.toString(),
      status: null,
      error: null,
      body: plainXml,
    };
    try {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'text/xml' }, body });
      rec.status = res.status;
      await res.text();
    } catch (e) {
      rec.error = (e as Error).message;
    }
    this.notifications.push(rec);
    return rec;
  }

  /** Performs WeCom's URL verification against the callback URL; resolves to true when it echoes correctly. */
  async verifyCallbackUrl(): Promise<boolean> {
    const cb = this.callback;
    if (!cb) return false;
    const crypt = new WXBizMsgCrypt(cb.token, cb.encodingAesKey, this.corpId);
    const plain = String(Math.floor(Math.random() * 1e18));
    const echostr = crypt.encrypt(plain);
    const timestamp = String(Math.floor(Date.now() / 1000));
    const nonce = randomBytes(6).toString('hex');
    const url = new URL(cb.url);
    url.searchParams.set('msg_signature', computeSignature(cb.token, timestamp, nonce, echostr));
    url.searchParams.set('timestamp', timestamp);
    url.searchParams.set('nonce', nonce);
    url.searchParams.set('echostr', echostr);
    const res = await fetch(url);
    return (await res.text()) === plain;
  }

  /** Stops timers. */
  close(): void {
    if (this.notifyTimer) clearTimeout(this.notifyTimer);
    this.notifyTimer = null;
  }
}
