import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { ArchiveService } from '../../archive/archive.service.js';
import type { MessageToArchive } from '../../archive/types.js';
import { NormalizeError, normalizeMessage } from './normalize.js';

export interface ImportReport {
  lines: number;
  imported: number;
  duplicates: number;
  rejected: number;
}

export interface Rejected {
  line: number;
  reason: string;
  text: string;
}

/**
 * Imports decrypted WeCom-format messages (one JSON object per line), e.g. from another
 * archiver: the same normalization, exactly-once claim by msgid and encryption as live capture.
 * A line that is not a message is handed to `onReject` with its line number and reason, never
 * dropped silently.
 */
export async function importJsonl(
  archive: ArchiveService,
  corpId: number,
  input: Readable,
  onReject: (rejected: Rejected) => void | Promise<void>,
  onProgress?: (report: ImportReport) => void,
): Promise<ImportReport> {
  const report: ImportReport = { lines: 0, imported: 0, duplicates: 0, rejected: 0 };
  let batch: MessageToArchive[] = [];
  const flush = async () => {
    const stored = await archive.storeBatch(corpId, batch);
    report.imported += stored.inserted;
    report.duplicates += stored.duplicates.length;
    batch = [];
    onProgress?.(report);
  };
  for await (const text of createInterface({ input, crlfDelay: Infinity })) {
    report.lines++;
    if (text.trim() === '') continue;
    const msgid = /"msgid"\s*:\s*"([^"]+)"/.exec(text)?.[1];
    try {
      if (!msgid) throw new NormalizeError('no msgid');
      batch.push(normalizeMessage(text, msgid));
    } catch (err) {
      if (!(err instanceof NormalizeError)) throw err;
      report.rejected++;
      await onReject({ line: report.lines, reason: err.message, text });
    }
    if (batch.length >= 500) await flush();
  }
  if (batch.length) await flush();
  return report;
}
