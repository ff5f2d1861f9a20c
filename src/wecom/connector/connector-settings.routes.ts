import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../../access/authorizer.js';
import { corpsWith } from '../../access/scope.js';
import type { AuditLog } from '../../audit/audit-log.js';
import type { Keyring } from '../../crypto/keyring/types.js';
import type { OrgRepository } from '../../org/org.repository.js';
import type { Pool } from '../../platform/db/pool.js';
import { notFound } from '../../platform/http/errors.js';
import { CONNECTOR_SECRET_KINDS, ConnectorSettingsService } from './connector-settings.js';

const corpParam = z.object({ corp: z.string() });

// Secret-looking values: printable ASCII without spaces (what WeCom issues), bounded.
const secretValue = z
  .string()
  .max(512)
  .regex(/^[\x21-\x7e]*$/, 'printable ASCII without spaces');
const secretsSchema = z
  .object({
    archive: secretValue,
    contacts: secretValue,
    externalcontact: secretValue,
    app: secretValue,
    // WeCom: Token of letters and digits, at most 32; EncodingAESKey of 43 base64 characters.
    callback_token: z.string().regex(/^([A-Za-z0-9]{1,32})?$/, 'letters and digits, at most 32'),
    callback_aeskey: z.string().regex(/^([A-Za-z0-9+/]{43})?$/, '43 characters (letters, digits, + and /)'),
  })
  .partial()
  .strict();

const updateSchema = z
  .object({
    wecomCorpId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a WeCom corp id such as ww0123456789abcdef'),
    sdkMode: z.enum(['native', 'emulator']),
    sdkLibrary: z.string().min(1).max(1000).nullable(),
    apiBaseUrl: z
      .string()
      .url()
      .max(1000)
      .regex(/^https?:\/\//, 'an http(s) URL'),
    proxy: z.string().max(1000).nullable(),
    pollIntervalSeconds: z.number().int().min(5).max(86_400),
    enabled: z.boolean(),
    secrets: secretsSchema.optional(),
  })
  .strict();

// Response schemas serialise only the fields named here: whatever a bug put beside them (a
// secret's value) would be dropped, never sent.
const viewSchema = z.object({
  corpId: z.number(),
  slug: z.string(),
  name: z.string(),
  settings: z
    .object({
      wecomCorpId: z.string(),
      sdkMode: z.enum(['native', 'emulator']),
      sdkLibrary: z.string().nullable(),
      apiBaseUrl: z.string(),
      proxy: z.string().nullable(),
      pollIntervalSeconds: z.number(),
      enabled: z.boolean(),
    })
    .nullable(),
  secrets: z.array(
    z.object({
      kind: z.enum(CONNECTOR_SECRET_KINDS),
      set: z.boolean(),
      changedAt: z.string().nullable(),
      changedBy: z.string().nullable(),
    }),
  ),
  rsaKeyVersions: z.array(z.number()),
});

/**
 * WeCom connector settings per corp for the administration page. Reading needs `capture.read`;
 * changing them `capture.manage` (system administrators): the settings decide where the archive
 * secret is sent, so a role that reads content may not change them (separation of duties).
 */
export function connectorSettingsRoutes(deps: {
  pool: Pool;
  keyring: Keyring;
  audit: AuditLog;
  org: OrgRepository;
}): FastifyPluginAsync {
  const service = new ConnectorSettingsService(deps);
  const corpOf = async (idOrSlug: string) => {
    const corp = await deps.org.findCorp(idOrSlug);
    if (!corp) throw notFound('corp');
    return corp;
  };
  const tags = ['capture'];

  return async (base) => {
    const app = base.withTypeProvider<ZodTypeProvider>();

    app.get(
      '/api/v1/wecom/connectors',
      {
        config: { permission: 'capture.read' },
        schema: {
          tags,
          summary: 'Corps the caller may see and their WeCom connector settings (secrets: set or not)',
          response: { 200: z.object({ items: z.array(viewSchema) }) },
        },
      },
      async (request) => {
        const visible = corpsWith(principalOf(request), 'capture.read');
        const corps = (await deps.org.listCorps()).filter((c) => visible === 'all' || visible.includes(c.id));
        return { items: await Promise.all(corps.map((c) => service.view(c))) };
      },
    );

    app.get(
      '/api/v1/corps/:corp/wecom/connector',
      {
        config: { permission: 'capture.read' },
        schema: {
          tags,
          summary: "A corp's WeCom connector settings; of each secret only whether and when it was set",
          params: corpParam,
          response: { 200: viewSchema },
        },
      },
      async (request) => service.view(await corpOf(request.params.corp)),
    );

    app.put(
      '/api/v1/corps/:corp/wecom/connector',
      {
        config: { permission: 'capture.manage' },
        schema: {
          tags,
          summary: 'Create or change the WeCom connector; secrets are write-only (audited without values)',
          description:
            'A secret left out keeps its stored value. Changing the WeCom corp id, API base, SDK library or ' +
            'proxy of a connector with an archive secret needs the archive secret again (409 `archive_secret_required`).',
          params: corpParam,
          body: updateSchema,
          response: { 200: viewSchema },
        },
      },
      async (request) =>
        service.update(
          await corpOf(request.params.corp),
          request.body,
          principalOf(request).actor,
          request.ip,
        ),
    );
  };
}
