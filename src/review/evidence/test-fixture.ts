import { createPrivateKey, createPublicKey, sign } from 'node:crypto';
import type { EvidenceInput, EvidenceSigner } from './types.js';

const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** An Ed25519 signer from a fixed seed byte, so tests get the same key (and bytes) every run. */
export function testEvidenceSigner(seedByte = 1, keyName = 'vigil-evidence'): EvidenceSigner {
  const privateKey = createPrivateKey({
    key: Buffer.concat([ED25519_PKCS8_PREFIX, Buffer.alloc(32, seedByte)]),
    format: 'der',
    type: 'pkcs8',
  });
  return { keyName, publicKey: createPublicKey(privateKey), sign: (data) => sign(null, data, privateKey) };
}

const wecomText = (msgid: string, from: string, to: string[], text: string): string =>
  JSON.stringify({
    msgid,
    action: 'send',
    from,
    tolist: to,
    roomid: '',
    msgtime: 1767225600000,
    msgtype: 'text',
    text: { content: text },
  });

/** A small case: three messages (one with a photo), two hits, a review trail. */
export function sampleEvidenceInput(): EvidenceInput {
  const zhang = { id: 'zhangsan', name: '张三', kind: 'employee' as const };
  const client = { id: 'ext-7f3a9c', name: '客户 A', kind: 'external' as const };
  const reviewer = { id: '12', name: 'li.lei', kind: 'user' as const };
  return {
    case: {
      corp: 'acme',
      caseId: '42',
      title: '回扣 suspicion, Q1',
      status: 'open',
      legalHold: true,
      participants: [{ ...reviewer, role: 'investigator' }],
      openedAt: '2026-01-05T09:00:00Z',
    },
    export: {
      exportedBy: reviewer,
      exportedAt: '2026-01-10T08:30:00Z',
      grantId: '7',
      watermark: 'li.lei · 2026-01-10 08:30 · audit #991',
      baseUrl: 'https://vigil.example.com/',
    },
    messages: [
      {
        msgid: 'm1_1767225600',
        msgTime: '2026-01-01T00:00:00Z',
        conversationId: '3',
        msgtype: 'text',
        sender: zhang,
        recipients: [client],
        content: { state: 'ok', raw: wecomText('m1_1767225600', 'zhangsan', ['ext-7f3a9c'], '返点按老规矩') },
      },
      {
        msgid: 'm2_1767225660',
        msgTime: '2026-01-01T00:01:00Z',
        conversationId: '3',
        msgtype: 'image',
        sender: client,
        recipients: [zhang],
        content: { state: 'ok', raw: '{"msgtype":"image","image":{"md5sum":"x","filesize":12}}' },
      },
      {
        msgid: 'm3_1767225720',
        msgTime: '2026-01-01T00:02:00Z',
        conversationId: '3',
        msgtype: 'text',
        sender: zhang,
        recipients: [client],
        content: { state: 'destroyed' },
      },
    ],
    media: [
      { msgid: 'm2_1767225660', name: 'photo.jpg', data: Buffer.from('\xff\xd8\xff\xe0fakejpeg', 'latin1') },
    ],
    hits: [
      {
        msgid: 'm1_1767225600',
        ruleId: 'kickback',
        term: '返点',
        category: 'bribery',
        severity: 'high',
        offsets: [{ start: 0, end: 2 }],
      },
      {
        msgid: 'm1_1767225600',
        ruleId: 'kickback-custom',
        term: null,
        category: 'bribery',
        severity: 'medium',
        offsets: [{ start: 0, end: 6 }],
      },
    ],
    reviewTrail: [
      { at: '2026-01-02T10:00:00Z', actor: reviewer, action: 'alert.claimed', alertId: '5' },
      {
        at: '2026-01-02T10:05:00Z',
        actor: reviewer,
        action: 'decision.first',
        comment: '明显的回扣暗示',
        alertId: '5',
        details: { disposition: 'violation_confirmed' },
      },
      { at: '2026-01-05T09:00:00Z', actor: reviewer, action: 'case.alert_added', alertId: '5' },
    ],
  };
}
