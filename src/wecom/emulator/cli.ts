/** `vigil emulator`: runs the WeCom emulator with one synthetic corp for demos and local development. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RequestFaults } from './corp-state.js';
import { createEmulator, type Emulator } from './server.js';

export interface EmulatorCliOptions {
  host?: string;
  port?: number;
  corpId?: string;
  seed?: string;
  /** Generated messages (default 10,000). */
  messages?: number;
  /** Messages visible at start (default all); the rest arrive in live mode. */
  visible?: number;
  seqStart?: bigint;
  days?: number;
  /** Live mode: release `liveBatch` messages every `liveIntervalMs`. */
  liveIntervalMs?: number;
  liveBatch?: number;
  /** Directory to write the generated RSA private key (PKCS#1 PEM, version 1) and corp secrets to. */
  writeKeysTo?: string;
  faults?: RequestFaults;
  callback?: { url: string; token: string; encodingAesKey: string; intervalMs?: number };
  log?: (line: string) => void;
}

/** Starts the emulator and prints how to reach it; resolves to the running emulator. */
export async function runEmulatorCli(opts: EmulatorCliOptions = {}): Promise<Emulator> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const corpId = opts.corpId ?? 'wwvigildemo0000001';
  const messageCount = opts.messages ?? 10_000;
  // Messages end "now" so the retention window and lag figures look real in a demo.
  const days = opts.days ?? 7;
  const startTime = Date.now() - days * 86_400_000;
  const emulator = await createEmulator({
    host: opts.host ?? '127.0.0.1',
    port: opts.port ?? 8787,
    corps: [
      {
        corpId,
        seed: opts.seed ?? corpId,
        messageCount,
        visibleCount: opts.visible,
        seqStart: opts.seqStart,
        startTime: startTime - (startTime % 86_400_000) - 8 * 3_600_000,
        days,
        faults: opts.faults,
        callback: opts.callback,
      },
    ],
  });
  const corp = emulator.corp(corpId);
  log(`WeCom emulator listening on ${emulator.baseUrl}`);
  log(
    `corp ${corpId}: ${corp.visibleCount()} of ${corp.totalCount()} messages visible, first seq ${corp.seqOf(0)}`,
  );
  log(`  archive secret: ${corp.secrets.archive}`);
  log(`  contacts secret: ${corp.secrets.contacts}`);
  log(`  app secret: ${corp.secrets.app} (agentid ${corp.agentId})`);
  log(`  export WECOM_EMULATOR_URL=${emulator.baseUrl}`);
  if (opts.writeKeysTo) {
    mkdirSync(opts.writeKeysTo, { recursive: true, mode: 0o700 });
    const pem = corp.generatedPrivateKey(1);
    if (pem) writeFileSync(join(opts.writeKeysTo, `${corpId}.v1.pem`), pem, { mode: 0o600 });
    writeFileSync(
      join(opts.writeKeysTo, `${corpId}.json`),
      JSON.stringify(
        { corpId, baseUrl: emulator.baseUrl, agentId: corp.agentId, secrets: corp.secrets },
        null,
        2,
      ),
      { mode: 0o600 },
    );
    log(`  keys and secrets written to ${opts.writeKeysTo}`);
  }
  if (opts.liveIntervalMs && opts.liveIntervalMs > 0) {
    const timer = setInterval(() => corp.advance(opts.liveBatch ?? 5), opts.liveIntervalMs);
    timer.unref();
    const stop = emulator.stop;
    (emulator as { stop: () => Promise<void> }).stop = async () => {
      clearInterval(timer);
      await stop();
    };
  }
  return emulator;
}
