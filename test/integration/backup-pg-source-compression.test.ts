/**
 * Compress at the source: on target kube pg_dump compresses in the pod, so fewer bytes cross the
 * exec stream. The choice is a pure function of the pod's pg_dump version (16+: zstd; up to 15:
 * zlib levels only). Measured with the REAL local PostgreSQL 15 as the pod's tools (the stand-in
 * Cluster runs the pod's command as a local process) by counting the bytes the exec delivers.
 */
import type { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup, selectBackups } from '../../src/app/backup.ts';
import { loadManifest } from '../../src/backup/inventory.ts';
import { runRestore } from '../../src/backup/restore.ts';
import { dumpCompression, pgMajor } from '../../src/backup/sources/pg-compress.ts';
import { loadStack } from '../../src/catalog/load.ts';
import type { ExecRequest } from '../../src/kube/types.ts';
import { S3Store, s3Settings } from '../../src/store/s3.ts';
import { parseStoreUrl } from '../../src/store/url.ts';
import { kubeTarget } from '../../src/targets/kube.ts';
import { localTarget } from '../../src/targets/local.ts';
import {
  describeWithServices,
  psql,
  type RunningPostgres,
  type RunningS3,
  startPostgres,
  startS3,
} from '../harness/services.ts';
import { LocalCluster } from '../standins/cluster-local.ts';

describe("dumpCompression (pure): what the pod's pg_dump can do, by its version", () => {
  it('reads the major version from pg_dump --version', () => {
    expect(pgMajor('pg_dump (PostgreSQL) 16.6')).toBe(16);
    expect(pgMajor('pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)')).toBe(15);
    expect(pgMajor('pg_dump (PostgreSQL) 17beta1')).toBe(17);
    expect(pgMajor('not a version')).toBeUndefined();
  });
  it('kube, 16+ (the pinned postgres:16.6-alpine): --compress=zstd:3, no second compression in the pipeline', () => {
    expect(dumpCompression('kube', 'pg_dump (PostgreSQL) 16.6')).toEqual({
      args: ['--compress=zstd:3'],
      inDump: 'zstd:3',
      pipeline: 'none',
    });
    expect(dumpCompression('kube', 'pg_dump (PostgreSQL) 17.2')).toMatchObject({
      args: ['--compress=zstd:3'],
    });
  });
  it('kube, up to 15: a zlib level (-Z1): 15 rejects --compress=zstd and --compress=gzip', () => {
    expect(dumpCompression('kube', 'pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)')).toEqual({
      args: ['-Z1'],
      inDump: 'gzip:1',
      pipeline: 'none',
    });
  });
  it('local (no exec stream), or a version it cannot read: -Z0 and the pipeline compresses', () => {
    expect(dumpCompression('local', 'pg_dump (PostgreSQL) 16.6')).toEqual({ args: ['-Z0'], inDump: 'none' });
    expect(dumpCompression('kube', '')).toEqual({ args: ['-Z0'], inDump: 'none' });
  });
});

