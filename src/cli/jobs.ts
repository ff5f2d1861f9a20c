import { Command } from 'commander';
import { openDatabase } from '../app.js';
import { JobRepository } from '../platform/jobs/queue.js';
import type { JobStatus } from '../platform/jobs/types.js';
import { cliLogger, configFrom } from './context.js';

export function jobsCommand(): Command {
  const jobs = new Command('jobs').description('background jobs: status and history');
  jobs
    .command('list')
    .description('list recent jobs')
    .option('--status <status>', 'queued | running | succeeded | failed | cancelled')
    .option('--name <name>', 'only jobs with this name')
    .option('--limit <n>', 'how many', '20')
    .action(async (options: { status?: JobStatus; name?: string; limit: string }, command: Command) => {
      const config = configFrom(command);
      const db = await openDatabase(config, cliLogger(config));
      try {
        const repo = new JobRepository(db.pool);
        const counts = await repo.counts();
        process.stdout.write(
          Object.entries(counts)
            .map(([k, v]) => `${k} ${v}`)
            .join(' · ') + '\n',
        );
        for (const job of await repo.list({
          status: options.status,
          name: options.name,
          limit: Number(options.limit),
        })) {
          const progress = job.progress ? ` ${job.progress.done}/${job.progress.total ?? '?'}` : '';
          const error = job.lastError ? `  error: ${job.lastError.split('\n')[0]}` : '';
          process.stdout.write(
            `#${job.id.padEnd(6)} ${job.name.padEnd(28)} ${job.status.padEnd(9)} attempt ${job.attempts}/${job.maxAttempts}` +
              ` ${job.createdAt.toISOString()}${progress}${error}\n`,
          );
        }
      } finally {
        await db.close();
      }
    });
  return jobs;
}
