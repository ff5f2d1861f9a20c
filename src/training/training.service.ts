import type { AuditLog } from '../audit/audit-log.js';
import { withTransaction, type Pool } from '../platform/db/pool.js';
import { csvRecords, isBlankRecord } from './csv.js';
import { checkRow, parseHeader, type CheckedRow, type TrainingHeader } from './training-rows.js';
import { TrainingRepository, type CompletionInput } from './training.repository.js';
import { holdsValidTraining } from './training-sql.js';
import {
  TrainingImportError,
  type ImportReject,
  type ImportResult,
  type TrainingActor,
  type TrainingCompletion,
  type TrainingSource,
  type TrainingStatus,
} from './types.js';

export interface ImportOptions {
  /** Shown in the import's bookkeeping and audit entry. */
  fileName?: string | null;
  /** csv (the CLI, default) or api (the HTTP API). */
  source?: TrainingSource;
  /** Encoding of a byte stream (default UTF-8), e.g. gb18030 for files saved by Chinese Excel. */
  encoding?: string;
  /** Called with the number of data rows read so far. */
  onProgress?: (rows: number) => void;
}

const BATCH = 500;
const quote = (v: string): string => JSON.stringify(v.length > 50 ? `${v.slice(0, 50)}…` : v);

/** Training records: CSV imports and the status that gates access to sensitive data categories. */
export class TrainingService {
  constructor(private readonly deps: { pool: Pool; audit: AuditLog; now?: () => Date }) {}

  /**
   * Imports a training CSV (header `userid` or `username`, `course`, `completed_at`, optional
   * `expires_at` or `valid_months`). Every bad row is returned with its line and reason; good rows
   * are stored once (a re-import adds nothing). One transaction, audited as `training.import`.
   */
  async importCsv(
    corpId: number,
    input: string | AsyncIterable<string | Uint8Array>,
    actor: TrainingActor,
    options: ImportOptions = {},
  ): Promise<ImportResult> {
    const source = options.source ?? 'csv';
    const now = this.deps.now?.() ?? new Date();
    return withTransaction(this.deps.pool, async (client) => {
      const repo = new TrainingRepository(client);
      const timeZone = await repo.corpTimeZone(corpId);
      if (!timeZone) throw new TrainingImportError(`corp ${corpId} not found`);
      const importId = await repo.createImport(corpId, options.fileName ?? null, source, actor.actor);
      const run = new ImportRun(repo, corpId, { importId, source, by: actor.actor });

      let header: TrainingHeader | undefined;
      let batch: CheckedRow[] = [];
      for await (const record of csvRecords(input, options.encoding)) {
        if (!header) {
          header = parseHeader(isBlankRecord(record) ? undefined : record);
          continue;
        }
        if (isBlankRecord(record)) continue;
        batch.push(checkRow(record, header, timeZone, now));
        if (batch.length >= BATCH) {
          await run.process(batch);
          batch = [];
          options.onProgress?.(run.rows);
        }
      }
      if (!header) parseHeader(undefined);
      await run.process(batch);
      options.onProgress?.(run.rows);

      const result = run.result(header!.ignored);
      await repo.finishImport(importId, result, result.rejects);
      await this.deps.audit.record(client, {
        corpId,
        actor: actor.actor,
        actorIp: actor.ip ?? null,
        action: 'training.import',
        resourceType: 'training_import',
        resourceIds: [importId],
        result: 'allowed',
        details: {
          fileName: options.fileName ?? null,
          source,
          rows: result.rows,
          inserted: result.inserted,
          updated: result.updated,
          unchanged: result.unchanged,
          rejected: result.rejected,
        },
      });
      return result;
    });
  }

  /** A user's status for a course: their account's records and those of their linked employee. */
  async currentStatus(corpId: number, userId: string, course: string): Promise<TrainingStatus> {
    const s = await new TrainingRepository(this.deps.pool).statusOf(corpId, userId, course);
    if (s.valid) return { state: 'valid', expiresAt: s.forever ? null : s.validUntil };
    if (s.any) return { state: 'expired', expiresAt: s.lastExpiry };
    return { state: 'missing', expiresAt: null };
  }

  /** Status of one course, or of every course the user has records of. */
  async statuses(
    corpId: number,
    userId: string,
    course?: string,
  ): Promise<Array<TrainingStatus & { course: string }>> {
    const courses =
      course !== undefined
        ? [course]
        : await new TrainingRepository(this.deps.pool).coursesOf(corpId, userId);
    const out: Array<TrainingStatus & { course: string }> = [];
    for (const c of courses) out.push({ course: c, ...(await this.currentStatus(corpId, userId, c)) });
    return out;
  }

