/**
 * A store that accepts connections and never answers must not hang anything (issue #15, safety 2),
 * and a transient 503 must be retried. The silent store is a real TCP listener on 127.0.0.1 that
 * reads and never writes: what a wedged S3 server, a half-dead load balancer or a port-forward to
 * a hung pod looks like to a client.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, request, type Server } from 'node:http';
import { createServer as createTcpServer, type Socket, type Server as TcpServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streamArtifact } from '../../src/backup/pipeline.ts';
import { connectRedis, redisClient } from '../../src/backup/redis-data.ts';
import { PART_SIZE, S3_MAX_ATTEMPTS, S3Store } from '../../src/store/s3.ts';
import { FailedError } from '../../src/util/errors.ts';
import {
  describeWithServices,
  freePort,
  psql,
  type RunningPostgres,
  type RunningS3,
  startPostgres,
  startS3,
} from '../harness/services.ts';
import { kindling, listKeys, readObject, s3Client, standInBin } from './backup-helpers.ts';

const SECRET = 'silent-store-secret-4711';

/** A TCP server that accepts every connection, reads what is sent and never answers. */
async function silentListener(): Promise<{ endpoint: string; connections: () => number; close(): void }> {
  const sockets = new Set<Socket>();
  let count = 0;
  const server: TcpServer = createTcpServer((s) => {
    count++;
    sockets.add(s);
    s.on('data', () => {});
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    endpoint: `http://127.0.0.1:${port}`,
    connections: () => count,
    close() {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

const store = (endpoint: string, timeoutMs: number) =>
  new S3Store({ endpoint, region: 'us-east-1', accessKeyId: 'S3RVER', secretAccessKey: SECRET, timeoutMs });

async function rejection(p: Promise<unknown>): Promise<{ err: Error; ms: number }> {
  const t0 = Date.now();
  try {
    await p;
  } catch (err) {
    return { err: err as Error, ms: Date.now() - t0 };
  }
  throw new Error('expected a rejection');
}

describe('a silent store (a real TCP listener that accepts and never answers)', () => {
  let silent: Awaited<ReturnType<typeof silentListener>>;
  beforeAll(async () => {
    silent = await silentListener();
  });
  afterAll(() => silent?.close());

  it(`preflight fails within the bound: ${S3_MAX_ATTEMPTS} attempts of the request timeout, naming the endpoint`, async () => {
    const before = silent.connections();
    const { err, ms } = await rejection(store(silent.endpoint, 500).preflight('backups', 'nightly'));
    expect(err).toBeInstanceOf(FailedError);
    expect(err.message).toContain(silent.endpoint);
    expect(err.message).toMatch(/bucket "backups" did not answer within 500ms \(3 attempts\)/);
    expect(err.message).not.toContain(SECRET);
    // each attempt timed out and was retried on a new connection
    expect(silent.connections() - before).toBe(S3_MAX_ATTEMPTS);
    expect(ms).toBeGreaterThanOrEqual(S3_MAX_ATTEMPTS * 500);
    expect(ms).toBeLessThan(S3_MAX_ATTEMPTS * 500 + 3000);
  }, 20_000);

  it('list, getText, head, putText and getStream fail within the bound too, each naming the endpoint', async () => {
    const s = store(silent.endpoint, 300);
    for (const call of [
      () => s.list('backups', 'p/'),
      () => s.getText('backups', 'p/manifest.json'),
      () => s.head('backups', 'p/x'),
      () => s.putText('backups', 'p/x', '{}'),
      () => s.getStream('backups', 'p/x'),
    ]) {
      const { err, ms } = await rejection(call());
      expect(err.message).toContain(`${silent.endpoint}, bucket "backups" did not answer within 300ms`);
      expect(ms).toBeLessThan(S3_MAX_ATTEMPTS * 300 + 3000);
    }
  }, 30_000);

  const cli = (args: string[]) =>
    kindling([...args, '--store', 's3://backups/nightly', '--s3-endpoint', silent.endpoint], {
      KINDLING_S3_TIMEOUT: '1s',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: SECRET,
    });

  it.each([
    [['backups', 'list']],
    [['backup', '--target', 'local', '--components', 'redis', '--endpoint', 'redis=redis://127.0.0.1:1']],
    [['restore', '--backup', 'latest', '--target', 'local', '--endpoint', 'redis=redis://127.0.0.1:1']],
    [['backups', 'verify', 'latest']],
    [['backups', 'prune', '--keep-last', '3']],
  ])(
    'kindling %j exits 1 within the bound (KINDLING_S3_TIMEOUT=1s), naming the endpoint, no secret',
    async (args) => {
      const t0 = Date.now();
      const r = await cli(args);
      const ms = Date.now() - t0;
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain(`${silent.endpoint}, bucket "backups" did not answer within 1.0s`);
      expect(r.stderr).not.toContain(SECRET);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(ms).toBeLessThan(S3_MAX_ATTEMPTS * 1000 + 8000);
    },
    30_000,
  );

  it('a Redis connection to it (restore, drill) fails within its command bound, naming the server, without a printed stack', async () => {
    const url = new URL(silent.endpoint.replace('http:', 'redis:'));
    url.password = SECRET;
    const client = redisClient(url, 0, 500);
    const { err, ms } = await rejection(connectRedis(client));
    expect(err.message).toMatch(new RegExp(`Redis at 127\\.0\\.0\\.1:${url.port} did not become ready`));
    expect(err.message).not.toContain(SECRET);
    expect(ms).toBeLessThan(3000);
  });

  it('KINDLING_S3_TIMEOUT that is not a duration is a usage error (exit 2)', async () => {
    const r = await kindling(
      ['backups', 'list', '--store', 's3://backups/x', '--s3-endpoint', silent.endpoint],
      {
        KINDLING_S3_TIMEOUT: 'soon',
      },
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/KINDLING_S3_TIMEOUT "soon"/);
  });
});

/**
 * Stand-in for an S3 server in trouble, as a proxy in front of s3rver (which cannot misbehave
 * itself): requests matching `hang` are read and never answered; requests `fail503` picks get
 * 503 SlowDown with S3's XML error body (what AWS S3 answers when throttling,
 * docs "Error responses"); AbortMultipartUpload gets 204 as from S3 (s3rver does not implement it).
 */
async function troubledProxy(
  upstream: RunningS3,
  opts: { hang?: (m: string, u: URL) => boolean; fail503?: (m: string, u: URL) => boolean },
): Promise<{ endpoint: string; server: Server; seen: string[] }> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const m = req.method ?? 'GET';
    seen.push(`${m} ${url.pathname}${url.search}`);
    if (opts.hang?.(m, url)) {
      req.resume();
      return;
    }
    if (opts.fail503?.(m, url)) {
      req.resume();
      req.once('end', () => {
        res.writeHead(503, { 'content-type': 'application/xml' });
        res.end(
          '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>standin</RequestId></Error>',
        );
      });
      return;
    }
    if (m === 'DELETE' && url.searchParams.has('uploadId')) {
      req.resume();
      res.writeHead(204);
      return res.end();
    }
    const up = request(
      { host: '127.0.0.1', port: upstream.port, method: m, path: req.url, headers: req.headers },
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

const isPart = (m: string, u: URL) => m === 'PUT' && u.searchParams.has('partNumber');

describeWithServices(
  'a store that stalls or throttles part uploads (stand-in proxy in front of s3rver)',
  ['s3'],
  () => {
    let s3: RunningS3;
    const servers: Server[] = [];
    beforeAll(async () => {
      s3 = await startS3({ buckets: ['backups'] });
    });
    afterAll(async () => {
      for (const s of servers) s.closeAllConnections();
      for (const s of servers) s.close();
      await s3?.stop();
    });

    const data = randomBytes(20 * 1024 * 1024);
    const produce = async (stdout: NodeJS.WritableStream) => {
      for (let i = 0; i < data.length; i += 1 << 20) stdout.write(data.subarray(i, i + (1 << 20)));
      stdout.end();
      return { exitCode: 0, stderr: '' };
    };

    it('a Redis that accepts the connection and never answers fails its backup within the redis-cli bound (KINDLING_REDIS_TIMEOUT=2s; 30s by default), nothing committed', async () => {
      const silentRedis = await silentListener();
      try {
        const t0 = Date.now();
        const r = await kindling(
          [
            'backup',
            '--target',
            'local',
            '--components',
            'redis',
            '--endpoint',
            `redis=${silentRedis.endpoint.replace('http:', 'redis:')}`,
            '--store',
            's3://backups/silent-redis',
            '--s3-endpoint',
            s3.endpoint,
          ],
          { KINDLING_REDIS_TIMEOUT: '2s' },
          s3,
        );
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/Redis did not answer within 2s/);
        expect(Date.now() - t0).toBeLessThan(15_000);
        expect(
          (await listKeys(s3Client(s3.endpoint), 'backups', 'silent-redis/')).filter((k) =>
            k.endsWith('manifest.json'),
          ),
        ).toEqual([]);
      } finally {
        silentRedis.close();
      }
    }, 60_000);

    it('a part upload that is never answered fails the artifact within the part timeout, names the endpoint, aborts the upload', async () => {
      const proxy = await troubledProxy(s3, {
        hang: (m, u) => isPart(m, u) && u.searchParams.get('partNumber') === '2',
      });
      servers.push(proxy.server);
      const st = store(proxy.endpoint, 400); // part timeout: 4 × 400 ms
      const { err, ms } = await rejection(
        streamArtifact({
          store: st,
          bucket: 'backups',
          key: 'p/hang.bin',
          compression: 'none',
          label: 'random bytes',
          produce: (stdout) => produce(stdout),
        }),
      );
      expect(err.message).toContain(`${proxy.endpoint}, bucket "backups" did not answer`);
      expect(err.message).toMatch(/upload of p\/hang\.bin failed/);
      expect(proxy.seen.filter((s) => /partNumber=2/.test(s))).toHaveLength(S3_MAX_ATTEMPTS);
      expect(proxy.seen.some((s) => s.startsWith('DELETE ') && s.includes('uploadId'))).toBe(true);
      expect(ms).toBeLessThan(S3_MAX_ATTEMPTS * 1600 + 5000);
    }, 30_000);

    it('503 SlowDown on the preflight and on a part is retried with back-off, and the object is stored intact', async () => {
      const refused = new Set<string>();
      // the first list and the first attempt at part 2 are refused
      const once = (what: string) => !refused.has(what) && Boolean(refused.add(what));
      const proxy = await troubledProxy(s3, {
        fail503: (m, u) =>
          (m === 'GET' && u.searchParams.get('list-type') === '2' && once('list')) ||
          (isPart(m, u) && u.searchParams.get('partNumber') === '2' && once('part 2')),
      });
      servers.push(proxy.server);
      const st = store(proxy.endpoint, 5000);
      await st.preflight('backups', 'p');
      const r = await streamArtifact({
        store: st,
        bucket: 'backups',
        key: 'p/flaky.bin',
        compression: 'none',
        label: 'random bytes',
        produce: (stdout) => produce(stdout),
      });
      expect(r.bytes).toBe(data.length);
      const stored = await readObject(s3Client(s3.endpoint), 'backups', 'p/flaky.bin');
      expect(createHash('sha256').update(stored).digest('hex')).toBe(
        createHash('sha256').update(data).digest('hex'),
      );
      // the list was refused once and sent again; part 2 likewise
      expect(proxy.seen.filter((s) => s.includes('list-type=2'))).toHaveLength(2);
      expect(proxy.seen.filter((s) => s.startsWith('PUT ') && s.includes('partNumber=2'))).toHaveLength(2);
      // every part once, part 2 twice
      expect(proxy.seen.filter((s) => s.startsWith('PUT ') && s.includes('partNumber='))).toHaveLength(
        Math.ceil(data.length / PART_SIZE) + 1,
      );
    }, 30_000);
  },
);

describeWithServices(
  'a dump whose server goes silent mid-way (stand-in pg_dump that stops writing)',
  ['postgres', 's3'],
  () => {
    let pg: RunningPostgres;
    let s3: RunningS3;
    beforeAll(async () => {
      [pg, s3] = await Promise.all([startPostgres(), startS3({ buckets: ['backups'] })]);
      psql(pg, 'CREATE DATABASE identity');
    }, 60_000);
    afterAll(async () => Promise.all([pg?.stop(), s3?.stop()]));

    it('is stopped after KINDLING_DUMP_IDLE_TIMEOUT without output: exit 1, the command named, nothing committed', async () => {
      // what pg_dump does when its server stops answering mid-COPY: wrote a header, then waits forever
      const bin = standInBin({
        pg_dump:
          'case "$1" in --version) echo "pg_dump (PostgreSQL) 15.99";; *) printf "PGDMP partial"; exec sleep 600;; esac',
      });
      const t0 = Date.now();
      const r = await kindling(
        [
          'backup',
          '--target',
          'local',
          '--components',
          'postgres',
          '--endpoint',
          `postgres=${pg.url}`,
          '--store',
          's3://backups/idle',
          '--s3-endpoint',
          s3.endpoint,
        ],
        { PATH: `${bin}:${process.env.PATH}`, KINDLING_DUMP_IDLE_TIMEOUT: '1s' },
        s3,
      );
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /pg_dump -Fc -Z0 wrote nothing for 1\.0s \(KINDLING_DUMP_IDLE_TIMEOUT\); stopped it/,
      );
      expect(Date.now() - t0).toBeLessThan(20_000);
      const keys = await listKeys(s3Client(s3.endpoint), 'backups', 'idle/');
      expect(keys.filter((k) => k.endsWith('manifest.json') || k.endsWith('.pgdump.zst'))).toEqual([]);
    }, 60_000);
  },
);
