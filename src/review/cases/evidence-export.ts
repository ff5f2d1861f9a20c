import type { ContentAccessService, Viewer } from '../../access/content/content-access.service.js';
import type { ViewedMessage } from '../../access/content/present.js';
import type { AuditLog } from '../../audit/audit-log.js';
import type { Pool } from '../../platform/db/pool.js';
import { withTransaction } from '../../platform/db/pool.js';
import type { AlertsService } from '../alerts/alerts.service.js';
import { buildEvidencePackage } from '../evidence/index.js';
import type {
  EvidenceMessage,
  EvidenceParty,
  EvidenceSigner,
  EvidenceTrailEvent,
} from '../evidence/index.js';
import type { CasesService } from './cases.service.js';

export interface EvidenceExportDeps {
  pool: Pool;
  audit: AuditLog;
  content: ContentAccessService;
  alerts: AlertsService;
  cases: CasesService;
  signer: () => Promise<EvidenceSigner>;
  /** Vigil's public URL for message links. */
  baseUrl: string;
}

/**
 * A case's evidence package (证据链): its alerts' messages and media read through the content
 * choke point under the exporter's export grant (dual control), the hits, the review trail and
 * the case timeline, in a signed ZIP that `vigil evidence verify` checks.
 */
export async function exportCaseEvidence(
  deps: EvidenceExportDeps,
  viewer: Viewer,
  corp: { id: number; slug: string },
  caseId: string,
  grantId: string,
): Promise<{ zip: Buffer; fileName: string }> {
  const theCase = await deps.cases.get(corp.id, caseId);
  const alerts = await Promise.all(
    theCase.alertIds.map((id) => deps.alerts.visible(deps.pool, viewer.principal, corp.id, id)),
  );
  const msgids = [...new Set(alerts.flatMap((a) => a.msgids))];
  const read = await deps.content.exportMessages(viewer, corp.id, grantId, msgids);
  const names = await userNames(deps.pool, [
    ...theCase.participants.map((p) => p.userId),
    ...theCase.timeline.map((e) => e.actorId ?? ''),
  ]);
  const trail: EvidenceTrailEvent[] = [];
  for (const alert of alerts)
    for (const d of await deps.alerts.decisions(deps.pool, corp.id, alert.id))
      trail.push({
        at: d.createdAt,
        actor: person(d.reviewerId, names),
        action: `decision.${d.stage}`,
        comment: d.comment,
        alertId: alert.id,
        details: { disposition: d.disposition, agrees: d.agrees, tags: d.tags },
      });
  for (const e of theCase.timeline)
    trail.push({
      at: e.createdAt,
      actor: person(e.actorId ?? 'system', names),
      action: `case.${e.kind}`,
      comment: e.body,
    });
  trail.sort((a, b) => new Date(a.at).getTime() - new Date(b.at).getTime());
  const hits = (await Promise.all(alerts.map((a) => deps.alerts.hits(corp.id, a.id)))).flat();
  const exportedAt = new Date();
  const zip = await buildEvidencePackage(
    {
      case: {
        corp: corp.slug,
        caseId,
        title: theCase.title,
        status: theCase.status,
        legalHold: theCase.legalHold,
        participants: theCase.participants.map((p) => ({ ...person(p.userId, names), role: p.role })),
        openedAt: theCase.createdAt,
        closedAt: theCase.closedAt,
      },
      export: {
        exportedBy: { id: viewer.principal.userId, name: viewer.principal.username, kind: 'user' },
        exportedAt,
        grantId,
        watermark: read.watermark,
        baseUrl: deps.baseUrl,
      },
      messages: read.messages.sort((a, b) => a.msgTime.getTime() - b.msgTime.getTime()).map(evidenceMessage),
      media: read.media.map((m) => ({ msgid: m.msgid, name: m.name, data: m.data })),
      hits: hits
        .filter((h) => msgids.includes(h.msgid))
        .map((h) => ({
          msgid: h.msgid,
          ruleId: h.ruleId,
          term: h.term,
          category: h.category,
          severity: h.severity as 'low',
          offsets: h.start === null || h.end === null ? [] : [{ start: h.start, end: h.end }],
        })),
      reviewTrail: trail,
    },
    await deps.signer(),
  );
  await withTransaction(deps.pool, async (client) => {
    await deps.cases.event(
      client,
      corp.id,
      caseId,
      viewer.principal.userId,
      'evidence_exported',
      `grant #${grantId}`,
    );
    await deps.audit.record(client, {
      corpId: corp.id,
      actor: viewer.principal.actor,
      actorIp: viewer.ip,
      action: 'case.evidence_export',
      resourceType: 'case',
      resourceIds: [caseId],
      result: 'allowed',
      details: {
        grant: grantId,
        messages: read.messages.length,
        media: read.media.length,
        bytes: zip.length,
      },
    });
  });
  return { zip, fileName: `evidence-${corp.slug}-case-${caseId}.zip` };
}

function evidenceMessage(m: ViewedMessage): EvidenceMessage {
  let recipients: EvidenceParty[] = [];
  if (m.content.state === 'ok') {
    const raw = JSON.parse(m.content.raw) as { tolist?: unknown };
    if (Array.isArray(raw.tolist))
      recipients = raw.tolist.filter((t): t is string => typeof t === 'string').map((id) => ({ id }));
  }
  return {
    msgid: m.msgid,
    msgTime: m.msgTime,
    conversationId: m.conversationId,
    msgtype: m.msgtype,
    action: m.action,
    sender: m.senderId ? { id: m.senderId, ...(m.senderKind ? { kind: m.senderKind } : {}) } : null,
    recipients,
    content: m.content,
  };
}

async function userNames(pool: Pool, ids: string[]): Promise<Map<string, string>> {
  const numeric = [...new Set(ids.filter((id) => /^\d+$/.test(id)))];
  const { rows } = await pool.query<{ id: string; name: string }>(
    'SELECT id::text, coalesce(display_name, username) AS name FROM users WHERE id = ANY($1::bigint[])',
    [numeric],
  );
  return new Map(rows.map((r) => [r.id, r.name]));
}

const person = (id: string, names: Map<string, string>): EvidenceParty => ({
  id,
  ...(names.get(id) ? { name: names.get(id) } : {}),
  kind: 'user',
});
