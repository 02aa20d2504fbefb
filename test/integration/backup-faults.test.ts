import { existsSync, readdirSync, statSync, utimesSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  describeWithServices,
  freePort,
  psql,
  type RunningPostgres,
  type RunningS3,
  startPostgres,
  startS3,
} from '../harness/services.ts';
import { kindling, listKeys, putObject, readObject, s3Client, standInBin } from './backup-helpers.ts';

/** Every file under s3rver's directory: works even when s3rver is dead. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) =>
    statSync(join(dir, f)).isFile(),
  );
}
const manifestsIn = (s3: RunningS3) => filesUnder(s3.dir).filter((f) => f.includes('manifest.json'));

/**
 * Stand-in for an S3 server's failure modes, as a proxy in front of s3rver (which cannot fail
 * this way itself): answers part uploads number `failPart` with 500 InternalError, or every
 * request whose access key is not `acceptKey` with 403 InvalidAccessKeyId — what AWS S3 and
 * MinIO answer, with the same XML error body — and accepts AbortMultipartUpload (204), which
 * s3rver does not implement.
 */
async function s3StandInProxy(
  upstream: RunningS3,
  opts: { failPart?: number; acceptKey?: string },
): Promise<{ endpoint: string; server: Server; seen: string[] }> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    seen.push(`${req.method} ${url.pathname}${url.search}`);
    const fail = (status: number, code: string, message: string) => {
      // answer once the body is read: answering mid-body races the client's write into EPIPE,
      // and the SDK's last retry would then report the broken pipe instead of S3's error
      req.resume();
      req.once('end', () => {
        res.writeHead(status, { 'content-type': 'application/xml' });
        res.end(
          `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>standin</RequestId></Error>`,
        );
      });
    };
    const key = /Credential=([^/]+)\//.exec(String(req.headers.authorization ?? ''))?.[1];
    if (opts.acceptKey && key !== opts.acceptKey)
      return fail(
        403,
        'InvalidAccessKeyId',
        'The AWS Access Key Id you provided does not exist in our records.',
      );
    if (opts.failPart && req.method === 'PUT' && url.searchParams.get('partNumber') === String(opts.failPart))
      return fail(500, 'InternalError', 'We encountered an internal error. Please try again.');
    // s3rver cannot abort a multipart upload; real S3 answers 204 (the stand-in does, and records it)
    if (opts.failPart && req.method === 'DELETE' && url.searchParams.has('uploadId')) {
      res.writeHead(204);
      return res.end();
    }
    const up = request(
      { host: '127.0.0.1', port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return { endpoint: `http://127.0.0.1:${port}`, server, seen };
}

describeWithServices(
  'backup faults: nothing is committed, the exit code and message say why',
  ['postgres', 's3'],
  () => {
    let pg: RunningPostgres;
    const cleanup: (() => Promise<void> | void)[] = [];

    beforeAll(async () => {
      pg = await startPostgres();
      psql(pg, 'CREATE DATABASE identity');
      psql(
        pg,
        'CREATE TABLE t (id int, v text); INSERT INTO t SELECT i, md5(i::text) FROM generate_series(1, 1000) i',
        'identity',
      );
    }, 60_000);
    afterAll(async () => {
      await pg?.stop();
      for (const c of cleanup) await c();
    });

    const newS3 = async () => {
      const s3 = await startS3({ buckets: ['backups'] });
      cleanup.push(() => s3.stop());
      return s3;
    };
    const backupArgs = (s3Endpoint: string, store = 's3://backups/nightly') => [
      'backup',
      '--target',
      'local',
      '--components',
      'postgres',
      '--endpoint',
      `postgres=${pg.url}`,
      '--store',
      store,
      '--s3-endpoint',
      s3Endpoint,
    ];

    it('a dump that writes bytes then exits non-zero (stand-in pg_dump first on PATH) fails with exit 1 and no manifest', async () => {
      const s3 = await newS3();
      const bin = standInBin({
        pg_dump:
          'case "$1" in --version) echo "pg_dump (PostgreSQL) 15.99";; *) printf "PGDMP partial dump bytes"; echo "pg_dump: error: query failed: connection lost" >&2; exit 3;; esac',
      });
      const r = await kindling(backupArgs(s3.endpoint), { PATH: `${bin}:${process.env.PATH}` }, s3);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /pg_dump -Fc -Z0 exited 3 after writing 24 B \(stderr: pg_dump: error: query failed: connection lost\); nothing was stored/,
      );
      expect(manifestsIn(s3)).toEqual([]);
      expect(
        (await listKeys(s3Client(s3.endpoint), 'backups')).filter((k) => k.endsWith('.pgdump.zst')),
      ).toEqual([]);
    }, 60_000);

    it('a dump that exits 0 with empty output fails with exit 1 and no manifest', async () => {
      const s3 = await newS3();
      const bin = standInBin({
        pg_dump: 'case "$1" in --version) echo "pg_dump (PostgreSQL) 15.99";; *) exit 0;; esac',
      });
      const r = await kindling(backupArgs(s3.endpoint), { PATH: `${bin}:${process.env.PATH}` }, s3);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/pg_dump -Fc -Z0 exited 0 but wrote nothing; nothing was stored/);
      expect(manifestsIn(s3)).toEqual([]);
    }, 60_000);

    it('a dump that exits 0 with output that is not a dump (format probe) fails with exit 1 and no manifest', async () => {
      const s3 = await newS3();
      const bin = standInBin({
        pg_dump: 'case "$1" in --version) echo "pg_dump (PostgreSQL) 15.99";; *) echo "not a dump";; esac',
      });
      const r = await kindling(backupArgs(s3.endpoint), { PATH: `${bin}:${process.env.PATH}` }, s3);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/no PGDMP header/);
      expect(manifestsIn(s3)).toEqual([]);
    }, 60_000);

    it('the S3 server killed mid-upload fails with exit 1, naming the endpoint, and no manifest', async () => {
      const s3 = await newS3();
      // stand-in pg_dump: a valid header then 300 MiB of incompressible bytes, so the upload is still running when S3 dies
      const bin = standInBin({
        pg_dump:
          'case "$1" in --version) echo "pg_dump (PostgreSQL) 15.99";; *) printf PGDMP; head -c 314572800 /dev/urandom;; esac',
      });
      const run = kindling(backupArgs(s3.endpoint), { PATH: `${bin}:${process.env.PATH}` }, s3);
      // kill once the first multipart part has landed on disk
      const deadline = Date.now() + 30_000;
      while (
        !filesUnder(s3.dir).some((f) => f.includes('.part') || f.includes('upload')) &&
        Date.now() < deadline
      )
        await new Promise((r) => setTimeout(r, 50));
      s3.kill();
      const r = await run;
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        new RegExp(
          `upload of nightly/\\S+/postgres/\\S+ failed: ${s3.endpoint.replace(/[.]/g, '\\.')}, bucket "backups"`,
        ),
      );
      expect(manifestsIn(s3)).toEqual([]);
    }, 120_000);

    it('S3 answering 500 to a part (stand-in proxy in front of s3rver) fails with exit 1 and no manifest', async () => {
      const s3 = await newS3();
      const proxy = await s3StandInProxy(s3, { failPart: 2 });
      cleanup.push(() => void proxy.server.close());
      const bin = standInBin({
        pg_dump:
          'case "$1" in --version) echo "pg_dump (PostgreSQL) 15.99";; *) printf PGDMP; head -c 52428800 /dev/urandom;; esac',
      });
      const r = await kindling(backupArgs(proxy.endpoint), { PATH: `${bin}:${process.env.PATH}` }, s3);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/upload of nightly\/\S+ failed: .*bucket "backups": InternalError/);
      expect(proxy.seen.filter((s) => s.includes('partNumber=2')).length).toBeGreaterThanOrEqual(1);
      expect(manifestsIn(s3)).toEqual([]);
      // the multipart upload was aborted (or the abort attempted: s3rver cannot abort, real S3 can)
      expect(proxy.seen.some((s) => s.startsWith('DELETE') && s.includes('uploadId='))).toBe(true);
    }, 120_000);

    it('bad credentials (stand-in proxy answering 403 InvalidAccessKeyId like real S3) fail fast with exit 2 naming endpoint and bucket', async () => {
      const s3 = await newS3();
      const proxy = await s3StandInProxy(s3, { acceptKey: 'RIGHTKEY' });
      cleanup.push(() => void proxy.server.close());
      const r = await kindling(backupArgs(proxy.endpoint), {
        AWS_ACCESS_KEY_ID: 'WRONGKEY',
        AWS_SECRET_ACCESS_KEY: 'some-secret-value',
      });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(
        `${proxy.endpoint}, bucket "backups" rejected the credentials (InvalidAccessKeyId)`,
      );
      expect(r.stderr).not.toContain('some-secret-value');
      expect(proxy.seen.filter((s) => s.startsWith('PUT'))).toEqual([]);
      expect(manifestsIn(s3)).toEqual([]);
    }, 60_000);

    it('a missing bucket fails fast with exit 2 naming endpoint and bucket', async () => {
      const s3 = await newS3();
      const r = await kindling(backupArgs(s3.endpoint, 's3://no-such-bucket/nightly'), {}, s3);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`bucket "no-such-bucket" does not exist at ${s3.endpoint}`);
      expect(manifestsIn(s3)).toEqual([]);
    }, 60_000);

    it('usage errors exit 2: a bad --store URL, an unknown component', async () => {
      const bad = await kindling([
        'backup',
        '--target',
        'local',
        '--components',
        'postgres',
        '--endpoint',
        `postgres=${pg.url}`,
        '--store',
        'http://x/y',
      ]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/--store must look like s3:\/\/BUCKET\/PREFIX/);
      const unknown = await kindling([
        'backup',
        '--target',
        'local',
        '--components',
        'postgress',
        '--store',
        's3://backups/x',
      ]);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toMatch(/unknown component "postgress"/);
    }, 60_000);

    it('an artifact corrupted at rest: restore refuses with exit 1 before touching the target', async () => {
      const s3 = await newS3();
      const ok = await kindling([...backupArgs(s3.endpoint), '--json'], {}, s3);
      expect(ok.code, ok.stderr).toBe(0);
      const id = JSON.parse(ok.stdout).id as string;
      const client = s3Client(s3.endpoint);
      const key = (await listKeys(client, 'backups', `nightly/${id}/postgres/identity`))[0]!;
      const body = await readObject(client, 'backups', key);
      body[Math.floor(body.length / 2)]! ^= 0x01; // one flipped bit
      await putObject(client, 'backups', key, body);
      const target = await startPostgres();
      cleanup.push(() => target.stop());
      const before = psql(target, 'SELECT datname FROM pg_database ORDER BY 1');
      const restore = () =>
        kindling(
          [
            'restore',
            '--backup',
            id,
            '--target',
            'local',
            '--endpoint',
            `postgres=${target.url}`,
            '--store',
            's3://backups/nightly',
            '--s3-endpoint',
            s3.endpoint,
          ],
          {},
          s3,
        );
      const r = await restore();
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /refusing to restore \S+: artifacts do not match the manifest; the target was not touched/,
      );
      expect(r.stderr).toContain(`${key}: sha256`);
      expect(psql(target, 'SELECT datname FROM pg_database ORDER BY 1')).toBe(before);
      expect(psql(target, "SELECT count(*) FROM pg_roles WHERE rolname !~ '^pg_'")).toBe('1\n');
      // verify says so too
      const v = await kindling(
        ['backups', 'verify', id, '--store', 's3://backups/nightly', '--s3-endpoint', s3.endpoint],
        {},
        s3,
      );
      expect(v.code).toBe(1);
      expect(v.stdout).toMatch(/✗ postgres\/identity\.pgdump\.zst/);
      // the sources' preflight runs while the artifacts re-hash (src/backup/restore.ts): with a
      // target that it would refuse too (identity exists and is not empty), the mismatch is what
      // the user is told, and still nothing is touched
      psql(target, 'CREATE DATABASE identity');
      psql(target, 'CREATE TABLE kept (id int); INSERT INTO kept VALUES (1)', 'identity');
      const both = await restore();
      expect(both.code).toBe(1);
      expect(both.stderr).toMatch(/artifacts do not match the manifest; the target was not touched/);
      expect(both.stderr).not.toContain('already exists and is not empty');
      expect(psql(target, 'SELECT count(*) FROM kept', 'identity')).toBe('1\n');
    }, 120_000);

    it('a restore tool that stops reading early (real pg_restore --exit-on-error on an existing schema) fails with its own error, exit 1, and does not hang', async () => {
      const s3 = await newS3();
      const source = await startPostgres();
      cleanup.push(() => source.stop());
      psql(source, 'CREATE DATABASE bulk');
      // 16 MB of md5 text: far more than the pipes and stream buffers between kindling and
      // pg_restore can hold, so an early exit leaves most of the artifact unread
      psql(
        source,
        'CREATE SCHEMA app; CREATE TABLE app.t (id int, v text); INSERT INTO app.t SELECT i, md5(i::text) || md5((i+1)::text) || md5((i+2)::text) FROM generate_series(1, 160000) i',
        'bulk',
      );
      const ok = await kindling(
        [
          'backup',
          '--target',
          'local',
          '--components',
          'postgres',
          '--endpoint',
          `postgres=${source.url}`,
          '--store',
          's3://backups/early',
          '--s3-endpoint',
          s3.endpoint,
          '--json',
        ],
        {},
        s3,
      );
      expect(ok.code, ok.stderr).toBe(0);
      const id = JSON.parse(ok.stdout).id as string;
      const target = await startPostgres();
      cleanup.push(() => target.stop());
      // a schema but no tables: the preflight lets it through (nothing to overwrite), and
      // pg_restore --exit-on-error stops at `CREATE SCHEMA app` (schema "app" already exists),
      // before the table's data
      psql(target, 'CREATE DATABASE bulk');
      psql(target, 'CREATE SCHEMA app', 'bulk');
      /** `kindling restore` of the backup's PostgreSQL into `into`, killed after 60 s (a hang). */
      const restoreFrom = (
        backup: string,
        into: RunningPostgres,
        extra: string[],
        env: NodeJS.ProcessEnv = {},
      ) =>
        kindling(
          [
            'restore',
            '--backup',
            backup,
            '--target',
            'local',
            '--components',
            'postgres',
            '--no-globals',
            ...extra,
            '--endpoint',
            `postgres=${into.url}`,
            '--store',
            's3://backups/early',
            '--s3-endpoint',
            s3.endpoint,
          ],
          env,
          s3,
          60_000,
        );
      const t0 = Date.now();
      const r = await restoreFrom(id, target, []);
      expect(r.timedOut, 'restore hung').toBe(false);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/pg_restore into bulk exited 1: .*schema "app" already exists/s);
      expect(Date.now() - t0).toBeLessThan(30_000);

      // a reader that exits 0 without reading to the end (stand-in pg_restore first on PATH: reads
      // one byte) restored nothing it did not read, and that part was never hashed: exit 1, said so
      const bin = standInBin({ pg_restore: 'head -c 1 >/dev/null; exit 0' });
      const quiet = await restoreFrom(id, target, ['--database', 'bulk=bulk_copy'], {
        PATH: `${bin}:${process.env.PATH}`,
      });
      expect(quiet.timedOut, 'restore hung').toBe(false);
      expect(quiet.code, quiet.stderr).toBe(1);
      expect(quiet.stderr).toMatch(
        /postgres\/bulk\.pgdump\.zst: the restore stopped reading it before its end, so it was neither fully restored nor verified/,
      );
    }, 180_000);
  },
);

