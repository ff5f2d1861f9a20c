import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { Command, type CommanderError } from 'commander';
import { rawPublicKey, verifyEvidencePackage, type EvidenceVerification } from '../review/evidence/index.js';
import { EXIT } from './output.js';

/** A usage error (bad arguments, unreadable input): exit 2, so scripts can tell it from a bad package. */
function usageError(message: string): never {
  process.stderr.write(`vigil: ${message}\n`);
  process.exit(EXIT.config);
}

function readInput(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    return usageError(
      `cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}

function trustedKey(file: string): string {
  const text = readInput(file, 'trusted key').toString('utf8');
  try {
    rawPublicKey(text);
  } catch (err) {
    usageError(`--trusted-key ${file}: ${(err as Error).message}`);
  }
  return text;
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

function summary(file: string, r: EvidenceVerification): string {
  const lines = [
    `evidence package ${basename(file)}: ${r.ok ? 'OK' : `FAILED (${plural(r.problems.length, 'problem')})`}`,
  ];
  const m = r.manifest;
  if (m) {
    const by = m.exportedBy.name ? `${m.exportedBy.name} (${m.exportedBy.id})` : m.exportedBy.id;
    lines.push(`  case ${m.corp}/${m.caseId}, exported ${m.createdAt} by ${by} under grant ${m.grantId}`);
    lines.push(
      `  ${plural(r.files.length, 'file')}: ${plural(m.counts.messages, 'message')}, ${plural(m.counts.media, 'media file')}, ` +
        `${plural(m.counts.hits, 'hit')}, ${plural(m.counts.reviewTrail, 'review trail entry', 'review trail entries')}`,
    );
  } else {
    lines.push(`  ${plural(r.files.length, 'file')}`);
  }
  if (r.signer) {
    const trust =
      r.signer.trusted === null
        ? 'not pinned: compare the fingerprint with the published one, or pass --trusted-key'
        : r.signer.trusted
          ? 'pinned key'
          : 'NOT a trusted key';
    lines.push(`  signer: ${r.signer.keyName}, Ed25519 key SHA-256 ${r.signer.fingerprint} (${trust})`);
  }
  for (const problem of r.problems) lines.push(`  - ${problem}`);
  return lines.join('\n') + '\n';
}

/** `vigil evidence …`: evidence packages (证据链) exported from review cases. */
export function evidenceCommand(): Command {
  const evidence = new Command('evidence')
    .description('evidence packages (证据链) exported from review cases')
    // Usage errors exit 2 (commander's default is 1, which here means "package invalid").
    .exitOverride((err: CommanderError) => process.exit(err.exitCode === 0 ? 0 : EXIT.config));

  evidence
    .command('verify')
    .description(
      'verify a package offline: signature, every file hash, nothing added or removed, byte-exact canonical ZIP',
    )
    .argument('<file>', 'evidence package (.zip)')
    .option(
      '--trusted-key <pemfile>',
      'only accept this signer (SPKI PEM, or base64 of the raw key); repeatable',
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExit status: 0 valid, 1 invalid or tampered, 2 usage error.')
    .action((file: string, options: { trustedKey?: string[]; json?: boolean }) => {
      const trustedPublicKeys = (options.trustedKey ?? []).map(trustedKey);
      const zip = readInput(file, 'evidence package');
      const result = verifyEvidencePackage(zip, trustedPublicKeys.length ? { trustedPublicKeys } : {});
      process.stdout.write(
        options.json ? JSON.stringify({ file, ...result }, null, 2) + '\n' : summary(file, result),
      );
      process.exitCode = result.ok ? 0 : 1;
    });

  return evidence;
}
