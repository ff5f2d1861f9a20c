/**
 * WeCom's side of the ingest benchmark, in a process of its own as on the real service: the
 * emulator with one corp whose envelopes are encrypted before the run (WeCom encrypts a message
 * once, when it is sent). Tells the parent where it listens, the archive secret and the private
 * key of publickey_ver 1 once ready; exits with the parent.
 */
import { createEmulator } from '../../src/wecom/emulator/index.js';

export interface WecomReady {
  baseUrl: string;
  secret: string;
  pem: string;
}

const [corpId, count] = [process.argv[2]!, Number(process.argv[3])];
const emulator = await createEmulator({ corps: [{ corpId, messageCount: count, days: 5 }] });
const corp = emulator.corp(corpId);
corp.sealEnvelopes((done, total) => {
  if (done % 100_000 === 0) process.stderr.write(`  WeCom: ${done} of ${total} envelopes encrypted\n`);
});
process.send!({
  baseUrl: emulator.baseUrl,
  secret: corp.secrets.archive,
  pem: corp.generatedPrivateKey(1)!,
} satisfies WecomReady);
process.on('disconnect', () => void emulator.stop().then(() => process.exit(0)));
