/**
 * etcd backups against REAL etcd 3.4 (apt) and s3rver: the snapshot comes from etcd's own
 * `Maintenance/Snapshot` through its HTTP/JSON gateway (`POST /v3/maintenance/snapshot`, served by
 * 3.4 and 3.5 alike: etcd-io/etcd `api/etcdserverpb/rpc.proto`); restore goes through
 * `etcdctl snapshot restore` (3.4 has no etcdutl), a throwaway etcd on the restored directory, and
 * the KV API into the target. On target kube, the real client-node exec/port-forward code runs
 * against the API stand-in (test/standins/kube-ws.ts) whose etcd-0 plays the pinned DISTROLESS
 * image: only /usr/local/bin/etcd, etcdctl, etcdutl (etcd-io/etcd `Dockerfile-release.amd64`).
 */
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup, selectBackups } from '../../src/app/backup.ts';
import { decompressor } from '../../src/backup/compression.ts';
import { runDrill } from '../../src/backup/drill.ts';
import { loadManifest } from '../../src/backup/inventory.ts';
import { runRestore } from '../../src/backup/restore.ts';
import { kubeRunner } from '../../src/backup/runner.ts';
import { etcdFingerprint } from '../../src/backup/sources/etcd-api.ts';
import { missingTools } from '../../src/backup/sources/etcd-scratch.ts';
import { etcdSnapshotSource } from '../../src/backup/sources/etcd-snapshot.ts';
import type { TargetAccess } from '../../src/backup/types.ts';
import { loadStack } from '../../src/catalog/load.ts';
import { KubeCluster } from '../../src/kube/cluster.ts';
import { explainExecError } from '../../src/kube/exec.ts';
import { S3Store, s3Settings } from '../../src/store/s3.ts';
import { parseStoreUrl } from '../../src/store/url.ts';
import { kubeTarget } from '../../src/targets/kube.ts';
import { localTarget as makeLocalTarget } from '../../src/targets/local.ts';
import {
  describeWithServices,
  type RunningEtcd,
  type RunningS3,
  startEtcd,
  startS3,
} from '../harness/services.ts';
import { KubeApiStandin } from '../standins/kube-api.ts';
import { KubeWsStandin } from '../standins/kube-ws.ts';
import { readObject, s3Client, sha256 } from './backup-helpers.ts';

const etcdctl = (url: string, ...args: string[]) =>
  execFileSync('etcdctl', [`--endpoints=${url}`, ...args], {
    env: { ...process.env, ETCDCTL_API: '3' },
  }).toString();

const localTarget = (stack: ReturnType<typeof loadStack>, etcdUrl: string): TargetAccess =>
  makeLocalTarget(new Map([['etcd.client', new URL(etcdUrl)]]), stack.namespace);

async function rawArtifact(
  s3: RunningS3,
  key: string,
  compression: 'zstd' | 'gzip' | 'none',
): Promise<Buffer> {
  const body = await readObject(s3Client(s3.endpoint), 'backups', key);
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    const d = decompressor(compression);
    d.on('data', (c: Buffer) => chunks.push(c))
      .on('end', () => resolve(Buffer.concat(chunks)))
      .on('error', reject);
    d.end(body);
  });
}

