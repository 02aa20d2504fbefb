/**
 * Target kube, end to end, with a stand-in Cluster (test/standins/cluster-local.ts: exec runs the
 * pod's command as a local process) against REAL PostgreSQL, Redis, etcd and s3rver: what runs
 * "in the pods" is the real in-pod logic (pg_dump over the pod's socket, BGSAVE + INFO
 * persistence polling, etcd's snapshot API over a port-forward, REPLICAOF restore, s3-copy through a port-forward).
 */
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, expect, it, onTestFailed } from 'vitest';
import { runBackup, selectBackups } from '../../src/app/backup.ts';
import { loadManifest } from '../../src/backup/inventory.ts';
import { runRestore } from '../../src/backup/restore.ts';
import type { TargetAccess } from '../../src/backup/types.ts';
import { loadStack } from '../../src/catalog/load.ts';
import { S3Store, s3Settings } from '../../src/store/s3.ts';
import { parseStoreUrl } from '../../src/store/url.ts';
import { kubeTarget } from '../../src/targets/kube.ts';
import {
  describeWithServices,
  freePort,
  psql,
  type RunningEtcd,
  type RunningPostgres,
  type RunningRedis,
  type RunningS3,
  startEtcd,
  startPostgres,
  startRedis,
  startS3,
} from '../harness/services.ts';
import { LocalCluster } from '../standins/cluster-local.ts';
import {
  listKeys,
  plainDump,
  putObject,
  readObject,
  redisSnapshot,
  s3Client,
  seedPostgres,
  seedRedis,
} from './backup-helpers.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describeWithServices(
  'backup on target kube through a stand-in Cluster (local processes as pods; real PostgreSQL, Redis, etcd, s3rver)',
  ['postgres', 'redis', 'etcd', 's3'],
  () => {
    let pg: RunningPostgres;
    let redis: RunningRedis;
    let etcd: RunningEtcd;
    let s3: RunningS3;
    let cluster: LocalCluster;
    let target: TargetAccess;
    let store: S3Store;
    const stack = loadStack();
    const location = parseStoreUrl('s3://backups/kube');
    const log: string[] = [];
    let backupId = '';

    beforeAll(async () => {
      [pg, redis, etcd, s3] = await Promise.all([
        startPostgres(),
        startRedis({ password: 'redis-pod-pw', config: ['--appendonly', 'yes'] }),
        startEtcd(),
        startS3({ buckets: ['backups', 'documents', 'multimodal', 'milvus-bucket'] }),
      ]);
      seedPostgres(pg);
      await seedRedis(redis.url);
      const client = s3Client(s3.endpoint);
      await putObject(client, 'documents', 'contracts/2026/ünï code.pdf', Buffer.from('%PDF-1.7 stand-in'));
      await putObject(client, 'multimodal', 'images/cat.png', Buffer.alloc(70_000, 7));
      await putObject(client, 'milvus-bucket', 'files/insert_log/1/2/3', 'segment');
      const ec = await import('node:child_process');
      ec.execFileSync('etcdctl', [`--endpoints=${etcd.url}`, 'put', 'by-dev/meta/collection', 'knowledge']);
      // the catalog's backups, with what differs on this machine: Redis's port and data directory
      const rdb = stack.components.redis!.backups[0]!;
      Object.assign(rdb, { port: redis.port, dataDir: redis.dir });
      cluster = new LocalCluster({
        namespace: stack.namespace,
        pods: {
          'postgres-0': { env: { PGHOST: pg.dir, PGPORT: String(pg.port) } },
          'redis-0': { env: { REDIS_PASSWORD: 'redis-pod-pw' } },
          'etcd-0': { env: { ETCDCTL_ENDPOINTS: etcd.url, ETCDCTL_API: '3' } },
        },
        secrets: { 'minio-secret/MINIO_ROOT_USER': 'S3RVER', 'minio-secret/MINIO_ROOT_PASSWORD': 'S3RVER' },
        services: { 'minio:9000': s3.port, 'etcd:2379': etcd.port },
      });
      target = kubeTarget(cluster, stack.namespace);
      store = new S3Store(
        s3Settings({ endpoint: s3.endpoint, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }),
      );
    }, 120_000);
    // what kindling logged and ran, with times, when a test fails (a CI run shows nothing else)
    beforeEach(() => onTestFailed(() => console.error([...log, ...(cluster?.execs ?? [])].join('\n'))));
    afterAll(async () => {
      if (process.env.KINDLING_TEST_DEBUG) console.error([...log, ...(cluster?.execs ?? [])].join('\n'));
      await cluster?.closeAll();
      await Promise.all([pg?.stop(), redis?.stop(), etcd?.stop(), s3?.stop()]);
    });

    it('backs up postgres, redis (BGSAVE polled in the pod), etcd (real snapshot) and the MinIO buckets (server-side copy); every object reads back as the manifest says', async () => {
      const selected = selectBackups(stack, ['postgres', 'redis', 'etcd', 'minio'], []);
      const outcome = await runBackup({
        selected,
        target,
        store,
        location,
        compression: 'zstd',
        log: (l) => log.push(`${new Date().toISOString().slice(17, 23)} ${l}`),
      });
      expect(outcome.components.filter((c) => !c.ok).map((c) => c.error)).toEqual([]);
      expect(outcome.ok).toBe(true);
      backupId = outcome.id;
      const client = s3Client(s3.endpoint);
      const manifest = await loadManifest(store, location, backupId);
      expect(manifest.target).toBe('kube');
      for (const c of manifest.components)
        for (const a of c.artifacts) {
          const body = await readObject(client, 'backups', a.key);
          expect({ key: a.key, bytes: body.length, sha: sha(body) }).toEqual({
            key: a.key,
            bytes: a.bytes,
            sha: a.sha256,
          });
        }
      // the in-pod commands: pg_dump over the pod's socket, BGSAVE then INFO persistence, etcdctl
      expect(cluster.execs.some((e) => /^postgres-0: pg_dump -Fc -Z1 -U postgres -d identity$/.test(e))).toBe(
        true,
      );
      expect(cluster.execs.some((e) => e.startsWith('redis-0:') && e.includes('BGSAVE'))).toBe(true);
      expect(cluster.execs.filter((e) => e.includes('INFO persistence')).length).toBeGreaterThanOrEqual(2);
      // etcd: its maintenance API over a port-forward, nothing exec'd (the image is distroless)
      expect(cluster.execs.some((e) => e.startsWith('etcd-0:'))).toBe(false);
      // the etcd artifact is a real bbolt snapshot (the header probe accepted it; check it here too)
      const etcdArtifact = manifest.components.find((c) => c.component === 'etcd')!.artifacts[0]!;
      const { decompressor } = await import('../../src/backup/compression.ts');
      const raw = await new Promise<Buffer>((resolve, reject) => {
        const chunks: Buffer[] = [];
        const d = decompressor(etcdArtifact.compression);
        d.on('data', (c: Buffer) => chunks.push(c))
          .on('end', () => resolve(Buffer.concat(chunks)))
          .on('error', reject);
        readObject(client, 'backups', etcdArtifact.key).then((b) => d.end(b), reject);
      });
      expect(raw.readUInt32LE(16)).toBe(0xed0cdaed);
      expect(raw.includes(Buffer.from('by-dev/meta/collection'))).toBe(true);
      // the buckets were copied into the backup's dated prefix, byte for byte
      const minio = manifest.components.find((c) => c.component === 'minio')!;
      expect(minio.meta?.serverSide).toBe(true);
      const copied = await readObject(
        client,
        'backups',
        `kube/${backupId}/minio/documents/contracts/2026/ünï code.pdf`,
      );
      expect(copied.toString()).toBe('%PDF-1.7 stand-in');
    }, 180_000);

    it('restores postgres (renamed), redis (REPLICAOF from a scratch server in the pod) and the MinIO objects on target kube', async () => {
      expect(backupId).not.toBe('');
      const manifest = await loadManifest(store, location, backupId);
      const before = await redisSnapshot(redis.url);
      // damage the live data after the backup
      const live = new Redis(redis.url);
      await live.flushall();
      await live.set('after-backup', 'must go');
      live.disconnect();
      const client = s3Client(s3.endpoint);
      const { DeleteObjectCommand } = await import('@aws-sdk/client-s3');
      await client.send(new DeleteObjectCommand({ Bucket: 'multimodal', Key: 'images/cat.png' }));
      // in a real pod the scratch port is the pod's own; these "pods" share this machine's ports,
      // so take a free one just before the restore
      stack.components.redis!.backups[0]!.scratchPort = await freePort();

      const outcome = await runRestore({
        stack,
        manifest,
        components: ['postgres', 'redis', 'minio'],
        target,
        store,
        location,
        options: {
          clean: true,
          rename: new Map(['identity', 'conversation', 'knowledge', 'postgres'].map((d) => [d, `${d}_kube`])),
          noGlobals: false,
        },
        log: (l) => log.push(`${new Date().toISOString().slice(17, 23)} ${l}`),
      });
      expect(outcome.components.filter((c) => !c.ok).map((c) => c.error)).toEqual([]);
      for (const db of ['identity', 'conversation', 'knowledge'])
        expect(plainDump(pg, `${db}_kube`)).toBe(plainDump(pg, db));
      // values exact; TTLs keep their absolute expiry, so they shrank by the time the restore took
      const after = await redisSnapshot(redis.url);
      const ttl = (v: string) => Number(/ ttl=(-?\d+)$/.exec(v)![1]);
      const value = (v: string) => v.replace(/ ttl=-?\d+$/, '');
      expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());
      for (const [k, v] of Object.entries(before)) {
        expect(value(after[k]!), k).toBe(value(v));
        expect(Math.abs(ttl(after[k]!) - ttl(v)), k).toBeLessThanOrEqual(ttl(v) < 0 ? 0 : 12);
      }
      expect(cluster.execs.some((e) => e.startsWith('redis-0:') && e.includes('REPLICAOF 127.0.0.1'))).toBe(
        true,
      );
      expect((await readObject(client, 'multimodal', 'images/cat.png')).equals(Buffer.alloc(70_000, 7))).toBe(
        true,
      );
      expect(psql(pg, "SELECT count(*) FROM pg_database WHERE datname LIKE '%_kube'").trim()).toBe('4');
    }, 180_000);

    it('a scratch redis-server that cannot start (its port taken) fails the Redis restore within seconds, naming the port and quoting its log; the live Redis is not touched', async () => {
      expect(backupId).not.toBe('');
      const manifest = await loadManifest(store, location, backupId);
      const live = new Redis(redis.url);
      await live.set('kept-by-failed-restore', '1');
      // a listener that drops every connection: redis-server cannot bind the port, and redis-cli
      // pointed at it fails at once instead of waiting on a server that never answers
      const { createServer } = await import('node:net');
      const taken = createServer((s) => s.destroy());
      const port = await freePort();
      await new Promise<void>((r) => taken.listen(port, '127.0.0.1', r));
      stack.components.redis!.backups[0]!.scratchPort = port;
      const t0 = Date.now();
      try {
        const outcome = await runRestore({
          stack,
          manifest,
          components: ['redis'],
          target,
          store,
          location,
          options: { clean: true, rename: new Map(), noGlobals: false },
          log: (l) => log.push(`${new Date().toISOString().slice(17, 23)} ${l}`),
        });
        expect(outcome.ok).toBe(false);
        expect(outcome.components[0]!.error).toMatch(
          new RegExp(
            `the scratch redis-server on 127\\.0\\.0\\.1:${port} in redis-0 is not running \\(scratchPort: ${port}\\); its log: .*(Address already in use|Could not create server TCP listening socket)`,
          ),
        );
        expect(Date.now() - t0).toBeLessThan(30_000);
        expect(cluster.execs.filter((e) => e.includes(`REPLICAOF 127.0.0.1 ${port}`))).toEqual([]);
        expect(await live.get('kept-by-failed-restore')).toBe('1');
      } finally {
        live.disconnect();
        await new Promise((r) => taken.close(r));
      }
    }, 120_000);

    it('an exec stream that closes without an exit status fails the component (stand-in) and writes no manifest', async () => {
      cluster.closeWithoutStatus = (req) => req.command.includes('-Fc');
      try {
        const outcome = await runBackup({
          selected: selectBackups(stack, ['postgres'], []),
          target,
          store,
          location: parseStoreUrl('s3://backups/kube-broken'),
          compression: 'zstd',
        });
        expect(outcome.ok).toBe(false);
        expect(outcome.manifestUri).toBeUndefined();
        expect(outcome.components[0]!.error).toMatch(
          /pg_dump -Fc -Z1 -U postgres -d \S+ exited 255 after writing .*closed without an exit status.*nothing was stored/,
        );
        const keys = await listKeys(s3Client(s3.endpoint), 'backups', 'kube-broken/');
        expect(keys.filter((k) => k.endsWith('manifest.json'))).toEqual([]);
      } finally {
        cluster.closeWithoutStatus = undefined;
      }
    }, 120_000);
  },
);
