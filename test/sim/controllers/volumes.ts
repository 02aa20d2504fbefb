/**
 * Simulation (test infrastructure): scheduling and volume binding on kind's single node.
 * - scheduler (kubernetes/kubernetes `pkg/scheduler/framework/plugins/volumebinding`): a pod whose
 *   claim does not exist is Unschedulable (`persistentvolumeclaim "X" not found`); an unbound claim
 *   of a WaitForFirstConsumer class gets `volume.kubernetes.io/selected-node` and the pod waits for
 *   the binding (PreBind), then the pod is bound to the node (`Scheduled` event).
 * - PV controller (`pkg/controller/volume/persistentvolume/pv_controller.go`): an unbound WFFC claim
 *   without a selected node is left Pending with the `WaitForFirstConsumer` event.
 * - kind's provisioner, rancher local-path-provisioner (`provisioner.go`): on the selected node it
 *   creates a hostPath PV `pvc-<uid>` under its data directory and the claim becomes Bound.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Obj } from '../apiserver.ts';
import { condition, mergeConditions, type SimContext } from '../context.ts';

export const NODE_NAME = 'kind-control-plane';
const SELECTED = 'volume.kubernetes.io/selected-node';

export function syncClaim(ctx: SimContext, pvc: Obj, dataDir: string): void {
  if (pvc.status?.phase === 'Bound') return;
  const sc = ctx.get('storage.k8s.io/v1', 'StorageClass', undefined, pvc.spec?.storageClassName ?? '');
  if (!sc) {
    ctx.event(
      pvc,
      'Warning',
      'ProvisioningFailed',
      `storageclass.storage.k8s.io "${pvc.spec?.storageClassName}" not found`,
      'persistentvolume-controller',
    );
    return;
  }
  const node = pvc.metadata.annotations?.[SELECTED];
  if (sc.volumeBindingMode === 'WaitForFirstConsumer' && !node) {
    ctx.event(
      pvc,
      'Normal',
      'WaitForFirstConsumer',
      'waiting for first consumer to be created before binding',
      'persistentvolume-controller',
    );
    return;
  }
  const pvName = `pvc-${pvc.metadata.uid}`;
  const path = join(dataDir, `${pvName}_${pvc.metadata.namespace}_${pvc.metadata.name}`);
  mkdirSync(path, { recursive: true, mode: 0o777 });
  const size = pvc.spec?.resources?.requests?.storage ?? '1Gi';
  ctx.api.put({
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: {
      name: pvName,
      annotations: {
        'pv.kubernetes.io/provisioned-by': 'rancher.io/local-path',
        'local.path.provisioner/selected-node': NODE_NAME,
      },
    },
    spec: {
      accessModes: pvc.spec?.accessModes ?? ['ReadWriteOnce'],
      capacity: { storage: size },
      claimRef: {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        name: pvc.metadata.name,
        namespace: pvc.metadata.namespace,
        uid: pvc.metadata.uid,
      },
      hostPath: { path, type: 'DirectoryOrCreate' },
      nodeAffinity: {
        required: {
          nodeSelectorTerms: [
            { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [NODE_NAME] }] },
          ],
        },
      },
      persistentVolumeReclaimPolicy: sc.reclaimPolicy ?? 'Delete',
      storageClassName: sc.metadata.name,
      volumeMode: 'Filesystem',
    },
    status: { phase: 'Bound' },
  });
  ctx.event(
    pvc,
    'Normal',
    'ProvisioningSucceeded',
    `Successfully provisioned volume ${pvName}`,
    'rancher.io/local-path_local-path-provisioner',
  );
  ctx.api.put({ ...pvc, spec: { ...pvc.spec, volumeName: pvName } });
  const stored = ctx.get('v1', 'PersistentVolumeClaim', pvc.metadata.namespace, pvc.metadata.name)!;
  ctx.setStatus(stored, {
    phase: 'Bound',
    accessModes: pvc.spec?.accessModes ?? ['ReadWriteOnce'],
    capacity: { storage: size },
  });
}

/** Binds a pending pod to the node once its claims are bound. */
export function schedulePod(ctx: SimContext, pod: Obj): void {
  if (pod.spec.nodeName) return;
  const ns = pod.metadata.namespace;
  const unschedulable = (message: string) =>
    ctx.setStatus(pod, {
      ...(pod.status ?? {}),
      phase: 'Pending',
      conditions: mergeConditions(pod.status?.conditions, [
        condition('PodScheduled', false, { reason: 'Unschedulable', message }),
      ]),
    });
  let waiting = false;
  for (const v of pod.spec.volumes ?? []) {
    const claim = v.persistentVolumeClaim?.claimName;
    if (!claim) continue;
    const pvc = ctx.get('v1', 'PersistentVolumeClaim', ns, claim);
    if (!pvc) {
      const message = `0/1 nodes are available: persistentvolumeclaim "${claim}" not found. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.`;
      if (pod.status?.conditions?.[0]?.message !== message)
        ctx.event(pod, 'Warning', 'FailedScheduling', message, 'default-scheduler');
      unschedulable(message);
      return;
    }
    if (pvc.status?.phase === 'Bound') continue;
    waiting = true;
    if (!pvc.metadata.annotations?.[SELECTED])
      ctx.api.put({
        ...pvc,
        metadata: {
          ...pvc.metadata,
          annotations: { ...(pvc.metadata.annotations ?? {}), [SELECTED]: NODE_NAME },
        },
      });
  }
  if (waiting) return;
  ctx.api.put({ ...pod, spec: { ...pod.spec, nodeName: NODE_NAME } });
  const bound = ctx.get('v1', 'Pod', ns, pod.metadata.name)!;
  ctx.setStatus(bound, {
    ...(bound.status ?? {}),
    phase: 'Pending',
    conditions: mergeConditions(bound.status?.conditions, [condition('PodScheduled', true)]),
  });
  ctx.event(
    bound,
    'Normal',
    'Scheduled',
    `Successfully assigned ${ns}/${pod.metadata.name} to ${NODE_NAME}`,
    'default-scheduler',
  );
}

/** kind's default StorageClass (kind `pkg/cluster/internal/create/actions/installstorage`). */
export const STANDARD_CLASS: Obj = {
  apiVersion: 'storage.k8s.io/v1',
  kind: 'StorageClass',
  metadata: { name: 'standard', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
  provisioner: 'rancher.io/local-path',
  reclaimPolicy: 'Delete',
  volumeBindingMode: 'WaitForFirstConsumer',
};
