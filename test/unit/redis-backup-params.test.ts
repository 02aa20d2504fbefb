/** `type: redis` catalog parameters (`timeout` bounds the BGSAVE, the restore's load and sync) and KINDLING_REDIS_TIMEOUT. */
import { describe, expect, it, vi } from 'vitest';
import { redisCliTimeoutFromEnv, redisSource } from '../../src/backup/sources/redis.ts';
import { loadStack } from '../../src/catalog/load.ts';
import type { BackupSpec } from '../../src/catalog/types.ts';
import { UsageError } from '../../src/util/errors.ts';
import { runCli } from '../harness/cli.ts';

describe('redis backup catalog parameters', () => {
  const redis = loadStack().components.redis!;
  const problems = (extra: Record<string, unknown>) =>
    redisSource
      .validate({ name: 'rdb', type: 'redis', ...extra } as BackupSpec, redis)
      .map((p) => `${p.path.join('.')} ${p.message}`);

  it('accepts the catalog entry and a duration timeout', () => {
    expect(problems({})).toEqual([]);
    expect(problems({ timeout: '90s', scratchPort: 16380 })).toEqual([]);
  });

  it('refuses a timeout that is not a duration (it was accepted and ignored before)', () => {
    expect(problems({ timeout: 'soon' })).toEqual([expect.stringMatching(/^timeout invalid timeout "soon"/)]);
    expect(problems({ timeout: 30 })).toEqual([expect.stringMatching(/^timeout invalid timeout "30"/)]);
  });
});

describe('KINDLING_REDIS_TIMEOUT bounds each redis-cli call (redis-cli has no timeout of its own)', () => {
  it('30s by default; a duration sets it; a bad or tiny value is a usage error naming it', () => {
    expect(redisCliTimeoutFromEnv({})).toBe(30_000);
    expect(redisCliTimeoutFromEnv({ KINDLING_REDIS_TIMEOUT: '1m' })).toBe(60_000);
    expect(() => redisCliTimeoutFromEnv({ KINDLING_REDIS_TIMEOUT: 'soon' })).toThrow(
      /invalid KINDLING_REDIS_TIMEOUT "soon"/,
    );
    expect(() => redisCliTimeoutFromEnv({ KINDLING_REDIS_TIMEOUT: '10ms' })).toThrow(UsageError);
  });

  it('backup and restore refuse a bad value with exit 2 before any work (each tuning variable)', async () => {
    for (const [name, value] of [
      ['KINDLING_REDIS_TIMEOUT', 'soon'],
      ['KINDLING_S3_TIMEOUT', 'soon'],
      ['KINDLING_DUMP_IDLE_TIMEOUT', 'soon'],
      ['KINDLING_PROGRESS_INTERVAL', 'soon'],
    ] as const) {
      vi.stubEnv(name, value);
      try {
        for (const command of ['backup', 'restore']) {
          const r = await runCli([
            command,
            ...(command === 'restore' ? ['--backup', 'latest'] : []),
            '--target',
            'local',
            '--endpoint',
            'redis=redis://127.0.0.1:1',
            '--store',
            's3://backups/x',
            '--s3-endpoint',
            'http://127.0.0.1:1',
          ]);
          expect(r.code, `${command} ${name}: ${r.err}`).toBe(2);
          expect(r.err).toContain(name);
        }
      } finally {
        vi.unstubAllEnvs();
      }
    }
  });
});
