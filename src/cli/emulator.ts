import { Command } from 'commander';
import { runEmulatorCli } from '../wecom/emulator/cli.js';
import { onShutdown } from './context.js';

/** `vigil emulator`: a local WeCom (企业微信) emulator with a synthetic corp, for demos and development. */
export function emulatorCommand(): Command {
  return new Command('emulator')
    .description('run the WeCom emulator: HTTP APIs, the archive service and a synthetic corp')
    .option('--host <host>', 'listen address', '127.0.0.1')
    .option('--port <port>', 'listen port', '8787')
    .option('--corp-id <id>', 'WeCom corp id', 'wwvigildemo0000001')
    .option('--seed <seed>', 'generator seed (same seed, same corp)')
    .option('--messages <n>', 'messages generated', '10000')
    .option('--visible <n>', 'messages visible at start (the rest arrive live)')
    .option('--days <n>', 'days the conversations span', '7')
    .option('--live-interval <ms>', 'release new messages every N ms')
    .option('--live-batch <n>', 'messages per live release', '20')
    .option('--write-keys-to <dir>', 'write the RSA private key and corp secrets here')
    .option('--network-error-rate <r>', 'share of archive requests that fail with 10001')
    .action(async (o: Record<string, string | undefined>) => {
      const emulator = await runEmulatorCli({
        host: o.host,
        port: Number(o.port),
        corpId: o.corpId,
        seed: o.seed,
        messages: Number(o.messages),
        visible: o.visible ? Number(o.visible) : undefined,
        days: Number(o.days),
        liveIntervalMs: o.liveInterval ? Number(o.liveInterval) : undefined,
        liveBatch: Number(o.liveBatch),
        writeKeysTo: o.writeKeysTo,
        faults: o.networkErrorRate ? { networkErrorRate: Number(o.networkErrorRate) } : undefined,
      });
      onShutdown(() => emulator.stop());
    });
}
