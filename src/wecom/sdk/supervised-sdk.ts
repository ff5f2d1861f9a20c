/**
 * Runs the native finance SDK in a child process so a SIGSEGV in vendor code (seen in real
 * DecryptData, protocol §2.2) never takes the archive service down. Calls are serialised, so a
 * crash is attributable to exactly one operation: the child is restarted and the operation
 * retried; after `maxCrashes` crashes on the same operation it fails with FinanceSdkCrashedError
 * and the caller quarantines that message with its encrypted envelope.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DecryptBatchReply, WireError, WorkerRequest, WorkerResponse } from './finance-worker.js';
import {
  FinanceSdkCrashedError,
  FinanceSdkError,
  FinanceSdkTimeoutError,
  type FinanceSdk,
  type MediaChunk,
} from './types.js';

export interface SupervisorOptions {
  /** Path of libWeWorkFinanceSdk_C.so (real or stand-in). */
  libraryPath: string;
  /** Extra environment for the child (e.g. WECOM_EMULATOR_URL, https_proxy). */
  env?: Record<string, string | undefined>;
  /** Crashes tolerated on one operation before it is reported as crashed (default 3). */
  maxCrashes?: number;
  /** Per-request timeout (default 30 s; GetChatData/GetMediaData get at least their own timeout + 5 s). */
  requestTimeoutMs?: number;
  /** Observability hook: spawns, crashes, timeouts. */
  onEvent?: (e: SupervisorEvent) => void;
}

export type SupervisorEvent =
  | { type: 'spawn'; pid: number | undefined }
  | { type: 'crash'; op: string; signal: string | null; exitCode: number | null; crashes: number }
  | { type: 'gave_up'; op: string; crashes: number }
  | { type: 'timeout'; op: string; timeoutMs: number };

type Request = WorkerRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

/** Outcome of one message of decryptBatch. */
export type DecryptOutcome = { ok: true; plaintext: string } | { ok: false; error: Error };

interface Op {
  req: Request;
  crashes: number;
  /** Overrides SupervisorOptions.maxCrashes for this operation. */
  maxCrashes?: number;
  timeoutMs: number;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

class ChildDied extends Error {
  constructor(
    readonly signal: string | null,
    readonly exitCode: number | null,
  ) {
    super(`finance SDK child exited (${signal ?? exitCode})`);
  }
}

function workerEntry(): { path: string; execArgv: string[] } {
  const here = dirname(fileURLToPath(import.meta.url));
  const js = join(here, 'finance-worker.js');
  if (existsSync(js)) return { path: js, execArgv: [] };
  // Running from TypeScript sources (tests, `tsx`): load the worker through tsx, resolved from
  // here rather than from the working directory, which may be anywhere.
  return { path: join(here, 'finance-worker.ts'), execArgv: ['--import', import.meta.resolve('tsx')] };
}

/** FinanceSdk whose native calls run in a supervised, restartable child process. */
export class SupervisedFinanceSdk implements FinanceSdk {
  private child: ChildProcess | null = null;
  private childReady: Promise<ChildProcess> | null = null;
  private readonly pending = new Map<
    number,
    { child: ChildProcess; resolve: (v: unknown) => void; reject: (e: Error) => void }
  >();
  private readonly queue: Op[] = [];
  private running = false;
  private nextId = 1;
  private creds: { corpId: string; secret: string } | null = null;
  private stderrTail = '';
  private closed = false;
  /** Number of child processes started (for tests and metrics). */
  spawns = 0;

  constructor(private readonly opts: SupervisorOptions) {}

  async init(corpId: string, secret: string): Promise<void> {
    this.creds = { corpId, secret };
    await this.enqueue({ op: 'init', corpId, secret });
  }

  async getChatData(seq: bigint, limit: number, proxy = '', passwd = '', timeout = 10): Promise<string> {
    return (await this.enqueue(
      { op: 'getChatData', seq, limit, proxy, passwd, timeout },
      timeout * 1000 + 5000,
    )) as string;
  }

  async decryptData(encryptKey: string, encryptMsg: string): Promise<string> {
    return (await this.enqueue({ op: 'decryptData', encryptKey, encryptMsg })) as string;
  }

  /**
   * DecryptData for many messages in one IPC round trip. A crash kills the whole batch, so the
   * batch is then retried one message at a time: the crash stays attributed to the one message
   * that causes it (FinanceSdkCrashedError after maxCrashes), and the others still decrypt.
   */
  async decryptBatch(items: Array<{ encryptKey: string; encryptMsg: string }>): Promise<DecryptOutcome[]> {
    if (items.length === 0) return [];
    let reply: DecryptBatchReply;
    try {
      reply = (await this.enqueue(
        { op: 'decryptBatch', keys: items.map((i) => i.encryptKey), msgs: items.map((i) => i.encryptMsg) },
        0,
        1,
      )) as DecryptBatchReply;
    } catch (e) {
      if (!(e instanceof FinanceSdkCrashedError)) throw e;
      return Promise.all(
        items.map((it) =>
          this.decryptData(it.encryptKey, it.encryptMsg).then(
            (plaintext): DecryptOutcome => ({ ok: true, plaintext }),
            (error: Error): DecryptOutcome => ({ ok: false, error }),
          ),
        ),
      );
    }
    const failed = new Map(reply.errors);
    return reply.plaintexts.map((plaintext, i): DecryptOutcome => {
      const error = failed.get(i);
      return error ? { ok: false, error: fromWire(error) } : { ok: true, plaintext: plaintext! };
    });
  }

