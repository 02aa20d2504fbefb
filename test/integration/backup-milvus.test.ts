/**
 * Milvus as one consistent backup unit (`type: sequence` in the catalog): its etcd metadata
 * snapshot, then its milvus-bucket segment objects, into one component record of one manifest;
 * restore in the reverse order. REAL etcd 3.4 and two s3rver instances (the stack's MinIO and a
 * scratch one); Milvus itself cannot run here and is not needed: the unit is its data.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runBackup, selectBackups } from '../../src/app/backup.ts';
import { runDrill } from '../../src/backup/drill.ts';
import { loadManifest } from '../../src/backup/inventory.ts';
import { SOURCES } from '../../src/backup/sources/index.ts';
import { restoreOrder } from '../../src/backup/sources/sequence.ts';
import type { TargetAccess } from '../../src/backup/types.ts';
import { loadStack } from '../../src/catalog/load.ts';
import { S3Store, s3Settings } from '../../src/store/s3.ts';
import { parseStoreUrl } from '../../src/store/url.ts';
import { kubeTarget } from '../../src/targets/kube.ts';
import { localTarget } from '../../src/targets/local.ts';
import {
  describeWithServices,
  freePort,
  type RunningEtcd,
  type RunningS3,
  startEtcd,
  startS3,
} from '../harness/services.ts';
import { LocalCluster } from '../standins/cluster-local.ts';
import { listKeys, putObject, readObject, s3Client } from './backup-helpers.ts';

const etcdctl = (url: string, ...args: string[]) =>
  execFileSync('etcdctl', [`--endpoints=${url}`, ...args], {
    env: { ...process.env, ETCDCTL_API: '3' },
  }).toString();

const SEGMENTS = [
  'files/insert_log/447/448/449/100/1',
  'files/insert_log/447/448/449/101/1',
  'files/index_files/9/1/HNSW',
];

describeWithServices(
  'milvus backup as one unit: etcd metadata, then milvus-bucket objects (real etcd, s3rver)',
  ['etcd', 's3'],
  () => {
    const stack = loadStack();
    const location = parseStoreUrl('s3://backups/milvus');
    let etcd: RunningEtcd;
    let scratchEtcd: RunningEtcd;
    let s3: RunningS3;
    let scratchS3: RunningS3;
    let store: S3Store;
    let backupId = '';
    const target = (e: RunningEtcd, s: RunningS3): TargetAccess =>
      localTarget(
        new Map([
          ['milvus.etcd', new URL(e.url)],
          ['milvus.minio', new URL(`http://S3RVER:S3RVER@127.0.0.1:${s.port}`)],
        ]),
        stack.namespace,
      );

    beforeAll(async () => {
      [etcd, scratchEtcd, s3, scratchS3] = await Promise.all([
        startEtcd(),
        startEtcd(),
        startS3({ buckets: ['backups', 'milvus-bucket'] }),
        startS3({ buckets: ['milvus-bucket'] }),
      ]);
      store = new S3Store(
        s3Settings({ endpoint: s3.endpoint, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }),
      );
      // metadata that names segment files, and the files themselves
      for (const [i, key] of SEGMENTS.entries()) {
        etcdctl(
          etcd.url,
          'put',
          `by-dev/meta/datacoord-meta/s/447/448/${449 + i}`,
          JSON.stringify({ binlog: key }),
        );
        await putObject(s3Client(s3.endpoint), 'milvus-bucket', key, Buffer.alloc(10_000 + i, i + 1));
      }
      etcdctl(etcd.url, 'put', 'by-dev/meta/root-coord/database/db-info/1', '{"name":"default"}');
    }, 120_000);
    afterAll(async () => {
      await Promise.all([etcd?.stop(), scratchEtcd?.stop(), s3?.stop(), scratchS3?.stop()]);
    });

    it('the catalog entry validates; restore order is the backup order reversed (pure)', () => {
      const spec = stack.components.milvus!.backups[0]!;
      expect(SOURCES.get('sequence')!.validate(spec, stack.components.milvus!)).toEqual([]);
      expect(restoreOrder(['metadata', 'segments'])).toEqual(['segments', 'metadata']);
      const bad = {
        name: 'x',
        type: 'sequence',
        parts: [
          { name: 'a', type: 'etcd-snapshot', endpoint: 'nope' },
          { name: 'a', type: 'sequence' },
        ],
      };
      const problems = SOURCES.get('sequence')!
        .validate(bad, stack.components.milvus!)
        .map((p) => `${p.path.join('.')} ${p.message}`);
      expect(problems).toEqual([
        expect.stringMatching(/^parts\.0\.endpoint milvus has no endpoint "nope"/),
        expect.stringMatching(/^parts\.1\.name "a" is used twice/),
        expect.stringMatching(/^parts\.1\.type must be a backup type other than sequence/),
      ]);
    });

    it('backs up metadata first, then the segments, as one component of one manifest', async () => {
      const log: string[] = [];
      const outcome = await runBackup({
        selected: selectBackups(stack, ['milvus'], []),
        target: target(etcd, s3),
        store,
        location,
        compression: 'zstd',
        log: (l) => log.push(l),
      });
      expect(outcome.components.map((c) => c.error)).toEqual([undefined]);
      backupId = outcome.id;
      const manifest = await loadManifest(store, location, backupId);
      expect(manifest.components.map((c) => [c.component, c.type])).toEqual([['milvus', 'sequence']]);
      const record = manifest.components[0]!;
      expect(record.artifacts.map((a) => a.name)).toEqual([
        'metadata.snapshot.db.zst',
        'segments.milvus-bucket.index.jsonl.zst',
      ]);
      const parts = record.meta?.parts as { name: string; startedAt: string; finishedAt: string }[];
      expect(parts.map((p) => p.name)).toEqual(['metadata', 'segments']);
      expect(parts[0]!.finishedAt <= parts[1]!.startedAt).toBe(true);
      const first = (s: string) => log.findIndex((l) => l.includes(s));
      expect(first('part 1: metadata')).toBeGreaterThanOrEqual(0);
      expect(first('part 1: metadata')).toBeLessThan(first('part 2: segments'));
      // the objects were copied into the backup's prefix
      const copied = await listKeys(
        s3Client(s3.endpoint),
        'backups',
        `milvus/${backupId}/milvus/milvus-bucket/`,
      );
      expect(copied.sort()).toEqual(
        SEGMENTS.map((k) => `milvus/${backupId}/milvus/milvus-bucket/${k}`).sort(),
      );
    }, 60_000);

    it('restores in reverse (objects, then metadata) into a scratch etcd and bucket; the drill compares every key and value', async () => {
      const manifest = await loadManifest(store, location, backupId);
      const log: string[] = [];
      const drill = await runDrill({
        stack,
        manifest,
        components: [],
        source: target(etcd, s3),
        scratch: target(scratchEtcd, scratchS3),
        store,
        location,
        log: (l) => log.push(l),
      });
      expect(drill.components.map((c) => [c.component, c.ok, c.differences, c.error])).toEqual([
        ['milvus', true, [], undefined],
      ]);
      expect(drill.components[0]!.compared).toBeGreaterThanOrEqual(3);
      const at = (s: string) => log.findIndex((l) => l.includes(s));
      expect(at('restoring part segments')).toBeGreaterThanOrEqual(0);
      expect(at('restoring part segments')).toBeLessThan(at('restoring part metadata'));
      for (const [i, key] of SEGMENTS.entries())
        expect(await readObject(s3Client(scratchS3.endpoint), 'milvus-bucket', key)).toEqual(
          Buffer.alloc(10_000 + i, i + 1),
        );
      expect(
        JSON.parse(
          etcdctl(scratchEtcd.url, 'get', 'by-dev/meta/datacoord-meta/s/447/448/449', '--print-value-only'),
        ),
      ).toEqual({
        binlog: SEGMENTS[0],
      });
    }, 120_000);

    it('target kube (stand-in Cluster): both parts through port-forwards to services etcd:2379 and minio:9000, MinIO keys from minio-secret, no exec', async () => {
      const cluster = new LocalCluster({
        namespace: stack.namespace,
        pods: {},
        secrets: { 'minio-secret/MINIO_ROOT_USER': 'S3RVER', 'minio-secret/MINIO_ROOT_PASSWORD': 'S3RVER' },
        services: { 'etcd:2379': etcd.port, 'minio:9000': s3.port },
      });
      const kube = kubeTarget(cluster, stack.namespace);
      const loc = parseStoreUrl('s3://backups/milvus-kube');
      const outcome = await runBackup({
        selected: selectBackups(stack, ['milvus'], []),
        target: kube,
        store,
        location: loc,
        compression: 'zstd',
      }).finally(() => kube.close());
      expect(outcome.components.map((c) => c.error)).toEqual([undefined]);
      expect(cluster.execs).toEqual([]);
      const record = (await loadManifest(store, loc, outcome.id)).components[0]!;
      expect(
        ((record.meta?.parts ?? []) as { name: string; meta?: { serverSide?: boolean } }[]).map((p) => [
          p.name,
          p.meta?.serverSide,
        ]),
      ).toEqual([
        ['metadata', undefined],
        ['segments', true],
      ]);
    }, 60_000);

    it('a failing first part fails the unit: no segments copied, no manifest', async () => {
      const port = await freePort(); // nothing listens there
      const dead = { ...etcd, url: `http://127.0.0.1:${port}` } as RunningEtcd;
      const loc = parseStoreUrl('s3://backups/milvus-failed');
      const outcome = await runBackup({
        selected: selectBackups(stack, ['milvus'], []),
        target: target(dead, s3),
        store,
        location: loc,
        compression: 'zstd',
      });
      expect(outcome.ok).toBe(false);
      expect(outcome.components[0]!.error).toMatch(
        new RegExp(`etcd http://127.0.0.1:${port}/version: ECONNREFUSED`),
      );
      expect(outcome.manifestUri).toBeUndefined();
      expect(
        (await listKeys(s3Client(s3.endpoint), 'backups', 'milvus-failed/')).filter((k) =>
          k.includes('milvus-bucket'),
        ),
      ).toEqual([]);
    }, 60_000);
  },
);
