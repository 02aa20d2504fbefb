/**
 * `elasticsearch-snapshot` against the Elasticsearch 8.x STAND-IN (test/standins/elasticsearch.ts:
 * no Elasticsearch runs here) whose S3 repository is a REAL s3rver bucket: register the
 * repository, snapshot with wait_for_completion, store the descriptor, restore into a second
 * cluster (read-only repository) and into scratch index names (rename_pattern), compare document
 * counts; and the failures: an unknown S3 client, an existing index, a node that never answers.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runBackup, selectBackups } from '../../src/app/backup.ts';
import { runDrill } from '../../src/backup/drill.ts';
import { loadManifest } from '../../src/backup/inventory.ts';
import { runRestore } from '../../src/backup/restore.ts';
import { drillIndexName, snapshotName } from '../../src/backup/sources/elasticsearch-snapshot.ts';
import type { TargetAccess } from '../../src/backup/types.ts';
import { loadStack } from '../../src/catalog/load.ts';
import { S3Store, s3Settings } from '../../src/store/s3.ts';
import { parseStoreUrl } from '../../src/store/url.ts';
import { kubeTarget } from '../../src/targets/kube.ts';
import { localTarget } from '../../src/targets/local.ts';
import { describeWithServices, type RunningS3, startS3 } from '../harness/services.ts';
import { LocalCluster } from '../standins/cluster-local.ts';
import { ElasticsearchStandin } from '../standins/elasticsearch.ts';
import { listKeys, s3Client } from './backup-helpers.ts';

describeWithServices(
  'elasticsearch-snapshot against an ES 8.x stand-in with a real S3 repository (s3rver)',
  ['s3'],
  () => {
    const stack = loadStack();
    const location = parseStoreUrl('s3://backups/es');
    let s3: RunningS3;
    let store: S3Store;
    let source: ElasticsearchStandin;
    let scratch: ElasticsearchStandin;
    let backupId = '';
    const at = (es: ElasticsearchStandin): TargetAccess =>
      localTarget(new Map([['elasticsearch.http', new URL(es.url)]]), stack.namespace);

    beforeAll(async () => {
      s3 = await startS3({ buckets: ['backups'] });
      store = new S3Store(
        s3Settings({ endpoint: s3.endpoint, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }),
      );
      // the catalog's client `minio`, as elasticsearch.yml + keystore would configure it on each node
      const clients = { minio: { endpoint: s3.endpoint, accessKey: 'S3RVER', secretKey: 'S3RVER' } };
      [source, scratch] = await Promise.all([
        new ElasticsearchStandin({ clients }).start(),
        new ElasticsearchStandin({ clients }).start(),
      ]);
      for (let i = 0; i < 120; i++)
        source.put('documents', `d${i}`, { title: `doc ${i}`, body: 'ünïcödé ✓' });
      for (let i = 0; i < 30; i++) source.put('logs-2026.01', `l${i}`, { msg: `line ${i}` });
      source.put('.kibana_1', 'x', {}); // a hidden/system index: snapshotted with '*', not counted or restored
    }, 60_000);
    afterAll(async () => {
      await Promise.all([source?.stop(), scratch?.stop(), s3?.stop()]);
    });

    it('registers the S3 repository, snapshots with wait_for_completion, and stores a descriptor with per-index counts', async () => {
      const outcome = await runBackup({
        selected: selectBackups(stack, ['elasticsearch'], []),
        target: at(source),
        store,
        location,
        compression: 'zstd',
      });
      expect(outcome.components.map((c) => c.error)).toEqual([undefined]);
      backupId = outcome.id;
      const manifest = await loadManifest(store, location, backupId);
      const record = manifest.components[0]!;
      expect(record.serverVersion).toBe('8.15.3');
      expect(record.meta).toEqual({
        snapshot: snapshotName(backupId),
        indices: ['documents', 'logs-2026.01'],
        counts: { documents: 120, 'logs-2026.01': 30 },
      });
      expect(source.repos.get('kindling')).toEqual({
        type: 's3',
        settings: { bucket: 'backups', client: 'minio', base_path: 'elasticsearch' },
      });
      // Elasticsearch wrote the data into the bucket itself, next to kindling's prefix
      const keys = await listKeys(s3Client(s3.endpoint), 'backups', 'elasticsearch/');
      expect(keys).toContain(`elasticsearch/snap-${snapshotName(backupId)}.json`);
      expect(source.requests).toContain(`PUT /_snapshot/kindling/${snapshotName(backupId)}`);
    }, 60_000);

    it('drill into a second cluster: the repository is registered read-only there, indices restored under scratch names, counts compared', async () => {
      const manifest = await loadManifest(store, location, backupId);
      const drill = await runDrill({
        stack,
        manifest,
        components: [],
        source: at(source),
        scratch: at(scratch),
        store,
        location,
      });
      expect(drill.components).toEqual([
        { component: 'elasticsearch', ok: true, compared: 2, differences: [] },
      ]);
      expect(scratch.repos.get('kindling')?.settings.readonly).toBe(true);
      expect([...scratch.indices.keys()].sort()).toEqual([
        drillIndexName('documents'),
        drillIndexName('logs-2026.01'),
      ]);
    }, 60_000);

    it('drill into the SAME cluster never touches the source indices (rename_pattern), and notices a document added since the backup', async () => {
      const manifest = await loadManifest(store, location, backupId);
      source.put('documents', 'late', { title: 'written after the backup' });
      const drill = await runDrill({
        stack,
        manifest,
        components: [],
        source: at(source),
        scratch: at(source),
        store,
        location,
      });
      expect(drill.components[0]!.differences).toEqual([
        expect.stringMatching(/index documents: documents.*121.*120|120.*121/),
      ]);
      expect(source.indices.get('documents')!.docs.size).toBe(121);
      expect(source.indices.get(drillIndexName('documents'))!.docs.size).toBe(120);
    }, 60_000);

    it('a restore onto an existing index is refused before anything is touched; --clean replaces it', async () => {
      const manifest = await loadManifest(store, location, backupId);
      const base = { stack, manifest, components: [], target: at(source), store, location };
      await expect(
        runRestore({ ...base, options: { clean: false, rename: new Map(), noGlobals: false } }),
      ).rejects.toMatchObject({
        message: expect.stringMatching(/refusing to restore/),
      });
      expect(source.indices.get('documents')!.docs.size).toBe(121);
      const r = await runRestore({ ...base, options: { clean: true, rename: new Map(), noGlobals: false } });
      expect(r.components.map((c) => c.error)).toEqual([undefined]);
      expect(source.indices.get('documents')!.docs.size).toBe(120);
    }, 60_000);

    it("an S3 client the node does not have fails the backup with Elasticsearch's reason, nothing committed", async () => {
      const s = loadStack();
      Object.assign(s.components.elasticsearch!.backups[0]!, { client: 'nope' });
      const outcome = await runBackup({
        selected: selectBackups(s, ['elasticsearch'], []),
        target: at(source),
        store,
        location: parseStoreUrl('s3://backups/es-bad'),
        compression: 'zstd',
      });
      expect(outcome.ok).toBe(false);
      expect(outcome.components[0]!.error).toMatch(
        /PUT \/_snapshot\/kindling answered HTTP 500: repository_exception: Unknown s3 client name \[nope\]/,
      );
      expect(outcome.manifestUri).toBeUndefined();
    }, 60_000);

    it('a node that never answers the snapshot call fails within the catalog timeout, naming the call', async () => {
      const s = loadStack();
      Object.assign(s.components.elasticsearch!.backups[0]!, { timeout: '1s' });
      source.hang = /^\/_snapshot\/kindling\/kindling-/;
      try {
        const t0 = Date.now();
        const outcome = await runBackup({
          selected: selectBackups(s, ['elasticsearch'], []),
          target: at(source),
          store,
          location: parseStoreUrl('s3://backups/es-hang'),
          compression: 'zstd',
        });
        expect(outcome.ok).toBe(false);
        expect(outcome.components[0]!.error).toMatch(
          /PUT \/_snapshot\/kindling\/kindling-\S+: no answer within 1s/,
        );
        expect(Date.now() - t0).toBeLessThan(10_000);
      } finally {
        source.hang = undefined;
      }
    }, 30_000);

    it("target kube (stand-in Cluster): the API is reached through a port-forward to service elasticsearch:9200, nothing exec'd", async () => {
      const cluster = new LocalCluster({
        namespace: stack.namespace,
        pods: {},
        services: { 'elasticsearch:9200': source.port },
      });
      const kube = kubeTarget(cluster, stack.namespace);
      const outcome = await runBackup({
        selected: selectBackups(stack, ['elasticsearch'], []),
        target: kube,
        store,
        location: parseStoreUrl('s3://backups/es-kube'),
        compression: 'zstd',
      }).finally(() => kube.close());
      expect(outcome.components.map((c) => c.error)).toEqual([undefined]);
      expect(cluster.execs).toEqual([]);
      expect(source.requests).toContain(`PUT /_snapshot/kindling/${snapshotName(outcome.id)}`);
    }, 60_000);

    it('catalog parameters are checked: bucket required, repository lower case, timeout a duration', () => {
      const s = loadStack();
      Object.assign(s.components.elasticsearch!.backups[0]!, {
        bucket: undefined,
        repository: 'Bad',
        timeout: 'soon',
      });
      expect(() => selectBackups(s, ['elasticsearch'], [])).toThrow(
        /bucket is required[\s\S]*repository must be lower case[\s\S]*timeout/,
      );
    });
  },
);
