/**
 * WeCom's callback URL (protocol reference §4.4–4.5): GET answers the URL verification, POST
 * receives encrypted events. Public (WeCom calls it), but nothing is done for a request whose
 * msg_signature does not verify with the corp's callback Token, or whose decrypted ReceiveId is
 * not the corp's WeCom corp id.
 */
import type { FastifyBaseLogger, FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Keyring } from '../../crypto/keyring/types.js';
import { OrgRepository } from '../../org/org.repository.js';
import type { Pool } from '../../platform/db/pool.js';
import { AppError } from '../../platform/http/errors.js';
import { wecomCallbackSecretName } from '../api/secrets.js';
import { WXBizMsgCrypt, WXBizMsgCryptError, WXBizMsgCryptErrorCode, xmlField } from '../callback-crypto.js';
import { ConsentRepository } from '../contacts/consent.js';
import { ContactsRepository } from '../contacts/contacts.repository.js';

export interface WecomCallbackDeps {
  pool: Pool;
  keyring: Keyring;
  /** New messages are waiting (msgaudit_notify): the caller enqueues an immediate pull. */
  onNotify: (corpId: number) => unknown;
}

/** A callback event after decryption, as the handler saw it. */
export interface WecomCallbackEvent {
  event: string | null;
  changeType: string | null;
}

const MAX_XML_BYTES = 64 * 1024;

const params = z.object({ corp: z.string().min(1).max(64) });
const signed = {
  msg_signature: z.string().regex(/^[0-9a-fA-F]{40}$/),
  timestamp: z.string().regex(/^\d{1,12}$/),
  nonce: z.string().min(1).max(64),
};

const rejected = () => new AppError(401, 'callback_rejected', 'callback not accepted');
const invalid = () => new AppError(400, 'callback_invalid', 'callback message could not be read');

/** Routes of the WeCom callback URL `/api/v1/wecom/callback/:corp` (corp id or slug). */
export function wecomCallbackRoutes(deps: WecomCallbackDeps): FastifyPluginAsync {
  const org = new OrgRepository(deps.pool);
  const contacts = new ContactsRepository(deps.pool);
  const consents = new ConsentRepository(deps.pool);

  /** The corp and its WXBizMsgCrypt; every failure is the same 401 so corps cannot be probed. */
  const cryptFor = async (corpParam: string, log: FastifyBaseLogger) => {
    const corp = await org.findCorp(corpParam);
    if (!corp) {
      log.warn({ corp: corpParam, reason: 'unknown_corp' }, 'wecom callback rejected');
      throw rejected();
    }
    const [wecomCorpId, token, aesKey] = await Promise.all([
      contacts.wecomCorpIdOf(corp.id),
      deps.keyring.getSecret(wecomCallbackSecretName(corp.id, 'token')),
      deps.keyring.getSecret(wecomCallbackSecretName(corp.id, 'aeskey')),
    ]);
    if (!wecomCorpId || !token?.length || !aesKey?.length) {
      log.warn({ corpId: corp.id, reason: 'callback_not_configured' }, 'wecom callback rejected');
      throw rejected();
    }
    try {
      return {
        corpId: corp.id,
        crypt: new WXBizMsgCrypt(token.toString('utf8'), aesKey.toString('utf8').trim(), wecomCorpId),
      };
    } catch {
      log.error({ corpId: corp.id, reason: 'illegal_aes_key' }, 'wecom callback EncodingAESKey is invalid');
      throw new AppError(500, 'callback_misconfigured', 'callback is misconfigured');
    }
  };

  /** Maps a WXBizMsgCrypt failure to 401 (not from WeCom) or 400 (unreadable), logging the reason. */
  const failure = (err: unknown, corpId: number, log: FastifyBaseLogger): Error => {
    if (!(err instanceof WXBizMsgCryptError)) return err as Error;
    const reason =
      err.code === WXBizMsgCryptErrorCode.ValidateSignatureError
        ? 'bad_signature'
        : err.code === WXBizMsgCryptErrorCode.ValidateCorpidError
          ? 'receive_id_mismatch'
          : `crypt_${-err.code}`;
    log.warn({ corpId, reason, code: err.code }, 'wecom callback rejected');
    return reason === 'bad_signature' || reason === 'receive_id_mismatch' ? rejected() : invalid();
  };

  return async (base) => {
    const app = base.withTypeProvider<ZodTypeProvider>();
    // Scoped to this plugin: WeCom posts XML.
    app.addContentTypeParser(
      ['text/xml', 'application/xml'],
      { parseAs: 'string', bodyLimit: MAX_XML_BYTES },
      (_req, body, done) => done(null, body),
    );

    app.get(
      '/api/v1/wecom/callback/:corp',
      {
        config: { permission: 'public' },
        schema: {
          tags: ['wecom'],
          summary: 'WeCom callback URL verification (echostr)',
          params,
          querystring: z.object({ ...signed, echostr: z.string().min(1).max(4096) }),
        },
      },
      async (request, reply) => {
        const { corpId, crypt } = await cryptFor(request.params.corp, request.log);
        const q = request.query;
        let plain: string;
        try {
          plain = crypt.verifyUrl(q.msg_signature, q.timestamp, q.nonce, q.echostr);
        } catch (err) {
          throw failure(err, corpId, request.log);
        }
        request.log.info({ corpId }, 'wecom callback URL verified');
        return reply.type('text/plain; charset=utf-8').send(plain);
      },
    );

    app.post(
      '/api/v1/wecom/callback/:corp',
      {
        config: { permission: 'public' },
        schema: {
          tags: ['wecom'],
          summary: 'WeCom callback events (msgaudit_notify, change_external_contact)',
          params,
          querystring: z.object(signed),
        },
      },
      async (request, reply) => {
        const { corpId, crypt } = await cryptFor(request.params.corp, request.log);
        const q = request.query;
        const body = typeof request.body === 'string' ? request.body : '';
        let xml: string;
        try {
          xml = crypt.decryptMsg(q.msg_signature, q.timestamp, q.nonce, body);
        } catch (err) {
          throw failure(err, corpId, request.log);
        }
        const event = xmlField(xml, 'Event');
        const changeType = xmlField(xml, 'ChangeType');
        if (event === 'msgaudit_notify') {
          try {
            await deps.onNotify(corpId);
          } catch (err) {
            // Polling still picks the messages up; WeCom does not resend a notify.
            request.log.error({ corpId, err: (err as Error).message }, 'msgaudit_notify handler failed');
          }
        } else if (event === 'change_external_contact' && changeType === 'msg_audit_approved') {
          const externalUserid = xmlField(xml, 'ExternalUserID');
          const userid = xmlField(xml, 'UserID');
          const created = Number(xmlField(xml, 'CreateTime'));
          if (externalUserid) {
            await consents.record([
              {
                corpId,
                externalUserid,
                userid: userid || null,
                roomId: null,
                status: 'agree',
                changedAt: new Date(Number.isFinite(created) && created > 0 ? created * 1000 : Date.now()),
                source: 'msg_audit_approved',
              },
            ]);
          } else {
            request.log.warn({ corpId }, 'msg_audit_approved event without ExternalUserID');
          }
        }
        request.log.info(
          { corpId, event, changeType } satisfies WecomCallbackEvent & { corpId: number },
          'wecom callback',
        );
        return reply.type('text/plain; charset=utf-8').send('success');
      },
    );
  };
}
