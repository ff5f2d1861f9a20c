import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { CronExpressionParser } from 'cron-parser';
import type { Logger } from '../logging/logger.js';
import type { JobRepository } from './queue.js';
import type { Job, JobDefinition, ScheduleDefinition } from './types.js';

export interface RunnerOptions {
  concurrency: number;
  pollIntervalMs: number;
  /** How long a claimed job stays leased without a heartbeat before another process may retry it. */
  leaseMs?: number;
}

export interface RunnerMetrics {
  onJobFinished?(name: string, outcome: 'succeeded' | 'failed', seconds: number): void;
}

/**
 * Runs background jobs in this process: claims queued jobs (FOR UPDATE SKIP LOCKED), enqueues
 * schedule ticks (unique per tick, so once across all processes) and returns jobs of dead
 * workers to the queue. Holds no state that correctness depends on.
 */
export class JobRunner {
  readonly workerId = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private readonly definitions = new Map<string, JobDefinition>();
  private readonly schedules: ScheduleDefinition[] = [];
  private readonly abort = new AbortController();
  private loops: Promise<void>[] = [];
  private running = false;
  private readonly leaseMs: number;

  constructor(
    private readonly repo: JobRepository,
    private readonly logger: Logger,
    private readonly options: RunnerOptions,
    private readonly metrics: RunnerMetrics = {},
  ) {
    this.leaseMs = options.leaseMs ?? 60_000;
  }

  define(definition: JobDefinition): void {
    this.definitions.set(definition.name, definition);
  }

  schedule(schedule: ScheduleDefinition): void {
    CronExpressionParser.parse(schedule.cron); // fail at start-up on a bad expression
    this.schedules.push(schedule);
  }

  get isRunning(): boolean {
    return this.running;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    for (let i = 0; i < this.options.concurrency; i++) this.loops.push(this.workLoop());
    this.loops.push(this.maintenanceLoop());
    this.logger.info({ worker: this.workerId, jobs: [...this.definitions.keys()] }, 'job runner started');
  }

  /** Stops claiming, signals running jobs, and waits for them to finish. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.abort.abort();
    await Promise.allSettled(this.loops);
    this.loops = [];
  }

  /** Enqueues the current tick of every enabled schedule; exposed for tests and `vigil worker`. */
  async enqueueDueTicks(now = new Date()): Promise<void> {
    for (const schedule of this.schedules) {
      if (schedule.enabled === false) continue;
      const tick = CronExpressionParser.parse(schedule.cron, {
        currentDate: new Date(now.getTime() + 1),
        tz: 'UTC',
      })
        .prev()
        .toDate();
      await this.repo.enqueueTick(schedule.name, tick, schedule.job, schedule.payload ?? {});
    }
  }

  private async workLoop(): Promise<void> {
    const names = [...this.definitions.keys()];
    while (this.running) {
      let job: Job | undefined;
      try {
        job = await this.repo.claim(this.workerId, names, this.leaseMs);
      } catch (err) {
        this.logger.warn({ err: (err as Error).message }, 'claiming a job failed');
      }
      if (job) await this.execute(job);
      else
        await sleep(this.options.pollIntervalMs, undefined, { signal: this.abort.signal }).catch(
          () => undefined,
        );
    }
  }

  private async execute(job: Job): Promise<void> {
    const definition = this.definitions.get(job.name)!;
    const logger = this.logger.child({ job: job.name, jobId: job.id });
    const started = process.hrtime.bigint();
    const heartbeat = setInterval(() => {
      this.repo.extendLease(job.id, this.workerId, this.leaseMs).catch(() => undefined);
    }, this.leaseMs / 3);
    try {
      const result = await definition.handler({
        job,
        logger,
        signal: this.abort.signal,
        reportProgress: (progress) => this.repo.reportProgress(job.id, progress),
      });
      await this.repo.complete(job.id, this.workerId, result);
      this.metrics.onJobFinished?.(job.name, 'succeeded', seconds(started));
    } catch (err) {
      const message = (err as Error).message ?? String(err);
      logger.warn({ err: message, attempt: job.attempts }, 'job failed');
      await this.repo.fail(job.id, this.workerId, message).catch(() => undefined);
      this.metrics.onJobFinished?.(job.name, 'failed', seconds(started));
    } finally {
      clearInterval(heartbeat);
    }
  }

  private async maintenanceLoop(): Promise<void> {
    while (this.running) {
      try {
        await this.enqueueDueTicks();
        await this.repo.releaseExpiredLeases();
      } catch (err) {
        this.logger.warn({ err: (err as Error).message }, 'job maintenance failed');
      }
      await sleep(this.options.pollIntervalMs, undefined, { signal: this.abort.signal }).catch(
        () => undefined,
      );
    }
  }
}

function seconds(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}
