import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decryptRandomKey } from '../emulator/emulator-crypto.js';
import { ALL_MSGTYPES } from '../emulator/generator.js';
import { createEmulator, type Emulator } from '../emulator/server.js';
import { ensureStandinLibrary } from './build-standin.js';
import { downloadMedia, parseChatData } from './chatdata.js';
import { KoffiFinanceSdk } from './koffi-sdk.js';
import { parseDecryptedMessage } from './messages.js';
import { SupervisedFinanceSdk, type SupervisorEvent } from './supervised-sdk.js';
import { FinanceSdkCrashedError, FinanceSdkError, FinanceSdkTimeoutError } from './types.js';

let emu: Emulator;
let lib: string;
const CORP = 'wwnative01';
const CRASH = 'wwcrash01';

beforeAll(async () => {
  lib = await ensureStandinLibrary();
  emu = await createEmulator({
    corps: [
      { corpId: CORP, messageCount: 450, seqStart: 2n ** 63n + 7n },
      { corpId: CRASH, messageCount: 60, faultAt: { 10: 'crash', 33: 'crash' } },
    ],
  });
  // The stand-in library finds the emulator through this variable (also inherited by children).
  process.env.WECOM_EMULATOR_URL = emu.baseUrl;
});
afterAll(async () => emu.stop());

describe('stand-in library build', () => {
  it('is cached while its sources are unchanged', async () => {
    expect(await ensureStandinLibrary()).toBe(lib);
  });
});

describe('KoffiFinanceSdk against the stand-in library', () => {
  it('pulls and decrypts every message type with uint64 seqs above 2^63', async () => {
    const corp = emu.corp(CORP);
    const sdk = new KoffiFinanceSdk(lib);
    await sdk.init(CORP, corp.secrets.archive);
    const key = corp.generatedPrivateKey(1)!;
    const truth = [...corp.groundTruth()];
    const types = new Set<string>();
    let seq = 0n;
    let n = 0;
    for (;;) {
      const env = parseChatData(await sdk.getChatData(seq, 100));
      if (env.chatdata.length === 0) break;
      for (const it of env.chatdata) {
        const t = truth[n++]!;
        expect(it.seq).toBe(t.seq);
        const plain = await sdk.decryptData(decryptRandomKey(key, it.encryptRandomKey), it.encryptChatMsg);
        expect(plain).toBe(t.plaintext);
        const parsed = parseDecryptedMessage(plain);
        if (parsed.ok) types.add(parsed.message.action === 'switch' ? 'switch' : parsed.message.msgtype);
      }
      seq = env.chatdata.at(-1)!.seq;
    }
    expect(n).toBe(450);
    expect(seq).toBe(2n ** 63n + 7n + 449n);
    for (const t of ALL_MSGTYPES) expect(types.has(t), t).toBe(true);
    await sdk.close();
  });

  it('downloads media byte-exact across 512 KB chunks, NUL bytes included', async () => {
    const corp = emu.corp(CORP);
    const sdk = new KoffiFinanceSdk(lib);
    await sdk.init(CORP, corp.secrets.archive);
    const big = Buffer.concat([randomBytes(700_000), Buffer.alloc(100_000), randomBytes(300_001)]);
    const custom = corp.addMedia(big, 'big-test.bin');
    const first = await sdk.getMediaData('', custom.sdkfileid);
    expect(first).toMatchObject({ outIndexBuf: 'Range:bytes=524288-1048575', isFinish: false });
    expect(first.data.length).toBe(524_288);
    const d = await downloadMedia(sdk, custom.sdkfileid, { md5: custom.md5 });
    expect(d.chunks).toBe(3);
    expect(d.data.equals(big)).toBe(true);
    const seen = new Set<string>();
    for (const m of corp.groundTruth()) {
      for (const a of m.media) {
        if (seen.has(a.source)) continue;
        seen.add(a.source);
        const got = await downloadMedia(sdk, a.sdkfileid, { md5: a.md5 });
        expect(got.data.equals(a.bytes), a.source).toBe(true);
      }
    }
    expect(seen.size).toBeGreaterThanOrEqual(7);
    await sdk.close();
  });

  it('maps return codes to typed errors and keeps the Slice text', async () => {
    const corp = emu.corp(CORP);
    const sdk = new KoffiFinanceSdk(lib);
    await sdk.init(CORP, corp.secrets.archive);
    const limit = await sdk.getChatData(0n, 1001).catch((e: unknown) => e);
    expect(limit).toBeInstanceOf(FinanceSdkError);
    expect(limit).toMatchObject({ code: 10000, retryable: false, slice: expect.stringContaining('limit') });
    await expect(sdk.getMediaData('', 'bm90LWEtZmlsZQ==')).rejects.toMatchObject({ code: 10005 });
    await expect(sdk.decryptData('k', 'not base64!')).rejects.toMatchObject({ code: 10006 });
    await expect(sdk.decryptData('', 'AAAA')).rejects.toMatchObject({ code: 10008 });
    corp.faults = { networkErrorRate: 1 };
    await expect(sdk.getChatData(0n, 10)).rejects.toMatchObject({ code: 10001, retryable: true });
    corp.faults = { apiForbiddenRate: 1 };
    expect(parseChatData(await sdk.getChatData(0n, 10)).errcode).toBe(48002);
    corp.faults = {};
    const wrong = new KoffiFinanceSdk(lib);
    await expect(wrong.getChatData(0n, 1)).rejects.toMatchObject({ code: 10000 });
    await sdk.close();
  });
});

