/**
 * CPU accounting of the ingest benchmark from /proc (Linux only; zeros elsewhere): the main
 * thread of this process (pipeline + emulator), its other threads (RSA workers, GC and libuv
 * helpers), the finance SDK child and the PostgreSQL backends serving the benchmark's database.
 * On a 2-core machine every party competes with the RSA threads, so the CPU each one spends per
 * message is what decides how close the pipeline gets to the RSA ceiling.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type pg from 'pg';

/** Clock ticks per second of /proc's utime/stime (USER_HZ, 100 on Linux). */
const TICKS = 100;

/** utime + stime of /proc/<path>/stat in seconds; 0 when unreadable. */
function statSeconds(path: string): number {
  try {
    const text = readFileSync(`/proc/${path}/stat`, 'utf8');
    // The command name may contain spaces: fields count from after its closing parenthesis.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS;
  } catch {
    return 0;
  }
}

/** CPU seconds of this process's main thread and of all its other threads. */
export function ownThreads(): { main: number; others: number } {
  const pid = process.pid;
  let others = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`))
      if (Number(tid) !== pid) others += statSeconds(`${pid}/task/${tid}`);
  } catch {
    // not Linux
  }
  return { main: statSeconds(`${pid}/task/${pid}`), others };
}

/** CPU seconds of a process (its own threads, not its children). */
export function processSeconds(pid: number | undefined): number {
  return pid ? statSeconds(String(pid)) : 0;
}

/**
 * Tracks the CPU of every backend connected to `database`: sampled periodically because pool
 * connections come and go; the last reading of each pid counts (a backend that exits between two
 * samples loses at most one interval).
 */
export class BackendCpu {
  private readonly last = new Map<number, number>();
  private readonly first = new Map<number, number>();

  constructor(
    private readonly client: pg.Client,
    private readonly database: string,
  ) {}

  async sample(): Promise<void> {
    const { rows } = await this.client.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
      [this.database],
    );
    for (const { pid } of rows) {
      const s = statSeconds(String(pid));
      if (s === 0) continue;
      if (!this.first.has(pid)) this.first.set(pid, s);
      this.last.set(pid, s);
    }
  }

  /** CPU seconds spent by the backends since they were first seen. */
  seconds(): number {
    let total = 0;
    for (const [pid, s] of this.last) total += s - (this.first.get(pid) ?? s);
    return total;
  }

  /** Forgets what was seen so far: the next readings start from zero. */
  reset(): void {
    for (const [pid, s] of this.last) this.first.set(pid, s);
  }
}
