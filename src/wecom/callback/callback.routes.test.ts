import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testArchive } from '../../../test/support/archive.js';
import { createTestCorp, testPool } from '../../../test/support/db.js';
import type { Keyring } from '../../crypto/keyring/types.js';
import type { Corp } from '../../org/types.js';
import { configSchema } from '../../platform/config/schema.js';
import { Metrics } from '../../platform/http/metrics.js';
import { buildHttpServer } from '../../platform/http/server.js';
import { wecomCallbackSecretName } from '../api/secrets.js';
import { computeSignature, generateEncodingAesKey, WXBizMsgCrypt } from '../callback-crypto.js';
import { ConsentRepository } from '../contacts/consent.js';
import { createEmulator, type EmulatedCorp, type Emulator } from '../emulator/index.js';
import { wecomCallbackRoutes } from './callback.routes.js';

const WECOM_CORP = 'wwcallbacktest01';
const TOKEN = 'cbTokenValue123';
const AES_KEY = generateEncodingAesKey();

const pool = testPool();
let emu: Emulator;
let http: FastifyInstance;
let baseUrl: string;
let corp: Corp;
let keyring: Keyring;
let emulated: EmulatedCorp;
const logLines: string[] = [];
const notified: number[] = [];
let notifyWaiter: (() => void) | null = null;

beforeAll(async () => {
  ({ keyring } = await testArchive(pool));
  corp = await createTestCorp(pool, 'callback');
  await keyring.putSecret(wecomCallbackSecretName(corp.id, 'token'), Buffer.from(TOKEN));
  await keyring.putSecret(wecomCallbackSecretName(corp.id, 'aeskey'), Buffer.from(AES_KEY));
  emu = await createEmulator();
  await pool.query(
    `INSERT INTO wecom_connectors (corp_id, wecom_corp_id, sdk_mode, api_base_url) VALUES ($1, $2, 'emulator', $3)`,
    [corp.id, WECOM_CORP, emu.baseUrl],
  );
  http = await buildHttpServer({
    config: configSchema.parse({ server: { rateLimitPerMinute: 1000 } }),
    logger: pino({ level: 'debug' }, { write: (line: string) => void logLines.push(line) }),
    metrics: new Metrics(),
    authorize: async () => {
      throw new Error('callbacks must not need an identity');
    },
    routes: [
      wecomCallbackRoutes({
        pool,
        keyring,
        onNotify: (corpId) => {
          notified.push(corpId);
          notifyWaiter?.();
        },
      }),
    ],
  });
  baseUrl = (await http.listen({ host: '127.0.0.1', port: 0 })).replace('[::1]', '127.0.0.1');
  emulated = emu.addCorp({
    corpId: WECOM_CORP,
    messageCount: 40,
    visibleCount: 20,
    callback: {
      url: `${baseUrl}/api/v1/wecom/callback/${corp.id}`,
      token: TOKEN,
      encodingAesKey: AES_KEY,
      intervalMs: 0,
    },
  });
});

afterAll(async () => {
  await emu.stop();
  await http.close();
});

/** A signed callback POST as WeCom would send it, with a chosen receiveId. */
function signedPost(plainXml: string, receiveId = WECOM_CORP, token = TOKEN) {
  const crypt = new WXBizMsgCrypt(token, AES_KEY, receiveId);
  const encrypted = crypt.encrypt(plainXml);
  const timestamp = String(Math.floor(Date.now() / 1000));
  const nonce = 'n0nce123';
  return {
    query: `msg_signature=${computeSignature(token, timestamp, nonce, encrypted)}&timestamp=${timestamp}&nonce=${nonce}`,
    body: `<xml><ToUserName><![CDATA[${receiveId}]]></ToUserName><Encrypt><![CDATA[${encrypted}]]></Encrypt></xml>`,
  };
}

const notifyXml = `<xml><ToUserName><![CDATA[${WECOM_CORP}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[event]]></MsgType><AgentID>1000002</AgentID><Event><![CDATA[msgaudit_notify]]></Event></xml>`;

