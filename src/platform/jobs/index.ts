export { JobRepository, type EnqueueOptions } from './queue.js';
export { JobRunner, type RunnerOptions } from './runner.js';
export type { Job, JobContext, JobDefinition, JobProgress, JobStatus, ScheduleDefinition } from './types.js';
