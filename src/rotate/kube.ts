import type { SecretRef } from '../catalog/types.ts';

// biome-ignore lint/suspicious/noExplicitAny: API objects are open JSON
type Obj = Record<string, any>;

/**
 * The field manager of a rotation's applies. Not `kindling` (deploy's): a server-side apply of only
 * the changed Secret key under deploy's manager would remove every other field deploy applied
 * (fields a manager no longer applies are removed; kubernetes.io/docs/reference/using-api/
 * server-side-apply/ "Merge strategy"), so the rotation owns just its key and its annotation.
 */
export const ROTATE_FIELD_MANAGER = 'kindling-rotate';

/** kubectl `pkg/polymorphichelpers/objectrestarter.go`: the annotation `rollout restart` sets. */
export const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';

/** The kinds `kubectl rollout restart` restarts (objectrestarter.go: Deployment, DaemonSet, StatefulSet). */
export const RESTARTABLE = ['Deployment', 'StatefulSet', 'DaemonSet'] as const;

/**
 * Whether a pod template reads `ref`: an env var's `secretKeyRef` (that key), an `envFrom`
 * `secretRef` or a `secret` / projected volume of the whole Secret (every key), or a volume that
 * lists the key in `items` — the references the kubelet resolves when it starts a container
 * (kubernetes/kubernetes `pkg/kubelet/kubelet_pods.go` makeEnvironmentVariables, volume/secret).
 */
export function templateReads(template: Obj | undefined, ref: SecretRef): boolean {
  const spec = template?.spec ?? {};
  const containers: Obj[] = [...(spec.containers ?? []), ...(spec.initContainers ?? [])];
  const keyed = (s: Obj | undefined) =>
    s?.secretName === ref.secret || s?.name === ref.secret
      ? !s.items || s.items.some((i: Obj) => i.key === ref.key)
      : false;
  return (
    containers.some(
      (c) =>
        (c.env ?? []).some(
          (e: Obj) =>
            e.valueFrom?.secretKeyRef?.name === ref.secret && e.valueFrom.secretKeyRef.key === ref.key,
        ) || (c.envFrom ?? []).some((e: Obj) => e.secretRef?.name === ref.secret),
    ) ||
    (spec.volumes ?? []).some(
      (v: Obj) => keyed(v.secret) || (v.projected?.sources ?? []).some((s: Obj) => keyed(s.secret)),
    )
  );
}

/** The workloads (`Kind/name`) whose pods read the Secret key: found from the objects, not named. */
export function consumersOf(workloads: readonly Obj[], ref: SecretRef): Obj[] {
  return workloads.filter(
    (w) => (RESTARTABLE as readonly string[]).includes(w.kind) && templateReads(w.spec?.template, ref),
  );
}

/** The apply of one Secret key, and nothing else of the Secret (base64, as `data` is stored). */
export function secretKeyApply(namespace: string, ref: SecretRef, value: string): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: ref.secret, namespace },
    data: { [ref.key]: Buffer.from(value, 'utf8').toString('base64') },
  };
}

/**
 * The apply of `rollout restart`'s change: only the pod-template annotation, RFC 3339 time as
 * objectrestarter.go writes it (`time.Now().Format(time.RFC3339)`); a new template value makes the
 * controller roll every pod. A paused Deployment is refused, as kubectl refuses it.
 */
export function restartApply(workload: Obj, at: Date): Obj {
  if (workload.kind === 'Deployment' && workload.spec?.paused)
    throw new Error(`can't restart paused deployment ${workload.metadata.name} (run rollout resume first)`);
  return {
    apiVersion: workload.apiVersion,
    kind: workload.kind,
    metadata: { name: workload.metadata.name, namespace: workload.metadata.namespace },
    spec: {
      template: {
        metadata: { annotations: { [RESTARTED_AT]: at.toISOString().replace(/\.\d+Z$/, 'Z') } },
      },
    },
  };
}

/**
 * The pods a `rollout restart` of an OrderedReady StatefulSet would never replace: still on the
 * revision before the restart (`retired`) and not Ready. The StatefulSet controller stops its
 * rolling update at any pod that is not Running and Ready when pods are managed in order
 * (kubernetes `pkg/controller/statefulset/stateful_set_control.go` updateStatefulSet, monotonic), and
 * a reader whose pod lost its credential the moment the service took the new one is exactly such a
 * pod (kubernetes#67250). The docs' remedy ("StatefulSets", Forced rollback) is to delete it; the
 * controller then recreates it on the new revision, with the new credential. Parallel sets, and
 * Deployments, replace such pods themselves.
 */
export function stuckReaders(set: Obj, pods: readonly Obj[], retired: string | undefined): Obj[] {
  if (!mayStick(set) || !retired) return [];
  return pods.filter(
    (p) =>
      (p.metadata?.ownerReferences ?? []).some((r: Obj) => r.uid === set.metadata?.uid) &&
      p.metadata?.labels?.['controller-revision-hash'] === retired &&
      !p.metadata?.deletionTimestamp &&
      !(p.status?.conditions ?? []).some((c: Obj) => c.type === 'Ready' && c.status === 'True'),
  );
}

/** A StatefulSet whose pods are managed in order (the default, OrderedReady): see stuckReaders. */
export const mayStick = (w: Obj): boolean =>
  w.kind === 'StatefulSet' && w.spec?.podManagementPolicy !== 'Parallel';
