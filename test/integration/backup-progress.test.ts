/** Progress lines of a real backup and restore (PostgreSQL 15, s3rver), with a short interval. */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  describeWithServices,
  psql,
  type RunningPostgres,
  type RunningS3,
  startPostgres,
  startS3,
  tempDir,
} from '../harness/services.ts';
import { kindling } from './backup-helpers.ts';

describeWithServices('backup and restore progress (real PostgreSQL 15, s3rver)', ['postgres', 's3'], () => {
  let pg: RunningPostgres;
  let target: RunningPostgres;
  let s3: RunningS3;
  beforeAll(async () => {
    [pg, target, s3] = await Promise.all([
      startPostgres(),
      startPostgres(),
      startS3({ buckets: ['backups'] }),
    ]);
    psql(pg, 'CREATE DATABASE identity');
    // ~24 MiB of rows (md5 text: distinct per row): long enough for several 20 ms intervals
    psql(
      pg,
      'CREATE TABLE blob AS SELECT i, repeat(md5(i::text), 32) AS b FROM generate_series(1, 24000) i',
      'identity',
    );
  }, 60_000);
  afterAll(async () => Promise.all([pg?.stop(), target?.stop(), s3?.stop()]));

  const progressLine = (what: string) => new RegExp(`^${what} \\d+\\.\\d MiB done, \\d+\\.\\d MiB/s$`, 'm');

  it('prints MiB done and MiB/s at intervals while backing up and while restoring (KINDLING_PROGRESS_INTERVAL=20ms)', async () => {
    const env = { KINDLING_PROGRESS_INTERVAL: '20ms' };
    const store = ['--store', 's3://backups/progress', '--s3-endpoint', s3.endpoint];
    const b = await kindling(
      [
        'backup',
        '--target',
        'local',
        '--components',
        'postgres',
        '--endpoint',
        `postgres=${pg.url}`,
        ...store,
      ],
      env,
      s3,
    );
    expect(b.code, b.stderr).toBe(0);
    expect(b.stderr).toMatch(progressLine('postgres: identity\\.pgdump\\.zst'));
    const r = await kindling(
      [
        'restore',
        '--backup',
        'latest',
        '--target',
        'local',
        '--endpoint',
        `postgres=${target.url}`,
        ...store,
      ],
      env,
      s3,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(progressLine('postgres: restoring identity\\.pgdump\\.zst'));
    // off with 0
    const quiet = await kindling(
      [
        'backup',
        '--target',
        'local',
        '--components',
        'postgres',
        '--endpoint',
        `postgres=${pg.url}`,
        ...store,
      ],
      { KINDLING_PROGRESS_INTERVAL: '0' },
      s3,
    );
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stderr).not.toMatch(/MiB done/);
  }, 120_000);

  it('the backup action prints the same lines in its log (src/actions/backup/index.ts run as the runner starts it)', async () => {
    const dir = tempDir('progress-action');
    for (const f of ['output', 'summary']) writeFileSync(join(dir, f), '');
    const r = spawnSync(process.execPath, ['src/actions/backup/index.ts'], {
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        GITHUB_OUTPUT: join(dir, 'output'),
        GITHUB_STEP_SUMMARY: join(dir, 'summary'),
        KINDLING_PROGRESS_INTERVAL: '20ms',
        INPUT_TARGET: 'local',
        INPUT_ENDPOINTS: `postgres=${pg.url}`,
        INPUT_COMPONENTS: 'postgres',
        INPUT_STORE: 's3://backups/progress-action',
        'INPUT_S3-ENDPOINT': s3.endpoint,
        'INPUT_ACCESS-KEY-ID': 'S3RVER',
        'INPUT_SECRET-ACCESS-KEY': 'S3RVER',
      },
      timeout: 120_000,
    });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(progressLine('postgres: identity\\.pgdump\\.zst'));
  }, 150_000);
});
