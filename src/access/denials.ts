import type { Pool, PoolClient } from '../platform/db/pool.js';
import { withTransaction } from '../platform/db/pool.js';
import type { AppError } from '../platform/http/errors.js';

/**
 * Thrown inside `auditedTransaction` after a denial has been written to the audit log: the
 * transaction commits (so the denial is kept) and the error reaches the caller afterwards.
 */
export class DeniedAfterCommit extends Error {
  constructor(readonly error: AppError) {
    super(error.message);
  }
}

/** A transaction whose denials are committed with their audit event, then thrown. */
export async function auditedTransaction<T>(
  pool: Pool,
  work: (client: PoolClient) => Promise<T>,
): Promise<T> {
  let denied: AppError | undefined;
  const result = await withTransaction(pool, async (client) => {
    try {
      return await work(client);
    } catch (err) {
      if (!(err instanceof DeniedAfterCommit)) throw err;
      denied = err.error;
      return undefined;
    }
  });
  if (denied) throw denied;
  return result as T;
}