describeWithServices(
  'source-side compression on target kube (real PostgreSQL 15 as the pod, s3rver)',
  ['postgres', 's3'],
  () => {
    const stack = loadStack();
    let pg: RunningPostgres;
    let s3: RunningS3;
    let store: S3Store;
    /** Bytes the exec calls delivered on stdout, per pod command. */
    const streamed: { command: string; bytes: number }[] = [];

    class CountingCluster extends LocalCluster {
      override exec(req: ExecRequest) {
        const entry = { command: req.command.join(' '), bytes: 0 };
        streamed.push(entry);
        const out = req.stdout;
        if (!out) return super.exec(req);
        const counting = new Proxy(out, {
          get(target, prop, receiver) {
            if (prop === 'write')
              return (chunk: Buffer, ...rest: unknown[]) => {
                entry.bytes += chunk.length;
                return (target.write as (...a: unknown[]) => boolean).call(target, chunk, ...rest);
              };
            const v = Reflect.get(target, prop, receiver);
            return typeof v === 'function' ? v.bind(target) : v;
          },
        }) as Writable;
        return super.exec({ ...req, stdout: counting });
      }
    }

    beforeAll(async () => {
      [pg, s3] = await Promise.all([startPostgres(), startS3({ buckets: ['backups'] })]);
      store = new S3Store(
        s3Settings({ endpoint: s3.endpoint, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }),
      );
      psql(pg, 'CREATE DATABASE shop');
      psql(
        pg,
        "CREATE TABLE orders (id int PRIMARY KEY, note text); INSERT INTO orders SELECT i, 'order ' || i || ' for customer ' || (i % 997) || ': shipped to warehouse ' || (i % 13) || ', ref ' || md5(i::text) FROM generate_series(1, 60000) i",
        'shop',
      );
    }, 120_000);
    afterAll(async () => {
      await Promise.all([pg?.stop(), s3?.stop()]);
    });

    it('pg_dump -Z1 in the pod: the exec stream carries less than half the uncompressed dump; the dump restores', async () => {
      const spec = stack.components.postgres!.backups[0]!;
      Object.assign(spec, { databases: ['shop'] });
      const selected = selectBackups(stack, ['postgres'], []);
      // the same data with no source compression (target local: -Z0, the pipeline compresses)
      const local = await runBackup({
        selected,
        target: localTarget(new Map([['postgres.sql', new URL(pg.url)]]), stack.namespace),
        store,
        location: parseStoreUrl('s3://backups/pg-local'),
        compression: 'zstd',
      });
      expect(local.components.map((c) => c.error)).toEqual([undefined]);
      const localDump = (
        await loadManifest(store, parseStoreUrl('s3://backups/pg-local'), local.id)
      ).components[0]!.artifacts.find((a) => a.format === 'pg_dump-custom')!;

      const cluster = new CountingCluster({
        namespace: stack.namespace,
        pods: { 'postgres-0': { env: { PGHOST: pg.dir, PGPORT: String(pg.port) } } },
      });
      const target = kubeTarget(cluster, stack.namespace);
      const loc = parseStoreUrl('s3://backups/pg-kube');
      const kube = await runBackup({ selected, target, store, location: loc, compression: 'zstd' });
      expect(kube.components.map((c) => c.error)).toEqual([undefined]);
      const dumpExec = streamed.find((s) => s.command.startsWith('pg_dump -Fc'))!;
      expect(dumpExec.command).toBe('pg_dump -Fc -Z1 -U postgres -d shop');
      const manifest = await loadManifest(store, loc, kube.id);
      const kubeDump = manifest.components[0]!.artifacts.find((a) => a.format === 'pg_dump-custom')!;
      // what crossed the exec stream is what the pipeline read, and what it stored as is
      expect(kubeDump.rawBytes).toBe(dumpExec.bytes);
      expect(kubeDump.compression).toBe('none');
      expect(kubeDump.meta).toEqual({ database: 'shop', dumpCompression: 'gzip:1' });
      expect(dumpExec.bytes).toBeLessThan(localDump.rawBytes / 2);
      console.info(
        `exec stream: ${dumpExec.bytes} bytes with pg_dump -Z1 vs ${localDump.rawBytes} bytes uncompressed (${((100 * dumpExec.bytes) / localDump.rawBytes).toFixed(1)} %); stored ${kubeDump.bytes} vs ${localDump.bytes} bytes (pipeline zstd)`,
      );

      const r = await runRestore({
        stack,
        manifest,
        components: [],
        target,
        store,
        location: loc,
        options: { clean: false, rename: new Map([['shop', 'shop_restored']]), noGlobals: true },
      });
      await target.close();
      expect(r.components.map((c) => c.error)).toEqual([undefined]);
      expect(psql(pg, 'SELECT count(*), sum(length(note)) FROM orders', 'shop_restored').trim()).toBe(
        psql(pg, 'SELECT count(*), sum(length(note)) FROM orders', 'shop').trim(),
      );
    }, 120_000);
  },
);