describe('SupervisedFinanceSdk', () => {
  it('survives SIGSEGV in DecryptData, restarts the child and reports the message as crashed', async () => {
    const corp = emu.corp(CRASH);
    const events: SupervisorEvent[] = [];
    const sdk = new SupervisedFinanceSdk({ libraryPath: lib, maxCrashes: 2, onEvent: (e) => events.push(e) });
    await sdk.init(CRASH, corp.secrets.archive);
    const key = corp.generatedPrivateKey(1)!;
    const truth = [...corp.groundTruth()];
    const env = parseChatData(await sdk.getChatData(0n, 1000));
    expect(env.chatdata).toHaveLength(60);
    const crashed: number[] = [];
    for (const [i, it] of env.chatdata.entries()) {
      try {
        const plain = await sdk.decryptData(decryptRandomKey(key, it.encryptRandomKey), it.encryptChatMsg);
        expect(plain).toBe(truth[i]!.plaintext);
      } catch (e) {
        expect(e).toBeInstanceOf(FinanceSdkCrashedError);
        expect(e).toMatchObject({ code: 'crashed', crashes: 2, signal: 'SIGSEGV' });
        crashed.push(i);
      }
    }
    expect(crashed).toEqual([10, 33]);
    expect(events.filter((e) => e.type === 'crash')).toHaveLength(4);
    expect(sdk.spawns).toBe(5);
    // The restarted child was re-initialised: network calls still work.
    expect(parseChatData(await sdk.getChatData(59n, 10)).chatdata.map((c) => c.seq)).toEqual([60n]);
    const media = truth.find((t) => t.media.length > 0)!.media[0]!;
    expect((await downloadMedia(sdk, media.sdkfileid)).data.equals(media.bytes)).toBe(true);
    await sdk.close();
  });

  it('times out a hung call, kills the child and recovers', async () => {
    const corp = emu.corp(CRASH);
    const sdk = new SupervisedFinanceSdk({ libraryPath: lib, requestTimeoutMs: 1500 });
    await sdk.init(CRASH, corp.secrets.archive);
    corp.faults = { slowRate: 1, slowMs: 7000 };
    // timeout 0 = the library's default (10 s), so the supervisor's deadline (5 s floor) fires first.
    const err = await sdk.getChatData(0n, 10, '', '', 0).catch((e: unknown) => e);
    corp.faults = {};
    expect(err).toBeInstanceOf(FinanceSdkTimeoutError);
    expect(err).toMatchObject({ retryable: true, op: 'getChatData' });
    expect(parseChatData(await sdk.getChatData(0n, 5)).chatdata).toHaveLength(5);
    await sdk.close();
  });

  it('passes typed SDK errors through from the child', async () => {
    const corp = emu.corp(CRASH);
    const sdk = new SupervisedFinanceSdk({ libraryPath: lib });
    await sdk.init(CRASH, corp.secrets.archive);
    const e = await sdk.getMediaData('', 'bm90LWEtZmlsZQ==').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(FinanceSdkError);
    expect(e).toMatchObject({ code: 10005, op: 'GetMediaData', slice: expect.stringContaining('10005') });
    await sdk.close();
  });
});
