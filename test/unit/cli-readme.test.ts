// The README's backup and restore examples, run as written (issue #16) against real PostgreSQL and
// Redis and an S3 server (s3rver), with no cluster: only the ports and the password are this
// machine's. Each line goes through the real CLI entry (main), in-process.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../harness/cli.ts';
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

/** The code block after "Back up, list, verify and restore", as shell lines (continuations joined). */
function readmeExample(): { env: Record<string, string>; commands: string[][] } {
  const text = readFileSync('README.md', 'utf8');
  const start = text.indexOf('Back up, list, verify and restore');
  const block = /```bash\n([\s\S]*?)```/.exec(text.slice(start))![1]!;
  const lines = block
    .replace(/\\\n\s*/g, '')
    .split('\n')
    .filter(Boolean);
  const env: Record<string, string> = {};
  const commands: string[][] = [];
  for (const line of lines) {
    if (line.startsWith('export ')) {
      for (const kv of line.slice(7).split(/\s+/)) env[kv.split('=')[0]!] = kv.slice(kv.indexOf('=') + 1);
      continue;
    }
    const words = line.split(/\s+/);
    expect(words.slice(0, 4)).toEqual(['npm', 'run', 'kindling', '--']);
    commands.push(words.slice(4));
  }
  return { env, commands };
}

describeWithServices(
  'README backup/restore examples, as written, without a cluster',
  ['postgres', 'redis', 's3'],
  () => {
    let pg: RunningPostgres;
    let redis: RunningRedis;
    let s3: RunningS3;
    const saved = { ...process.env };
    beforeAll(async () => {
      [pg, redis, s3] = await Promise.all([
        startPostgres({ password: 'readme-pw-5c1a' }),
        startRedis(),
        startS3({ buckets: ['backups'] }),
      ]);
      psql(pg, 'CREATE TABLE notes(id int primary key, body text)');
      psql(pg, "INSERT INTO notes SELECT g, 'n' || g FROM generate_series(1, 50) g");
    });
    afterAll(async () => {
      process.env = saved;
      await Promise.all([pg?.stop(), redis?.stop(), s3?.stop()]);
    });

    it('backup, backups list, backups verify latest, restore: each exits 0', async () => {
      const { env, commands } = readmeExample();
      expect(commands.map((c) => c[0])).toEqual(['backup', 'backups', 'backups', 'restore']);
      const here = (arg: string) =>
        arg
          .replace(
            'postgresql://postgres:PASS@127.0.0.1:5432/postgres',
            pg.urlFor('postgres', 'readme-pw-5c1a'),
          )
          .replace('redis://127.0.0.1:6379', redis.url)
          .replace('http://127.0.0.1:9000', s3.endpoint);
      Object.assign(process.env, Object.fromEntries(Object.entries(env).map(([k, v]) => [k, here(v)])), {
        AWS_ACCESS_KEY_ID: s3.accessKeyId,
        AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
      });
      for (const argv of commands) {
        const r = await runCli(argv.map(here));
        expect(r.code, `${argv.join(' ')}\n${r.err}`).toBe(0);
      }
      expect(psql(pg, 'SELECT count(*) FROM notes').trim()).toBe('50');
    }, 240_000);
  },
);
