import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  describeWithServices,
  psql,
  type RunningPostgres,
  type RunningRedis,
  type RunningS3,
  startPostgres,
  startRedis,
  startS3,
  tempDir,
} from '../harness/services.ts';
import { readObject, s3Client } from './backup-helpers.ts';

/** The log as GitHub shows it: `::add-mask::` lines register secrets and are not printed. */
const unmasked = (log: string) =>
  log
    .split('\n')
    .filter((l) => !l.startsWith('::add-mask::'))
    .join('\n');

const ROOT = new URL('../../', import.meta.url).pathname;

/** Runs the bundled action as GitHub would: INPUT_* variables, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files. */
function runAction(
  inputs: Record<string, string>,
): Promise<{ code: number; stdout: string; outputs: Record<string, string>; summary: string }> {
  const dir = tempDir('action');
  const out = join(dir, 'output');
  const summary = join(dir, 'summary');
  writeFileSync(out, '');
  writeFileSync(summary, '');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    GITHUB_OUTPUT: out,
    GITHUB_STEP_SUMMARY: summary,
  };
  for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = v;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(ROOT, 'actions/backup/dist/index.js')],
      { cwd: ROOT, env },
      (err, stdout) => {
        const outputs: Record<string, string> = {};
        for (const m of readFileSync(out, 'utf8').matchAll(/^([\w-]+)<<(\S+)\n([\s\S]*?)\n\2$/gm))
          outputs[m[1]!] = m[3]!;
        resolve({ code: err ? 1 : 0, stdout, outputs, summary: readFileSync(summary, 'utf8') });
      },
    );
  });
}

describeWithServices(
  'backup action (bundled dist/index.js) on target local',
  ['postgres', 'redis', 's3'],
  () => {
    let pg: RunningPostgres;
    let redis: RunningRedis;
    let s3: RunningS3;
    const extra: { stop(): Promise<void> }[] = [];
    beforeAll(async () => {
      [pg, redis, s3] = await Promise.all([
        startPostgres({ password: 'action-pg-pw' }),
        startRedis(),
        startS3({ buckets: ['backups'] }),
      ]);
      psql(pg, 'CREATE DATABASE identity');
      psql(pg, 'CREATE TABLE t AS SELECT i, md5(i::text) AS v FROM generate_series(1, 100) i', 'identity');
    }, 60_000);
    afterAll(async () => Promise.all([pg?.stop(), redis?.stop(), s3?.stop(), ...extra.map((e) => e.stop())]));

    it('sets backup-id, manifest-uri, bytes, duration; writes a summary row per component; masks the credentials; runs the drill', async () => {
      const [pgScratch, redisScratch] = await Promise.all([startPostgres(), startRedis()]);
      extra.push(pgScratch, redisScratch);
      const r = await runAction({
        target: 'local',
        endpoints: `postgres=${pg.url}\nredis=${redis.url}`,
        store: 's3://backups/ci',
        's3-endpoint': s3.endpoint,
        'access-key-id': 'S3RVER',
        'secret-access-key': 'S3RVER-secret-xyz',
        compression: 'gzip',
        retention: 'keep-last=3',
        drill: 'true',
        'scratch-endpoints': `postgres=${pgScratch.url}\nredis=${redisScratch.url}`,
      });
      expect(r.code, r.stdout).toBe(0);
      expect(unmasked(r.stdout)).not.toContain('action-pg-pw');
      expect(r.stdout).toContain('::add-mask::action-pg-pw');
      expect(r.outputs['backup-id']).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]{12}$/);
      expect(r.outputs['manifest-uri']).toBe(`s3://backups/ci/${r.outputs['backup-id']}/manifest.json`);
      const bytes = JSON.parse(r.outputs.bytes!);
      expect(Object.keys(bytes).sort()).toEqual(['postgres', 'redis']);
      expect(r.outputs.duration).toMatch(/^\d+(\.\d)?(ms|s)|\d+m\d\ds$/);
      expect(r.outputs['restore-time']).toMatch(/\d/);
      const manifest = JSON.parse(
        (
          await readObject(s3Client(s3.endpoint), 'backups', `ci/${r.outputs['backup-id']}/manifest.json`)
        ).toString(),
      );
      expect(manifest.compression).toBe('gzip');
      const total = manifest.components
        .find((c: { component: string }) => c.component === 'postgres')
        .artifacts.reduce((n: number, a: { bytes: number }) => n + a.bytes, 0);
      expect(bytes.postgres).toBe(total);
      expect(r.summary).toMatch(
        /\| ✅ postgres \| postgres \| .+ \| .*`identity\.pgdump\.gz` `[0-9a-f]{16}…`.* \| `kindling restore --backup \S+ --components postgres --store s3:\/\/backups\/ci --s3-endpoint/,
      );
      expect(r.summary).toMatch(/\| ✅ redis \|/);
      expect(r.summary).toMatch(/Restore drill\*\* passed/);
    }, 180_000);

    it('fails (exit 1) with an empty manifest-uri when a component fails, and the summary still shows the other', async () => {
      const r = await runAction({
        target: 'local',
        endpoints: `postgres=postgresql://postgres:wrong-pw-123@127.0.0.1:${pg.port}/postgres\nredis=${redis.url}`,
        store: 's3://backups/ci',
        's3-endpoint': s3.endpoint,
        'access-key-id': 'S3RVER',
        'secret-access-key': 'S3RVER',
      });
      expect(r.code).toBe(1);
      expect(r.outputs['manifest-uri']).toBe('');
      expect(r.outputs.ok).toBe('false');
      expect(r.summary).toMatch(/\| ❌ postgres \|/);
      expect(r.summary).toMatch(/\| ✅ redis \|/);
      expect(unmasked(r.stdout)).not.toContain('wrong-pw-123');
      expect(r.stdout).toMatch(/::error::backup \S+ failed/);
    }, 120_000);
  },
);
