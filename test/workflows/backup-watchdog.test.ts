import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { judgeStaleness, manifestBackupId } from '../../scripts/backup-watchdog.ts';
import { describeWithServices, type RunningS3, startS3 } from '../harness/services.ts';

const H = 3_600_000;
const at = (iso: string) => new Date(iso);

describe('backup staleness decision', () => {
  const backups = [
    { id: 'b1', completedAt: at('2026-01-01T02:00:00Z') },
    { id: 'b2', completedAt: at('2026-01-02T02:00:00Z') },
  ];
  it('fresh when the newest is within the limit, stale past it (the boundary is inclusive)', () => {
    expect(judgeStaleness(backups, at('2026-01-03T04:00:00Z'), 26 * H)).toMatchObject({
      fresh: true,
      newest: backups[1],
    });
    const stale = judgeStaleness(backups, at('2026-01-03T04:00:01Z'), 26 * H);
    expect(stale.fresh).toBe(false);
    expect(stale.message).toMatch(/b2 is 26h00m old, older than 26h00m: backups are stale/);
  });
  it('stale when there is no complete backup', () => {
    expect(judgeStaleness([], new Date(), 26 * H)).toMatchObject({
      fresh: false,
      message: expect.stringMatching(/no complete backup/),
    });
  });
  it('only PREFIX/<id>/manifest.json marks a complete backup', () => {
    const loc = { bucket: 'b', prefix: 'nightly' };
    expect(manifestBackupId(loc, 'nightly/20260101T020000Z/manifest.json')).toBe('20260101T020000Z');
    expect(manifestBackupId(loc, 'nightly/20260101T020000Z/postgres/databases.zst')).toBeUndefined();
    expect(manifestBackupId(loc, 'nightly/x/y/manifest.json')).toBeUndefined();
    expect(manifestBackupId(loc, 'other/x/manifest.json')).toBeUndefined();
    expect(manifestBackupId({ bucket: 'b', prefix: '' }, 'x/manifest.json')).toBe('x');
  });
});

describeWithServices('backup watchdog script against a real S3 server (s3rver)', ['s3'], () => {
  let s3: RunningS3;
  let tmp: string;
  beforeAll(async () => {
    s3 = await startS3({ buckets: ['backups'] });
    tmp = mkdtempSync(join(tmpdir(), 'kindling-watchdog-'));
  });
  afterAll(async () => {
    await s3?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  const put = async (key: string) => {
    const client = new S3Client({
      region: 'us-east-1',
      endpoint: s3.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    });
    await client.send(new PutObjectCommand({ Bucket: 'backups', Key: key, Body: '{}' }));
    client.destroy();
  };
  const run = (store: string, maxAge: string) => {
    const summary = join(tmp, `summary-${Math.random()}`);
    const r = spawnSync(
      process.execPath,
      ['scripts/backup-watchdog.ts', '--store', store, '--s3-endpoint', s3.endpoint, '--max-age', maxAge],
      {
        encoding: 'utf8',
        env: {
          ...process.env,
          AWS_ACCESS_KEY_ID: 'S3RVER',
          AWS_SECRET_ACCESS_KEY: 'S3RVER',
          GITHUB_STEP_SUMMARY: summary,
          GITHUB_ACTIONS: '',
        },
      },
    );
    let sum = '';
    try {
      sum = readFileSync(summary, 'utf8');
    } catch {}
    return { code: r.status, out: r.stdout + r.stderr, summary: sum };
  };

  it('fails when the store holds only incomplete backups (no manifest)', async () => {
    await put('nightly/20260101T020000Z/postgres/databases.zst');
    const r = run('s3://backups/nightly', '26h');
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/no complete backup/);
    expect(r.summary).toMatch(/❌ Backup staleness watchdog/);
  });

  it('passes on a fresh manifest, fails once it is older than --max-age', async () => {
    await put('nightly/20260102T020000Z/manifest.json');
    const fresh = run('s3://backups/nightly', '26h');
    expect(fresh.code, fresh.out).toBe(0);
    expect(fresh.out).toMatch(/newest complete backup 20260102T020000Z is .* old \(limit 26h00m\)/);
    expect(fresh.summary).toMatch(/✅/);
    await new Promise((r) => setTimeout(r, 1100));
    const stale = run('s3://backups/nightly', '1s');
    expect(stale.code).toBe(1);
    expect(stale.out).toMatch(/backups are stale/);
  });

  it('exit 2 on a bad store URL, exit 1 when the store is unreachable', () => {
    expect(run('http://backups', '26h').code).toBe(2);
    const r = spawnSync(
      process.execPath,
      ['scripts/backup-watchdog.ts', '--store', 's3://backups/x', '--s3-endpoint', 'http://127.0.0.1:9'],
      {
        encoding: 'utf8',
        env: { ...process.env, AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b', AWS_MAX_ATTEMPTS: '1' },
      },
    );
    expect(r.status).toBe(1);
  });
});
