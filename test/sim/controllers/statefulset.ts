/**
 * Simulation (test infrastructure): the StatefulSet controller, after kubernetes/kubernetes
 * `pkg/controller/statefulset/stateful_set_control.go` (updateStatefulSet / computeReplicaStatus)
 * and `stateful_set_utils.go` (pod identity, PVC names, revision labels).
 */
import { hashOf, type Obj } from '../apiserver.ts';
import { ownerRef, podReady, type SimContext, selects } from '../context.ts';

/** `controller-revision-hash`: the ControllerRevision name `<set>-<hash of template>`. */
export const revisionOf = (set: Obj): string => `${set.metadata.name}-${hashOf(set.spec.template)}`;

/** stateful_set_utils.go getPersistentVolumeClaimName: `<template>-<set>-<ordinal>`. */
export const claimName = (set: Obj, template: Obj, ordinal: number): string =>
  `${template.metadata.name}-${set.metadata.name}-${ordinal}`;

export function syncStatefulSet(ctx: SimContext, set: Obj): void {
  const ns = set.metadata.namespace;
  const replicas: number = set.spec.replicas ?? 1;
  const updateRevision = revisionOf(set);
  syncRevision(ctx, set, updateRevision);
  const pods = ctx
    .list('v1', 'Pod', ns)
    .filter((p) => p.metadata.ownerReferences?.some((r: Obj) => r.uid === set.metadata.uid));
  const byOrdinal = new Map<number, Obj>();
  for (const p of pods) byOrdinal.set(Number(p.metadata.name.slice(set.metadata.name.length + 1)), p);
  const parallel = set.spec.podManagementPolicy === 'Parallel';

  for (let i = 0; i < replicas; i++) {
    const pod = byOrdinal.get(i);
    // a failed pod is deleted and recreated with the same identity (updateStatefulSet: isFailed)
    if (pod && pod.status?.phase === 'Failed') {
      ctx.api.remove('v1', 'Pod', ns, pod.metadata.name);
      ctx.event(
        set,
        'Warning',
        'RecreatingFailedPod',
        `StatefulSet ${ns}/${set.metadata.name} is recreating failed Pod ${pod.metadata.name}`,
        'statefulset-controller',
      );
      break;
    }
    if (pod) {
      // OrderedReady: wait for each pod to be Running and Ready before the next (monotonic creation)
      if (!parallel && !podReady(pod)) break;
      continue;
    }
    createPod(ctx, set, i, updateRevision);
    if (!parallel) break;
  }

  // RollingUpdate (stateful_set_control.go updateStatefulSet): under OrderedReady (monotonic) any pod
  // that is not Running and Ready stops the pass before the update; under Parallel nothing does. Then,
  // from the highest ordinal down: "we terminate the Pod with the largest ordinal that does not match
  // the update revision" whatever its own readiness, and "wait for unhealthy Pods on update" only at a
  // pod already on the update revision.
  const partition = set.spec.updateStrategy?.rollingUpdate?.partition ?? 0;
  if (
    set.spec.updateStrategy?.type !== 'OnDelete' &&
    pods.length === replicas &&
    (parallel || pods.every(podReady))
  ) {
    for (let i = replicas - 1; i >= partition; i--) {
      const p = byOrdinal.get(i);
      if (!p) break;
      if (p.metadata.labels?.['controller-revision-hash'] === updateRevision) {
        if (!podReady(p)) break;
        continue;
      }
      ctx.api.remove('v1', 'Pod', ns, p.metadata.name);
      ctx.event(
        set,
        'Normal',
        'SuccessfulDelete',
        `delete Pod ${p.metadata.name} in StatefulSet ${set.metadata.name} successful`,
        'statefulset-controller',
      );
      break;
    }
  }

  // computeReplicaStatus
  const current = ctx
    .list('v1', 'Pod', ns)
    .filter((p) => p.metadata.ownerReferences?.some((r: Obj) => r.uid === set.metadata.uid));
  const updated = current.filter((p) => p.metadata.labels?.['controller-revision-hash'] === updateRevision);
  const ready = current.filter(podReady).length;
  const currentRevision =
    updated.length === current.length && current.length >= replicas
      ? updateRevision
      : (set.status?.currentRevision ?? updateRevision);
  ctx.setStatus(set, {
    observedGeneration: set.metadata.generation,
    replicas: current.length,
    readyReplicas: ready,
    currentReplicas: current.filter(
      (p) => p.metadata.labels?.['controller-revision-hash'] === currentRevision,
    ).length,
    updatedReplicas: updated.length,
    // minReadySeconds 0: available = ready
    availableReplicas: ready,
    currentRevision,
    updateRevision,
    collisionCount: 0,
  });
}

