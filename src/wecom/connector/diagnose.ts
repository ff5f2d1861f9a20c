import type { Core } from '../../app.js';
import { parseChatData } from '../sdk/chatdata.js';
import { FinanceSdkError } from '../sdk/types.js';
import { ConnectorRepository } from './connector.repository.js';
import { captureHealth } from './health.js';
import { openFinanceSdk } from './runtime.js';

export interface ConnectorFinding {
  ok: boolean;
  check: string;
  detail: string;
  fix?: string;
}

/** What each WeCom failure means for an operator, and what to do about it. */
function explain(err: unknown): { detail: string; fix: string } {
  if (err instanceof FinanceSdkError) {
    if (err.code === 10009)
      return {
        detail: 'WeCom refused this server (10009, IP not trusted)',
        fix: "add this server's public IP to the archive app's trusted IPs (管理工具 → 会话内容存档 → 可信IP)",
      };
    if (err.code === 10001)
      return {
        detail: 'network error reaching WeCom (10001)',
        fix: 'check DNS, firewall and the connector proxy; qyapi.weixin.qq.com:443 must be reachable',
      };
    if (err.code === 10011)
      return {
        detail: 'certificate error (10011)',
        fix: 'check the system CA bundle and any TLS-intercepting proxy',
      };
    return { detail: err.message, fix: 'see the SDK return code in the WeCom documentation' };
  }
  const message = (err as Error).message;
  if (/48002|api forbidden/i.test(message))
    return {
      detail: message,
      fix: 'use the 会话内容存档 Secret (not an application secret): vigil wecom connect --secret-file',
    };
  if (/no archive secret/.test(message))
    return { detail: message, fix: 'vigil wecom connect --corp … --secret-file …' };
  return { detail: message, fix: 'check the connector settings (vigil wecom connect)' };
}

/** `vigil doctor`'s WeCom checks: reachability with the stored secret, capture lag, missing keys. */
export async function diagnoseConnectors(core: Core): Promise<ConnectorFinding[]> {
  const findings: ConnectorFinding[] = [];
  for (const connector of await new ConnectorRepository(core.pool).connectors()) {
    const label = `wecom #${connector.corp_id}`;
    if (!connector.enabled) {
      findings.push({ ok: true, check: label, detail: 'connector disabled' });
      continue;
    }
    try {
      const sdk = await openFinanceSdk(connector, core.crypto.keyring);
      try {
        const reply = parseChatData(await sdk.getChatData(0n, 1, connector.proxy ?? '', '', 10));
        if (reply.errcode !== 0) throw new Error(`WeCom errcode ${reply.errcode}: ${reply.errmsg}`);
      } finally {
        await sdk.close();
      }
      findings.push({
        ok: true,
        check: label,
        detail: `${connector.wecom_corp_id} reachable (${connector.sdk_mode} SDK)`,
      });
    } catch (err) {
      findings.push({ ok: false, check: label, ...explain(err) });
    }
    const health = await captureHealth(core.pool, connector.corp_id);
    if (!health) continue;
    const lagging = health.status === 'warning' || health.status === 'critical';
    findings.push({
      ok: !lagging,
      check: `${label} lag`,
      detail:
        health.windowRemainingSeconds === null
          ? 'never pulled yet'
          : `last pull ${health.cursor.lastPullAt?.toISOString()}, ${Math.round(health.windowRemainingSeconds / 3600)} h of WeCom's window left`,
      fix: "run vigil serve or vigil worker (capture runs in the background) before messages leave WeCom's window",
    });
    for (const problem of health.decryptProblemsByKeyVersion.filter((p) => p.held > 0)) {
      findings.push({
        ok: false,
        check: `${label} keys`,
        detail: `${problem.held} message(s) held: no private key for publickey_ver ${problem.publickeyVer}`,
        fix: `vigil wecom add-key --corp ${connector.corp_id} --key-version ${problem.publickeyVer} --file private.pem`,
      });
    }
    if (health.envelopes.quarantined > 0) {
      findings.push({
        ok: false,
        check: `${label} quarantine`,
        detail: `${health.envelopes.quarantined} message(s) quarantined (see the capture health page or GET /api/v1/corps/${connector.corp_id}/quarantine)`,
        fix: 'inspect the reasons; retry once the cause is fixed',
      });
    }
  }
  return findings;
}
