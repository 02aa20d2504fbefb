/**
 * actions/backup's bundle run as GitHub runs it, on target local: real PostgreSQL and Redis backed up
 * to a real S3 server (s3rver), then the manifest read back from the store.
 */
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
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
} from '../harness/services.ts';
import { actionSpec, errors, hasBundle, missingBundle, runAction } from './run-action.ts';

// s3rver ignores signatures, so a distinctive secret shows whether the action masks it.
const SECRET = 'kindling-entry-secret-4f1c';

if (!hasBundle('backup')) missingBundle('backup');
else
  describeWithServices(
    'actions/backup entry point on target local (real PostgreSQL, Redis, s3rver)',
    ['postgres', 'redis', 's3'],
    () => {
      let pg: RunningPostgres;
      let redis: RunningRedis;
      let s3: RunningS3;
      beforeAll(async () => {
        [pg, redis, s3] = await Promise.all([
          startPostgres(),
          startRedis(),
          startS3({ buckets: ['backups'] }),
        ]);
        psql(pg, 'CREATE DATABASE identity');
        psql(pg, 'CREATE TABLE t(id int primary key, v text)', 'identity');
        psql(pg, 'INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 2000) g', 'identity');
        const { execFileSync } = await import('node:child_process');
        execFileSync('redis-cli', ['-p', String(redis.port), 'SET', 'greeting', 'hello']);
      });
      afterAll(async () => {
        await Promise.all([pg?.stop(), redis?.stop(), s3?.stop()]);
      });

      const inputs = () => ({
        target: 'local',
        components: 'postgres,redis',
        endpoints: `postgres=${pg.url}\nredis=${redis.url}`,
        store: 's3://backups/entry',
        's3-endpoint': s3.endpoint,
        'access-key-id': 'S3RVER',
        'secret-access-key': SECRET,
      });

      it('backs up, writes every declared output, a job summary, and a manifest that is really in the store', async () => {
        const r = await runAction('backup', inputs(), { timeoutMs: 120_000 });
        expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
        // every declared output, except the drill's (no drill here)
        const declared = Object.entries(actionSpec('backup').outputs).filter(
          ([, o]) => !/^drill\b/i.test(o.description ?? ''),
        );
        for (const [name] of declared) expect(r.outputs, `output ${name}`).toHaveProperty(name);
        expect(JSON.parse(r.outputs.bytes!)).toMatchObject({
          postgres: expect.any(Number),
          redis: expect.any(Number),
        });
        const id = r.outputs['backup-id']!;
        expect(id).not.toBe('');
        expect(r.outputs['manifest-uri']).toMatch(new RegExp(`^s3://backups/entry/${id}/manifest\\.json$`));
        expect(r.outputs.duration).not.toBe('');
        expect(r.summary).toContain(id);
        // each component's backup (and its progress lines) in a log group of its own
        expect(r.stdout).toMatch(/^::group::postgres: \S+ \(postgres\)$/m);
        expect(r.stdout).toMatch(/^::group::redis: \S+ \(redis\)$/m);
        expect(r.summary).toMatch(/postgres/);

        const client = new S3Client({
          region: 'us-east-1',
          endpoint: s3.endpoint,
          forcePathStyle: true,
          credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
        });
        const obj = await client.send(
          new GetObjectCommand({ Bucket: 'backups', Key: `entry/${id}/manifest.json` }),
        );
        const manifest = await obj.Body!.transformToString();
        client.destroy();
        expect(manifest).toContain('postgres');
        expect(manifest).toContain('redis');
      });

      it('masks the secret access key: it appears only in the ::add-mask:: command', async () => {
        const r = await runAction('backup', inputs(), { timeoutMs: 120_000 });
        const lines = `${r.stdout}\n${r.stderr}\n${r.summary}`.split('\n').filter((l) => l.includes(SECRET));
        expect(lines).toEqual([`::add-mask::${SECRET}`]);
      });

      it('fails (exit 1) without writing a manifest when the bucket does not exist', async () => {
        const r = await runAction(
          'backup',
          { ...inputs(), store: 's3://no-such-bucket/entry' },
          { timeoutMs: 120_000 },
        );
        expect(r.code).toBe(1);
        expect(errors(r)).toMatch(/no-such-bucket|bucket/i);
      });
    },
  );
