/**
 * The environment variables that tune a backup or restore, read once up front: a bad value is a
 * usage error (exit 2) before anything is dumped or written, not a failed component half-way.
 */
import { s3TimeoutFromEnv } from '../store/s3.ts';
import { dumpIdleTimeoutFromEnv } from './pipeline.ts';
import { progressIntervalFromEnv } from './progress.ts';
import { redisCliTimeoutFromEnv } from './sources/redis.ts';

export function checkStreamingEnv(env: NodeJS.ProcessEnv = process.env): void {
  s3TimeoutFromEnv(env);
  dumpIdleTimeoutFromEnv(env);
  progressIntervalFromEnv(env);
  redisCliTimeoutFromEnv(env);
}