describeWithServices(
  'etcd-snapshot: maintenance API snapshot, real restore and drill (real etcd 3.4, s3rver)',
  ['etcd', 's3'],
  () => {
    const stack = loadStack();
    const location = parseStoreUrl('s3://backups/etcd');
    let source: RunningEtcd;
    let scratch: RunningEtcd;
    let s3: RunningS3;
    let store: S3Store;
    let backupId = '';

    beforeAll(async () => {
      [source, scratch, s3] = await Promise.all([
        startEtcd(),
        startEtcd(),
        startS3({ buckets: ['backups'] }),
      ]);
      store = new S3Store(
        s3Settings({ endpoint: s3.endpoint, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }),
      );
      // Milvus-like metadata, binary values and enough keys for several range pages and txn batches
      etcdctl(source.url, 'put', 'by-dev/meta/root-coord/database/db-info/1', '{"name":"default","ünï":"✓"}');
      for (let i = 0; i < 1500; i++)
        await fetch(`${source.url}/v3/kv/put`, {
          method: 'POST',
          body: JSON.stringify({
            key: Buffer.from(`by-dev/meta/segment/${String(i).padStart(5, '0')}`).toString('base64'),
            value: Buffer.from([i & 255, 0, 255, (i >> 8) & 255]).toString('base64'),
          }),
        });
      etcdctl(source.url, 'put', 'other/key', 'x');
    }, 120_000);
    afterAll(async () => {
      await Promise.all([source?.stop(), scratch?.stop(), s3?.stop()]);
    });

    it('target local: the artifact is the bbolt file plus the sha256 trailer etcd sends last, and etcdctl accepts it', async () => {
      const outcome = await runBackup({
        selected: selectBackups(stack, ['etcd'], []),
        target: localTarget(stack, source.url),
        store,
        location,
        compression: 'zstd',
      });
      expect(outcome.components.map((c) => c.error)).toEqual([undefined]);
      backupId = outcome.id;
      const manifest = await loadManifest(store, location, backupId);
      const record = manifest.components[0]!;
      expect(record.serverVersion).toMatch(/^3\.4\./);
      const a = record.artifacts[0]!;
      expect(a.command).toContain('/v3/maintenance/snapshot');
      const raw = await rawArtifact(s3, a.key, a.compression);
      expect(raw.readUInt32LE(16)).toBe(0xed0cdaed);
      // the last 32 bytes are the sha256 of everything before them (maintenance.go sends it last)
      expect(raw.subarray(-32).toString('hex')).toBe(sha256(raw.subarray(0, -32)));
      expect(raw.length % 512).toBe(32);
      // etcd's own tool reads it (it verifies the trailer on restore)
      const { writeFileSync, mkdtempSync } = await import('node:fs');
      const file = `${mkdtempSync('/tmp/kindling-etcd-test-')}/snap.db`;
      writeFileSync(file, raw);
      const status = execFileSync('etcdctl', ['snapshot', 'status', file, '-w', 'json'], {
        env: { ...process.env, ETCDCTL_API: '3' },
      }).toString();
      expect(JSON.parse(status).totalKey).toBeGreaterThanOrEqual(1502);
    }, 60_000);

    it('restore names the tools this machine lacks (etcdutl/etcdctl and etcd) instead of failing halfway', async () => {
      expect(await missingTools()).toEqual([]);
      expect(await missingTools({ PATH: '/nonexistent' })).toEqual([
        expect.stringMatching(/needs etcdutl \(etcd 3\.5\+\) or etcdctl 3\.4/),
        expect.stringMatching(/needs the etcd binary/),
      ]);
    });

    it('restore refuses a target etcd that holds keys, before touching it', async () => {
      const manifest = await loadManifest(store, location, backupId);
      etcdctl(scratch.url, 'put', 'leftover', '1');
      await expect(
        runRestore({
          stack,
          manifest,
          components: [],
          target: localTarget(stack, scratch.url),
          store,
          location,
          options: { clean: false, rename: new Map(), noGlobals: false },
        }),
      ).rejects.toMatchObject({ message: expect.stringMatching(/refusing to restore/) });
      expect(etcdctl(scratch.url, 'get', 'leftover', '--print-value-only').trim()).toBe('1');
      etcdctl(scratch.url, 'del', 'leftover');
    }, 60_000);

    it('drill: etcdctl snapshot restore → a scratch etcd on the restored dir → keys into the scratch target; every key and value compares equal', async () => {
      const manifest = await loadManifest(store, location, backupId);
      const drill = await runDrill({
        stack,
        manifest,
        components: [],
        source: localTarget(stack, source.url),
        scratch: localTarget(stack, scratch.url),
        store,
        location,
      });
      expect(drill.components).toEqual([
        { component: 'etcd', ok: true, compared: expect.any(Number), differences: [] },
      ]);
      expect(drill.components[0]!.compared).toBeGreaterThanOrEqual(3);
      expect(
        etcdctl(scratch.url, 'get', 'by-dev/meta/root-coord/database/db-info/1', '--print-value-only').trim(),
      ).toBe('{"name":"default","ünï":"✓"}');
      expect(
        etcdctl(scratch.url, 'get', '', '--prefix', '--keys-only').split('\n').filter(Boolean),
      ).toHaveLength(1502);
    }, 120_000);

    it('drill notices a value changed in the source after the backup (the fingerprint covers values, not only keys)', async () => {
      const manifest = await loadManifest(store, location, backupId);
      etcdctl(source.url, 'put', 'other/key', 'changed');
      const restore = await runRestore({
        stack,
        manifest,
        components: [],
        target: localTarget(stack, scratch.url),
        store,
        location,
        options: { clean: true, rename: new Map(), noGlobals: false },
      });
      expect(restore.ok).toBe(true);
      const args = {
        component: stack.components.etcd!,
        spec: stack.components.etcd!.backups[0]!,
        record: manifest.components[0]!,
        rename: new Map<string, string>(),
      };
      const [a, b] = [
        await etcdSnapshotSource.fingerprint!({ ...args, target: localTarget(stack, source.url) }),
        await etcdSnapshotSource.fingerprint!({ ...args, target: localTarget(stack, scratch.url) }),
      ];
      expect(a.get('keys')).toBe(b.get('keys'));
      expect(a.get('sha256 of keys and values')).not.toBe(b.get('sha256 of keys and values'));
      etcdctl(source.url, 'put', 'other/key', 'x');
    }, 120_000);

    it('a snapshot stream cut before its sha256 trailer fails the backup and stores nothing (stand-in proxy in front of the real etcd)', async () => {
      // forwards the gateway's answer but drops its last line (the digest message)
      const proxy: Server = createServer(async (req, res) => {
        const body = await new Promise<Buffer>((r) => {
          const c: Buffer[] = [];
          req.on('data', (d) => c.push(d)).on('end', () => r(Buffer.concat(c)));
        });
        const up = await fetch(`${source.url}${req.url}`, {
          method: req.method,
          body: req.method === 'GET' ? undefined : body,
        });
        const text = await up.text();
        res.writeHead(up.status, { 'content-type': 'application/json' });
        if (req.url === '/v3/maintenance/snapshot') {
          const lines = text.split('\n').filter(Boolean);
          res.end(`${lines.slice(0, -1).join('\n')}\n`);
        } else res.end(text);
      });
      await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
      try {
        const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
        const outcome = await runBackup({
          selected: selectBackups(stack, ['etcd'], []),
          target: localTarget(stack, url),
          store,
          location: parseStoreUrl('s3://backups/etcd-cut'),
          compression: 'zstd',
        });
        expect(outcome.ok).toBe(false);
        expect(outcome.components[0]!.error).toMatch(/without a matching sha256.*nothing was stored/);
        expect(outcome.manifestUri).toBeUndefined();
      } finally {
        await new Promise((r) => proxy.close(r));
      }
    }, 60_000);
  },
);

