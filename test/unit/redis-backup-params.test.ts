/** `type: redis` catalog parameters: `timeout` bounds the BGSAVE and the restore's load and sync. */
import { describe, expect, it } from 'vitest';
import { redisSource } from '../../src/backup/sources/redis.ts';
import { loadStack } from '../../src/catalog/load.ts';
import type { BackupSpec } from '../../src/catalog/types.ts';

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
