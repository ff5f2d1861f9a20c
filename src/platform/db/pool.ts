import pg from 'pg';
import type { VigilConfig } from '../config/schema.js';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;
/** Anything that runs a query: the pool or a client inside a transaction. */
export type Queryable = Pick<pg.Pool, 'query'>;

/** Opens the connection pool for a database URL, with the configured TLS mode. */
export function createPool(
  url: string,
  options: Pick<VigilConfig['database'], 'ssl' | 'poolMax'>,
  name = 'vigil',
): Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolMax,
    application_name: name,
    ssl: sslOptions(options.ssl),
    connectionTimeoutMillis: 10_000,
  });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', () => undefined);
  return pool;
}

function sslOptions(ssl: VigilConfig['database']['ssl']): pg.PoolConfig['ssl'] {
  switch (ssl.mode) {
    case 'disable':
      return undefined;
    case 'require':
      return { rejectUnauthorized: false };
    case 'verify-full':
      return { rejectUnauthorized: true, ...(ssl.ca ? { ca: ssl.ca } : {}) };
  }
}

/** Runs `work` in a transaction on one client, committing on success and rolling back on error. */
export async function withTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