describeWithServices(
  'etcd-snapshot on target kube: the real exec/port-forward client against the API stand-in, etcd-0 playing the distroless image (real etcd 3.4 behind the port-forward)',
  ['etcd', 's3'],
  () => {
    const stack = loadStack();
    const NS = stack.namespace;
    let etcd: RunningEtcd;
    let s3: RunningS3;
    let api: KubeApiStandin;
    let ws: KubeWsStandin;
    let cluster: KubeCluster;
    // etcd-io/etcd Dockerfile-release.amd64: distroless/static plus these three binaries, nothing else
    const IMAGE = ['etcd', 'etcdctl', 'etcdutl'];

    beforeAll(async () => {
      [etcd, s3] = await Promise.all([startEtcd(), startS3({ buckets: ['backups'] })]);
      etcdctl(etcd.url, 'put', 'by-dev/meta/collection', 'knowledge');
      api = await new KubeApiStandin().start();
      api.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
      api.put({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'etcd', namespace: NS },
        spec: {
          selector: { 'app.kubernetes.io/name': 'etcd' },
          ports: [{ name: 'client', port: 2379, targetPort: 'client', protocol: 'TCP' }],
        },
      });
      api.put({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'etcd-0', namespace: NS, labels: { 'app.kubernetes.io/name': 'etcd' } },
        spec: {
          containers: [
            {
              name: 'etcd',
              image: 'quay.io/coreos/etcd:v3.5.16',
              ports: [{ name: 'client', containerPort: 2379 }],
            },
          ],
        },
      });
      api.put({
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: 'etcd-x1', namespace: NS, labels: { 'kubernetes.io/service-name': 'etcd' } },
        addressType: 'IPv4',
        ports: [{ name: 'client', port: 2379, protocol: 'TCP' }],
        endpoints: [
          {
            addresses: ['10.0.0.9'],
            conditions: { ready: true },
            targetRef: { kind: 'Pod', name: 'etcd-0', namespace: NS },
          },
        ],
      });
      ws = await new KubeWsStandin(api, {
        podPorts: new Map([[`${NS}/etcd-0:2379`, etcd.port]]),
        imageHas: (call) => call.pod !== 'etcd-0' || IMAGE.includes(basename(call.command[0] ?? '')),
      }).start();
      cluster = new KubeCluster(ws.kubeConfig());
    }, 120_000);
    afterAll(async () => {
      await ws?.stop();
      await api?.stop();
      await Promise.all([etcd?.stop(), s3?.stop()]);
    });

    it('the old approach (sh -c "etcdctl snapshot save …; cat …" in the pod) fails saying sh is not in the image, not "closed without status"', async () => {
      const r = await kubeRunner(cluster, NS).run({
        argv: ['sh', '-c', 'd=$(mktemp -d) && etcdctl snapshot save "$d/s.db" && cat "$d/s.db"'],
        pod: 'etcd-0',
      });
      expect(r.exitCode).not.toBe(0);
      expect(r.stderr).toMatch(
        /"sh" is not in the container's image \(runtime: .*executable file not found in \$PATH/,
      );
      expect(r.stderr).not.toMatch(/closed without/);
    });

    it('backs up through a port-forward to service etcd:2379 with no exec in the pod; the snapshot holds the key', async () => {
      const target = kubeTarget(cluster, NS);
      const store = new S3Store(
        s3Settings({ endpoint: s3.endpoint, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }),
      );
      const location = parseStoreUrl('s3://backups/kube-etcd');
      const execsBefore = ws.execCalls.length;
      const outcome = await runBackup({
        selected: selectBackups(stack, ['etcd'], []),
        target,
        store,
        location,
        compression: 'zstd',
      }).finally(() => target.close());
      expect(outcome.components.map((c) => c.error)).toEqual([undefined]);
      expect(ws.execCalls.length).toBe(execsBefore);
      expect(ws.forwards.some((f) => f.pod === 'etcd-0' && f.ports.includes(2379))).toBe(true);
      const manifest = await loadManifest(store, location, outcome.id);
      const a = manifest.components[0]!.artifacts[0]!;
      const raw = await rawArtifact(s3, a.key, a.compression);
      expect(raw.readUInt32LE(16)).toBe(0xed0cdaed);
      expect(raw.includes(Buffer.from('by-dev/meta/collection'))).toBe(true);
    }, 60_000);
  },
);