  async getMediaData(
    indexBuf: string,
    sdkFileId: string,
    proxy = '',
    passwd = '',
    timeout = 10,
  ): Promise<MediaChunk> {
    const r = (await this.enqueue(
      { op: 'getMediaData', indexBuf, sdkFileId, proxy, passwd, timeout },
      timeout * 1000 + 5000,
    )) as MediaChunk;
    // IPC structured clone gives a Uint8Array; callers expect a Buffer.
    return { ...r, data: Buffer.from(r.data.buffer, r.data.byteOffset, r.data.byteLength) };
  }

  async close(): Promise<void> {
    this.closed = true;
    const child = this.child;
    if (!child) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }

  private enqueue(req: Request, minTimeoutMs = 0, maxCrashes?: number): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error('SupervisedFinanceSdk is closed'));
    return new Promise((resolve, reject) => {
      const timeoutMs = Math.max(this.opts.requestTimeoutMs ?? 30_000, minTimeoutMs);
      this.queue.push({ req, crashes: 0, maxCrashes, timeoutMs, resolve, reject });
      void this.pump();
    });
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.queue.length > 0) await this.run(this.queue.shift()!);
    } finally {
      this.running = false;
    }
  }

  private async run(op: Op): Promise<void> {
    const maxCrashes = op.maxCrashes ?? this.opts.maxCrashes ?? 3;
    for (;;) {
      try {
        const child = await this.ensureChild();
        op.resolve(await this.call(child, op.req, op.timeoutMs));
        return;
      } catch (e) {
        if (e instanceof ChildDied) {
          op.crashes++;
          this.emit({
            type: 'crash',
            op: op.req.op,
            signal: e.signal,
            exitCode: e.exitCode,
            crashes: op.crashes,
          });
          if (op.crashes >= maxCrashes) {
            // A crashed batch is not given up on: decryptBatch retries its messages one by one.
            if (op.req.op !== 'decryptBatch')
              this.emit({ type: 'gave_up', op: op.req.op, crashes: op.crashes });
            op.reject(new FinanceSdkCrashedError(op.req.op, op.crashes, e.signal, this.stderrTail));
            return;
          }
          continue;
        }
        op.reject(e as Error);
        return;
      }
    }
  }

  private emit(e: SupervisorEvent): void {
    this.opts.onEvent?.(e);
  }

  private ensureChild(): Promise<ChildProcess> {
    if (this.child && this.childReady) return this.childReady;
    const { path, execArgv } = workerEntry();
    const child = fork(path, [], {
      execArgv,
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: { ...process.env, ...this.opts.env, VIGIL_FINANCE_SDK_LIBRARY: this.opts.libraryPath },
    });
    this.spawns++;
    this.child = child;
    this.emit({ type: 'spawn', pid: child.pid });
    // Without a listener an IPC 'error' event would be thrown in the parent.
    child.on('error', () => undefined);
    child.stderr?.on('data', (d: Buffer) => {
      this.stderrTail = (this.stderrTail + d.toString('utf8')).slice(-4096);
    });
    child.on('message', (m: WorkerResponse) => {
      const p = this.pending.get(m.id);
      if (!p || p.child !== child) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(fromWire(m.error));
    });
    child.on('exit', (code, signal) => {
      if (this.child === child) {
        this.child = null;
        this.childReady = null;
      }
      // Only this child's requests die with it: a restarted child may already have its own.
      const err = new ChildDied(signal, code);
      for (const [id, p] of this.pending) {
        if (p.child !== child) continue;
        this.pending.delete(id);
        p.reject(err);
      }
    });
    const ready = (async () => {
      // id 0 is the worker's "ready" message, sent once the library is loaded.
      await this.waitFor(child, 0, 60_000);
      if (this.creds) await this.call(child, { op: 'init', ...this.creds }, 30_000);
      return child;
    })();
    // A child that never became ready is discarded, so the next attempt starts a fresh one.
    ready.catch(() => {
      if (this.childReady === ready) {
        this.child = null;
        this.childReady = null;
      }
      child.kill('SIGKILL');
    });
    this.childReady = ready;
    return ready;
  }

  /**
   * Waits for the child's answer to request `id`. A hung native call cannot be cancelled: on
   * timeout the child is killed, and the next call starts a new one.
   */
  private waitFor(child: ChildProcess, id: number, timeoutMs: number, op = 'start'): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        if (op !== 'start') this.emit({ type: 'timeout', op, timeoutMs });
        child.kill('SIGKILL');
        reject(new FinanceSdkTimeoutError(op, timeoutMs));
      }, timeoutMs);
      this.pending.set(id, {
        child,
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
  }

  private call(child: ChildProcess, req: Request, timeoutMs: number): Promise<unknown> {
    const id = this.nextId++;
    const p = this.waitFor(child, id, timeoutMs, req.op);
    if (!child.connected) {
      this.pending.get(id)?.reject(new ChildDied(child.signalCode, child.exitCode));
      this.pending.delete(id);
      return p;
    }
    child.send({ ...req, id } as WorkerRequest, (e) => {
      // The channel closed under us before the request went out.
      if (e && this.pending.has(id)) {
        this.pending.get(id)!.reject(new ChildDied(child.signalCode, child.exitCode));
        this.pending.delete(id);
      }
    });
    return p;
  }
}

function fromWire(e: WireError): Error {
  return e.code !== null ? new FinanceSdkError(e.code, opName(e.message), e.slice) : new Error(e.message);
}

function opName(message: string): string {
  return /^(\w+) returned/.exec(message)?.[1] ?? 'FinanceSdk';
}
