import { readFileSync } from 'node:fs';
import { createPrivateKey } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Command } from 'commander';
import { SecretNames } from '../crypto/keyring/types.js';
import { ConnectorRepository } from '../wecom/connector/connector.repository.js';
import { openPipeline } from '../wecom/connector/runtime.js';
import { DetectionService, PolicyRegistry } from '../detection/store/index.js';
import { wecomSecretName } from '../wecom/api/secrets.js';
import type { Core } from '../app.js';
import { withCore } from './context.js';
import { createProgress } from './progress.js';

async function corpOf(core: Core, idOrSlug: string) {
  const corp = await core.org.findCorp(idOrSlug);
  if (!corp) throw new Error(`corp ${idOrSlug} not found`);
  return corp;
}

/** `vigil wecom …`: connect a corp to WeCom's message archive and manage its keys. */
export function wecomCommand(): Command {
  const wecom = new Command('wecom').description('WeCom connector: connect a corp, add archive keys');
  wecom
    .command('connect')
    .description('create or update the WeCom connector of a corp; secrets go to the keyring')
    .requiredOption('--corp <slug>', 'Vigil corp slug (created when missing)')
    .requiredOption('--wecom-corp-id <id>', 'WeCom corp id (ww…)')
    .requiredOption('--secret-file <file>', 'file holding the 会话内容存档 Secret')
    .option('--name <name>', 'corp display name (when creating it)')
    .option('--sdk <mode>', 'native (vendor library) or emulator', 'native')
    .option('--library <path>', 'path of libWeWorkFinanceSdk_C.so (native mode)')
    .option('--api-base <url>', 'WeCom API base URL', 'https://qyapi.weixin.qq.com')
    .option('--proxy <url>', 'proxy for the SDK, e.g. socks5://10.0.0.1:8081')
    .option('--poll <seconds>', 'poll interval', '60')
    .action((o: Record<string, string>, command: Command) =>
      withCore(command, async (core) => {
        if (o.sdk !== 'native' && o.sdk !== 'emulator') throw new Error('--sdk: expected native or emulator');
        if (o.sdk === 'native' && !o.library) throw new Error('--library is required with --sdk native');
        const corp =
          (await core.org.findCorp(o.corp!)) ??
          (await core.org.ensureCorp(o.corp!, o.name ?? o.corp!, o.wecomCorpId!));
        await core.crypto.keyring.putSecret(
          wecomSecretName(corp.id, 'archive'),
          Buffer.from(readFileSync(o.secretFile!, 'utf8').trim()),
        );
        await new ConnectorRepository(core.pool).upsertConnector({
          corp_id: corp.id,
          wecom_corp_id: o.wecomCorpId!,
          sdk_mode: o.sdk,
          sdk_library: o.library ?? null,
          api_base_url: o.apiBase!,
          proxy: o.proxy ?? null,
          poll_interval_seconds: Number(o.poll),
        });
        process.stdout.write(
          `corp ${corp.slug} (#${corp.id}) connected to ${o.wecomCorpId}; add its RSA key with vigil wecom add-key\n`,
        );
      }),
    );
  wecom
    .command('add-key')
    .description('store the RSA private key of a publickey_ver; held messages of that version are decrypted')
    .requiredOption('--corp <slug>', 'corp slug or id')
    .requiredOption('--key-version <n>', 'publickey_ver')
    .requiredOption('--file <pem>', 'RSA private key (PEM)')
    .action((o: { corp: string; keyVersion: string; file: string }, command: Command) =>
      withCore(command, async (core) => {
        const corp = await corpOf(core, o.corp);
        const pem = readFileSync(o.file, 'utf8');
        const key = createPrivateKey(pem); // refuse anything that is not a private key
        if (key.asymmetricKeyType !== 'rsa') throw new Error(`${o.file}: expected an RSA private key`);
        await core.crypto.keyring.putSecret(
          SecretNames.wecomRsa(String(corp.id), Number(o.keyVersion)),
          Buffer.from(pem),
        );
        const released = await new ConnectorRepository(core.pool).releaseHeld(corp.id, Number(o.keyVersion));
        process.stdout.write(
          `stored key version ${o.keyVersion}; ${released} held message(s) will be decrypted\n`,
        );
      }),
    );
  return wecom;
}

/** `vigil ingest`: pull, decrypt and archive now (with progress), once or continuously. */
export function ingestCommand(): Command {
  return new Command('ingest')
    .description('pull messages from WeCom into the archive')
    .option('--corp <slug>', 'only this corp')
    .option('--once', 'stop when caught up (default: keep polling)')
    .action((o: { corp?: string; once?: boolean }, command: Command) =>
      withCore(command, async (core) => {
        const repo = new ConnectorRepository(core.pool);
        const connectors = (await repo.connectors()).filter((c) => c.enabled);
        const only = o.corp ? (await corpOf(core, o.corp)).id : undefined;
        const chosen = connectors.filter((c) => only === undefined || c.corp_id === only);
        if (chosen.length === 0) throw new Error('no enabled WeCom connector (vigil wecom connect)');
        const detection = new DetectionService(core.pool, new PolicyRegistry(core.pool));
        const runCorp = async (connector: (typeof chosen)[number]) => {
          const pipeline = await openPipeline(
            core.pool,
            core.archive,
            core.crypto.keyring,
            core.blobs,
            connector,
            detection,
          );
          const progress = createProgress(`corp ${connector.corp_id}`);
          try {
            const run = await pipeline.ingest.runOnce((p) =>
              progress.update(p.archived, undefined, `pulled ${p.pulled}, cursor ${p.cursor}`),
            );
            const media = await pipeline.media.processDue(1000);
            const r = run.result;
            process.stdout.write(
              `corp ${connector.corp_id}: pulled ${run.pulled}, archived ${r.archived}, duplicates ${r.duplicates}, ` +
                `held ${r.held}, quarantined ${r.quarantined}, retrying ${r.retried}; media stored ${media.stored}, ` +
                `expired ${media.expired}, failed ${media.failed}, retrying ${media.retrying}\n`,
            );
          } finally {
            progress.stop();
            await pipeline.close();
          }
        };
        let failed = false;
        for (;;) {
          for (const connector of chosen) {
            // WeCom answers with network errors daily: try again shortly; nothing pulled is lost.
            for (let attempt = 1; ; attempt++) {
              try {
                await runCorp(connector);
                break;
              } catch (err) {
                process.stderr.write(
                  `corp ${connector.corp_id}: ${(err as Error).message} (attempt ${attempt})\n`,
                );
                if (attempt >= 5) {
                  failed = true;
                  break;
                }
                await sleep(2000 * attempt);
              }
            }
          }
          if (o.once) {
            if (failed) throw new Error('some corps could not be brought up to date (see above)');
            return;
          }
          failed = false;
          await sleep(Math.min(...chosen.map((c) => c.poll_interval_seconds)) * 1000);
        }
      }),
    );
}
