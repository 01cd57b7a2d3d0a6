/**
 * A JobWorker in a child process, for the int tests that kill it (`kill -9`): each job it runs is
 * appended to the Redis list `${prefix}:ran` as JSON `{ id, kind, pid }`. With `hang`, retry jobs
 * never finish (the worker dies holding them). Usage: `worker-child.ts <redisUrl> <prefix> [hang] [lockMs]`.
 */
import { Redis } from 'ioredis';
import { JobWorker, type JobData } from '../index';

const [redisUrl, prefix, mode = 'run', lockMs = '30000'] = process.argv.slice(2);
const log = new Redis(redisUrl);
const record = async (kind: string, data: JobData, jobId: string) => {
  await log.rpush(`${prefix}:ran`, JSON.stringify({ kind, pid: process.pid, jobId, data }));
};
const worker = new JobWorker({
  redis: redisUrl,
  prefix,
  lockDurationMs: Number(lockMs),
  handlers: {
    retry: async (d, job) => {
      await log.rpush(`${prefix}:taken`, JSON.stringify({ pid: process.pid, messageId: d.messageId }));
      if (mode === 'hang') await new Promise(() => undefined);
      await record('retry', d, job.jobId);
    },
    retention: (d, job) => record('retention', d, job.jobId),
  },
});
await worker.ready();
process.stdout.write('ready\n');