describe('pure: the runtime\'s "not found" messages, and the etcd fingerprint', () => {
  // as the kubelet relays them (InternalError Status): runc via containerd, bare name and path forms
  const bare =
    'Internal error occurred: error executing command in container: failed to exec in container: failed to start exec "aebb": OCI runtime exec failed: exec failed: unable to start container process: exec: "sh": executable file not found in $PATH: unknown';
  const path =
    'Internal error occurred: error executing command in container: failed to exec in container: failed to start exec "c5e2": OCI runtime exec failed: exec failed: unable to start container process: exec: "/bin/sh": stat /bin/sh: no such file or directory: unknown';
  it("names the missing command first and keeps the runtime's text", () => {
    expect(explainExecError(bare)).toBe(`"sh" is not in the container's image (runtime: ${bare})`);
    expect(explainExecError(path)).toMatch(/^"\/bin\/sh" is not in the container's image \(runtime: /);
  });
  it('leaves other failures as they are', () => {
    const other =
      'Internal error occurred: error executing command in container: container not running (abc)';
    expect(explainExecError(other)).toBe(other);
  });
  it('the fingerprint tells ("ab","c") from ("a","bc") and counts keys per first path segment', () => {
    const kv = (k: string, v: string) => ({ key: Buffer.from(k), value: Buffer.from(v) });
    const a = etcdFingerprint([kv('ab', 'c')]);
    const b = etcdFingerprint([kv('a', 'bc')]);
    expect(a.get('sha256 of keys and values')).not.toBe(b.get('sha256 of keys and values'));
    const f = etcdFingerprint([kv('by-dev/meta/x', '1'), kv('by-dev/meta/y', '2'), kv('other', '3')]);
    expect(Object.fromEntries(f)).toMatchObject({
      keys: '3',
      'keys under by-dev/': '2',
      'keys under other/': '1',
    });
  });
});