describe('WeCom callback endpoint', () => {
  it('passes WeCom URL verification', async () => {
    expect(await emulated.verifyCallbackUrl()).toBe(true);
  });

  it('calls onNotify when the emulator posts msgaudit_notify', async () => {
    const before = notified.length;
    const arrived = new Promise<void>((resolve) => (notifyWaiter = resolve));
    emulated.advance(5);
    await arrived;
    expect(notified.slice(before)).toEqual([corp.id]);
    await expect.poll(() => emulated.notifications.at(-1)?.status).toBe(200);
  });

  it('records msg_audit_approved as an agree consent', async () => {
    const customer = emulated.gen.customers[3]!;
    const rec = await emulated.notifyMsgAuditApproved(customer.owner, customer.external_userid);
    expect(rec).toMatchObject({ status: 200, error: null });
    const current = await new ConsentRepository(pool).current(
      corp.id,
      customer.external_userid,
      customer.owner,
    );
    expect(current).toMatchObject({ status: 'agree', source: 'msg_audit_approved', userid: customer.owner });
  });

  it('rejects a bad signature, a wrong ReceiveId, unknown corps and unreadable bodies', async () => {
    const before = notified.length;
    const post = (url: string, payload: string, type = 'text/xml') =>
      http.inject({ method: 'POST', url, payload, headers: { 'content-type': type } });
    const path = `/api/v1/wecom/callback/${corp.id}`;

    const good = signedPost(notifyXml);
    const badSig = good.query.replace(/msg_signature=[0-9a-f]{40}/, `msg_signature=${'0'.repeat(40)}`);
    const r1 = await post(`${path}?${badSig}`, good.body);
    expect(r1.statusCode).toBe(401);
    expect(r1.json()).toEqual({
      error: { code: 'callback_rejected', message: 'callback not accepted', requestId: expect.any(String) },
    });

    // Correctly signed with our token and key, but encrypted for another corp.
    const other = signedPost(notifyXml, 'wwsomeothercorp');
    const r2 = await post(`${path}?${other.query}`, other.body);
    expect(r2.statusCode).toBe(401);

    // Signed with a token that is not ours.
    const forged = signedPost(notifyXml, WECOM_CORP, 'notOurToken');
    expect((await post(`${path}?${forged.query}`, forged.body)).statusCode).toBe(401);

    // Unknown corp, and a corp without callback secrets.
    expect((await post(`/api/v1/wecom/callback/no-such-corp?${good.query}`, good.body)).statusCode).toBe(401);
    const bare = await createTestCorp(pool, 'callback');
    expect((await post(`/api/v1/wecom/callback/${bare.id}?${good.query}`, good.body)).statusCode).toBe(401);

    // GET with a bad signature.
    const echostr = new WXBizMsgCrypt(TOKEN, AES_KEY, WECOM_CORP).encrypt('12345');
    const g = await http.inject({
      url: `${path}?msg_signature=${'a'.repeat(40)}&timestamp=1&nonce=x&echostr=${encodeURIComponent(echostr)}`,
    });
    expect(g.statusCode).toBe(401);

    // No Encrypt field; missing signature parameters.
    expect((await post(`${path}?${good.query}`, '<xml><Nothing/></xml>')).statusCode).toBe(400);
    expect((await post(path, good.body)).statusCode).toBe(400);

    expect(notified.length).toBe(before);

    // The same message, correctly signed, is accepted (so the rejections above were for the stated reason).
    const ok = await post(`${path}?${good.query}`, good.body, 'application/xml');
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toBe('success');
    expect(notified.length).toBe(before + 1);
  });

  it('never logs the callback token or key', () => {
    const all = logLines.join('\n');
    expect(all).toContain('wecom callback rejected');
    expect(all).not.toContain(TOKEN);
    expect(all).not.toContain(AES_KEY);
  });
});
