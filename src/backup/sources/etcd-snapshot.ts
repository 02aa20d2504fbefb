/**
 * `type: etcd-snapshot` — etcd's own `Maintenance/Snapshot`, streamed from its HTTP/JSON gateway
 * (etcd-api.ts): on target local at the `--endpoint` URL, on target kube over a port-forward to
 * the endpoint's Service. Nothing runs in the pod: the pinned image (quay.io/coreos/etcd v3.5,
 * `FROM gcr.io/distroless/static-debian11`, etcd-io/etcd `Dockerfile-release.amd64`) has no sh,
 * mktemp or cat, and its root filesystem is read-only here — the old `sh -c 'etcdctl snapshot
 * save …; cat …'` exec could never run there.
 *
 * Restore is logical: the snapshot is restored on this machine with etcd's own tool into a
 * scratch data directory, opened by a throwaway etcd (etcd-scratch.ts), and its keys and values
 * are written into the target through the API. Keys and values come back; revisions and leases do
 * not (a member-level restore — `etcdutl snapshot restore` into the member's data directory and a
 * restart — is the README's manual procedure).
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { BackupSpec, Component } from '../../catalog/types.ts';
import type { BackupSource, RestoreContext, TargetAccess } from '../types.ts';
import { unknownParams } from './common.ts';
import { endpointUrl } from './endpoint.ts';
import { EtcdGateway, type EtcdKv, etcdFingerprint } from './etcd-api.ts';
import { missingTools, withRestoredEtcd } from './etcd-scratch.ts';

/** bbolt's meta page: magic 0xED0CDAED (little-endian) right after the 16-byte page header. */
export const etcdProbe = (head: Buffer) =>
  head.length >= 20 && head.readUInt32LE(16) === 0xed0cdaed
    ? undefined
    : 'output is not an etcd (bbolt) snapshot';

async function withGateway<T>(
  target: TargetAccess,
  component: Component,
  spec: BackupSpec,
  use: (gw: EtcdGateway) => Promise<T>,
): Promise<T> {
  return use(new EtcdGateway(await endpointUrl(target, component, spec)));
}

async function collect(gw: EtcdGateway): Promise<EtcdKv[]> {
  const all: EtcdKv[] = [];
  for await (const kv of gw.range()) all.push(kv);
  return all;
}

export const etcdSnapshotSource: BackupSource = {
  type: 'etcd-snapshot',
  validate: (spec) => unknownParams(spec, []),

  backup: (ctx) =>
    withGateway(ctx.target, ctx.component, ctx.spec, async (gw) => {
      const [serverVersion, revision] = [await gw.version(), await gw.revision()];
      let dbBytes = 0;
      const artifact = await ctx.artifact('snapshot.db', {
        description: `etcd Maintenance/Snapshot (POST ${gw.base.origin}/v3/maintenance/snapshot)`,
        produce: async (stdout, signal) => {
          try {
            ({ dbBytes } = await gw.snapshot(stdout, signal));
          } finally {
            // the pipeline holds the end until this settles: end it on failure too, or it waits forever
            stdout.end();
          }
          return { exitCode: 0, stderr: '' };
        },
        format: 'etcd-snapshot',
        probe: etcdProbe,
        meta: { revision },
      });
      ctx.log(`snapshot at revision ${revision}: ${dbBytes} bytes, sha256 trailer checked`);
      return { artifacts: [artifact], serverVersion, toolVersion: 'etcd gRPC gateway (v3 API)' };
    }),

  async preflightRestore(ctx) {
    const problems = await missingTools();
    const keys = await withGateway(ctx.target, ctx.component, ctx.spec, (gw) => gw.count());
    if (keys > 0 && !ctx.options.clean)
      problems.push(
        `the target etcd already holds ${keys} key(s); restore with --clean to replace them (every key is deleted first)`,
      );
    return problems;
  },

  async restore(ctx: RestoreContext) {
    const artifact = ctx.record.artifacts.find((a) => a.format === 'etcd-snapshot');
    if (!artifact) throw new Error('the backup holds no etcd snapshot');
    const dir = await mkdtemp(join(tmpdir(), 'kindling-etcd-snap-'));
    try {
      const file = join(dir, 'snapshot.db');
      await pipeline(await ctx.open(artifact), createWriteStream(file));
      await ctx.verified(artifact);
      const written = await withRestoredEtcd(file, (scratch) =>
        withGateway(ctx.target, ctx.component, ctx.spec, async (target) => {
          if (ctx.options.clean) ctx.log(`deleted ${await target.deleteAll()} existing key(s)`);
          return target.putAll(scratch.range());
        }),
      );
      ctx.log(`${written} key(s) restored`);
      return [
        `${written} key(s) restored through the API (keys and values; revisions and leases are not carried over)`,
      ];
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },

  fingerprint: (ctx) =>
    withGateway(ctx.target, ctx.component, ctx.spec, async (gw) => etcdFingerprint(await collect(gw))),
};