  holdsValidTraining(corpId: number, userId: string, course: string): Promise<boolean> {
    return holdsValidTraining(this.deps.pool, corpId, userId, course);
  }

  list(filter: {
    corpId: number;
    userId?: string;
    course?: string;
    before?: string;
    limit: number;
  }): Promise<TrainingCompletion[]> {
    return new TrainingRepository(this.deps.pool).list(filter);
  }

  findAccount(username: string) {
    return new TrainingRepository(this.deps.pool).findAccount(username);
  }
}

/** The state of one import: persons resolved per batch, keys seen, counts and rejects. */
class ImportRun {
  rows = 0;
  private inserted = 0;
  private updated = 0;
  private unchanged = 0;
  private readonly rejects: ImportReject[] = [];
  /** Key of every stored row → its line and expiry, to spot repeats within the file. */
  private readonly seen = new Map<string, { line: number; expires: number | null }>();

  constructor(
    private readonly repo: TrainingRepository,
    private readonly corpId: number,
    private readonly meta: { importId: string; source: TrainingSource; by: string },
  ) {}

  async process(batch: CheckedRow[]): Promise<void> {
    if (batch.length === 0) return;
    this.rows += batch.length;
    const userids = [...new Set(batch.flatMap((r) => (r.userid ? [r.userid] : [])))];
    const usernames = [...new Set(batch.flatMap((r) => (r.username ? [r.username] : [])))];
    const employees = await this.repo.knownEmployees(this.corpId, userids);
    const accounts = await this.repo.accountsByName(usernames);
    const store: CompletionInput[] = [];
    for (const row of batch) {
      const person = this.resolvePerson(row, employees, accounts);
      if (row.problems.length > 0 || !person) {
        this.rejects.push({ line: row.line, reason: row.problems.join('; ') });
        continue;
      }
      const completion = {
        ...person,
        course: row.course,
        completedAt: row.completedAt!,
        expiresAt: row.expiresAt,
      };
      const key = [
        person.userId ?? '',
        person.employeeUserid ?? '',
        row.course,
        row.completedAt!.getTime(),
      ].join('\0');
      const expires = row.expiresAt?.getTime() ?? null;
      const earlier = this.seen.get(key);
      if (earlier && earlier.expires === expires) this.unchanged++;
      else if (earlier)
        this.rejects.push({
          line: row.line,
          reason: `conflicts with line ${earlier.line}: same person, course and completion, another expiry`,
        });
      else {
        this.seen.set(key, { line: row.line, expires });
        store.push(completion);
      }
    }
    const stored = await this.repo.store(this.corpId, store, this.meta);
    this.inserted += stored.inserted;
    this.updated += stored.updated;
    this.unchanged += store.length - stored.inserted - stored.updated;
  }

  /** The stored identity of the row's person, adding a problem when it is unknown. */
  private resolvePerson(
    row: CheckedRow,
    employees: Set<string>,
    accounts: Map<string, { id: string; corpId: number | null; employeeUserid: string | null }>,
  ): { userId: string | null; employeeUserid: string | null } | undefined {
    if (row.username) {
      const account = accounts.get(row.username);
      if (!account) {
        row.problems.push(`unknown person: no account ${quote(row.username)}`);
        return undefined;
      }
      if (row.userid && (account.corpId !== this.corpId || account.employeeUserid !== row.userid)) {
        row.problems.push(`userid ${quote(row.userid)} is not the employee linked to ${quote(row.username)}`);
        return undefined;
      }
      return { userId: account.id, employeeUserid: null };
    }
    if (row.userid) {
      if (!employees.has(row.userid)) {
        row.problems.push(`unknown person: no employee ${quote(row.userid)} in this corp`);
        return undefined;
      }
      return { userId: null, employeeUserid: row.userid };
    }
    return undefined;
  }

  result(ignoredColumns: string[]): ImportResult {
    const accepted = this.inserted + this.updated + this.unchanged;
    return {
      importId: this.meta.importId,
      rows: this.rows,
      accepted,
      inserted: this.inserted,
      updated: this.updated,
      unchanged: this.unchanged,
      rejected: this.rejects.length,
      rejects: this.rejects,
      ignoredColumns,
    };
  }
}
