/**
 * `type: etcd-snapshot` — `etcdctl snapshot save`, streamed. etcdctl only writes to a file, so the
 * snapshot passes through a temporary file next to etcdctl (in the pod on kube), removed at once;
 * etcd metadata snapshots are small. Restore is `etcdctl snapshot restore` into a new data
 * directory plus a member restart, which kindling does not automate (it refuses, saying so).
 */

import { type CommandSpec, capture } from '../runner.ts';
import type { BackupSource } from '../types.ts';
import { localEndpoint, podOf, unknownParams } from './common.ts';

const SAVE =
  'd=$(mktemp -d) && etcdctl "$@" snapshot save "$d/snapshot.db" >/dev/null && cat "$d/snapshot.db"; rc=$?; rm -rf "$d"; exit $rc';

/** bbolt's meta page: magic 0xED0CDAED (little-endian) right after the 16-byte page header. */
export const etcdProbe = (head: Buffer) =>
  head.length >= 20 && head.readUInt32LE(16) === 0xed0cdaed
    ? undefined
    : 'output is not an etcd (bbolt) snapshot';

export const etcdSnapshotSource: BackupSource = {
  type: 'etcd-snapshot',
  validate: (spec) => unknownParams(spec, ['pod', 'container']),
  async backup(ctx) {
    const { target, component, spec } = ctx;
    const endpointArgs =
      target.kind === 'local' ? [`--endpoints=${localEndpoint(target, component, spec).origin}`] : [];
    const where: Partial<CommandSpec> =
      target.kind === 'kube'
        ? {
            pod: podOf(component, spec),
            container: typeof spec.container === 'string' ? spec.container : undefined,
          }
        : { env: { ETCDCTL_API: '3' } };
    const status = await capture(target.runner, {
      argv: ['etcdctl', ...endpointArgs, 'endpoint', 'status', '-w', 'json'],
      ...where,
    });
    const tool = await capture(target.runner, { argv: ['etcdctl', 'version'], ...where });
    const artifact = await ctx.artifact('snapshot.db', {
      command: { argv: ['sh', '-c', SAVE, 'etcdctl', ...endpointArgs], ...where },
      format: 'etcd-snapshot',
      probe: etcdProbe,
    });
    return {
      artifacts: [artifact],
      serverVersion: /"version":"([^"]+)"/.exec(status.stdout)?.[1],
      toolVersion: tool.stdout.split('\n')[0]?.trim(),
    };
  },
  async preflightRestore() {
    return [
      'etcd snapshots are restored with `etcdctl snapshot restore` into a new data directory and a member restart; kindling does not automate that yet (download the artifact and follow the etcd disaster-recovery guide)',
    ];
  },
};