describeWithServices('backups prune over complete, incomplete and orphaned backups (s3rver)', ['s3'], () => {
  let s3: RunningS3;
  beforeAll(async () => {
    s3 = await startS3({ buckets: ['backups'] });
  });
  afterAll(async () => s3?.stop());

  const manifest = (id: string, startedAt: string) =>
    JSON.stringify({
      format: 'kindling.dev/backup-manifest/v1',
      id,
      kindlingVersion: '0.1.0',
      target: 'local',
      startedAt,
      finishedAt: startedAt,
      durationMs: 1,
      store: { bucket: 'backups', prefix: 'p' },
      compression: 'zstd',
      components: [],
    });

  it('keeps by rule and the newest complete backup, removes the rest and old orphans, leaves in-progress ones; --dry-run deletes nothing', async () => {
    const client = s3Client(s3.endpoint);
    const day = 86_400_000;
    const now = Date.now();
    const idAt = (t: number, suffix: string) =>
      `${new Date(t)
        .toISOString()
        .replace(/[-:]/g, '')
        .replace(/\.\d+Z$/, 'Z')}-${suffix}`;
    const complete = [0, 1, 2, 3, 10, 40].map((d, i) => idAt(now - d * day - 3_600_000, `00000000000${i}`));
    for (const id of complete) {
      await putObject(client, 'backups', `p/${id}/postgres/x.pgdump.zst`, 'data');
      await putObject(
        client,
        'backups',
        `p/${id}/manifest.json`,
        manifest(
          id,
          new Date(
            Date.parse(
              id.slice(0, 4) +
                '-' +
                id.slice(4, 6) +
                '-' +
                id.slice(6, 8) +
                'T' +
                id.slice(9, 11) +
                ':' +
                id.slice(11, 13) +
                ':' +
                id.slice(13, 15) +
                'Z',
            ),
          ).toISOString(),
        ),
      );
    }
    const orphan = idAt(now - 3 * day, 'aaaaaaaaaaaa');
    await putObject(client, 'backups', `p/${orphan}/postgres/x.pgdump.zst`, 'half');
    const running = idAt(now - 60_000, 'bbbbbbbbbbbb');
    await putObject(client, 'backups', `p/${running}/in-progress.json`, '{}');
    await putObject(client, 'backups', `p/${running}/postgres/x.pgdump.zst`, 'partial');
    // the orphan was last written 3 days ago (s3rver's LastModified is the file's mtime)
    const old = new Date(now - 3 * day);
    for (const f of filesUnder(join(s3.dir, 'backups', 'p', orphan)))
      utimesSync(join(s3.dir, 'backups', 'p', orphan, f), old, old);

    const args = [
      'backups',
      'prune',
      '--keep-last',
      '2',
      '--keep-daily',
      '3',
      '--grace',
      '6h',
      '--store',
      's3://backups/p',
      '--s3-endpoint',
      s3.endpoint,
    ];
    const before = (await listKeys(client, 'backups')).sort();
    const dry = await kindling([...args, '--dry-run'], {}, s3);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/prune \(dry run\): keep 3, would delete 4, in progress 1/);
    expect((await listKeys(client, 'backups')).sort()).toEqual(before);

    const r = await kindling(args, {}, s3);
    expect(r.code, r.stderr).toBe(0);
    const left = new Set((await listKeys(client, 'backups')).map((k) => k.split('/')[1]));
    expect([...left].sort()).toEqual([complete[0], complete[1], complete[2], running].sort());
    expect(r.stdout).toContain(`${orphan}  (orphaned: no manifest`);
    const list = await kindling(
      ['backups', 'list', '--store', 's3://backups/p', '--s3-endpoint', s3.endpoint],
      {},
      s3,
    );
    expect(list.stdout).toMatch(new RegExp(`${running}\\s+\\S+\\s+-\\s+\\S+ B\\s+in progress`));
    expect(list.stdout).toMatch(new RegExp(`^${complete[0]} .* complete$`, 'm'));
  }, 60_000);

  it('refuses --keep-monthly 0 (exit 2, nothing deleted); keep-last=1 keeps the newest backup of every component: a newer PostgreSQL-only backup does not make the last Redis one deletable', async () => {
    const client = s3Client(s3.endpoint);
    const before = (await listKeys(client, 'backups', 'p/')).sort();
    const zero = await kindling(
      ['backups', 'prune', '--keep-monthly', '0', '--store', 's3://backups/p', '--s3-endpoint', s3.endpoint],
      {},
      s3,
    );
    expect(zero.code, zero.stderr).toBe(2);
    expect(zero.stderr).toMatch(/keep-monthly=0 keeps nothing/);
    expect((await listKeys(client, 'backups', 'p/')).sort()).toEqual(before);

    const withComponents = (id: string, startedAt: Date, components: string[]) =>
      JSON.stringify({
        ...JSON.parse(manifest(id, startedAt.toISOString())),
        components: components.map((c) => ({
          component: c,
          backup: c,
          type: c,
          durationMs: 1,
          artifacts: [],
        })),
      });
    const t = Date.now();
    const redisId = `${new Date(t - 5 * 86_400_000)
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z')}-cccccccccccc`;
    const pgId = `${new Date(t - 60_000)
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z')}-dddddddddddd`;
    await putObject(
      client,
      'backups',
      `p/${redisId}/manifest.json`,
      withComponents(redisId, new Date(t - 5 * 86_400_000), ['postgres', 'redis']),
    );
    await putObject(
      client,
      'backups',
      `p/${pgId}/manifest.json`,
      withComponents(pgId, new Date(t - 60_000), ['postgres']),
    );
    const r = await kindling(
      ['backups', 'prune', '--keep-last', '1', '--store', 's3://backups/p', '--s3-endpoint', s3.endpoint],
      {},
      s3,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(`keep\\s+${redisId}\\s+\\(newest complete backup of redis; last 1 of redis\\)`),
    );
    expect(r.stdout).toMatch(
      new RegExp(`keep\\s+${pgId}\\s+\\(newest complete backup of postgres; last 1 of postgres\\)`),
    );
    const left = new Set((await listKeys(client, 'backups', 'p/')).map((k) => k.split('/')[1]));
    expect(left.has(redisId)).toBe(true);
    expect(left.has(pgId)).toBe(true);
  }, 60_000);
});