/**
 * The set's ControllerRevision for its template (stateful_set_control.go getStatefulSetRevisions):
 * created with the next revision number, labelled with the template's labels (history
 * NewControllerRevision), holding the getPatch data; a template equal to an older revision renumbers
 * that one to the newest (a rollback). `rollout undo` reads these.
 */
function syncRevision(ctx: SimContext, set: Obj, name: string): void {
  const ns = set.metadata.namespace;
  const owned = ctx
    .list('apps/v1', 'ControllerRevision', ns)
    .filter((r) => r.metadata.ownerReferences?.some((o: Obj) => o.uid === set.metadata.uid));
  const newest = Math.max(0, ...owned.map((r) => Number(r.revision)));
  const equal = owned.find((r) => r.metadata.name === name);
  if (equal && Number(equal.revision) === newest) return;
  ctx.api.put({
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: {
      name,
      namespace: ns,
      labels: {
        ...(set.spec.template.metadata?.labels ?? {}),
        'controller.kubernetes.io/hash': name.slice(set.metadata.name.length + 1),
      },
      ownerReferences: [ownerRef(set)],
    },
    revision: newest + 1,
    data: { spec: { template: { ...structuredClone(set.spec.template), $patch: 'replace' } } },
  });
}

function createPod(ctx: SimContext, set: Obj, ordinal: number, revision: string): void {
  const ns = set.metadata.namespace;
  const name = `${set.metadata.name}-${ordinal}`;
  // claims first (createPersistentVolumeClaims), labelled with the set's selector labels
  const claims: Obj[] = [];
  for (const t of set.spec.volumeClaimTemplates ?? []) {
    const cn = claimName(set, t, ordinal);
    claims.push({ name: t.metadata.name, persistentVolumeClaim: { claimName: cn } });
    if (ctx.get('v1', 'PersistentVolumeClaim', ns, cn)) continue;
    ctx.create({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: {
        name: cn,
        namespace: ns,
        labels: { ...(t.metadata.labels ?? {}), ...(set.spec.selector?.matchLabels ?? {}) },
      },
      spec: structuredClone(t.spec),
      status: { phase: 'Pending' },
    });
    ctx.event(
      set,
      'Normal',
      'SuccessfulCreate',
      `create Claim ${cn} Pod ${name} in StatefulSet ${set.metadata.name} success`,
      'statefulset-controller',
    );
  }
  const template = structuredClone(set.spec.template);
  const labels = {
    ...(template.metadata?.labels ?? {}),
    'controller-revision-hash': revision,
    'statefulset.kubernetes.io/pod-name': name,
    'apps.kubernetes.io/pod-index': String(ordinal),
  };
  if (!selects(set.spec.selector, labels)) return; // the API server would have refused the set
  const spec = template.spec;
  const claimNames = new Set(claims.map((c) => c.name));
  spec.volumes = [...(spec.volumes ?? []).filter((v: Obj) => !claimNames.has(v.name)), ...claims];
  spec.hostname = name;
  spec.subdomain = set.spec.serviceName;
  ctx.create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: ns,
      labels,
      annotations: template.metadata?.annotations ?? {},
      ownerReferences: [ownerRef(set)],
    },
    spec,
    status: { phase: 'Pending' },
  });
  ctx.event(
    set,
    'Normal',
    'SuccessfulCreate',
    `create Pod ${name} in StatefulSet ${set.metadata.name} successful`,
    'statefulset-controller',
  );
}
