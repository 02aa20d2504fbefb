/**
 * Simulation (test infrastructure): Deployment → ReplicaSet → Pods, after kubernetes/kubernetes
 * `pkg/controller/deployment/sync.go` (getNewReplicaSet: `<deployment>-<pod-template-hash>`,
 * calculateStatus), `rolling.go` / `recreate.go` (new ReplicaSet scaled up, old ones down once the
 * new pods are available; Recreate scales old ones down first), `progress.go` + `util/deployment_util.go`
 * (conditions Available/MinimumReplicasAvailable, Progressing/NewReplicaSetAvailable or
 * ReplicaSetUpdated, ProgressDeadlineExceeded) and `pkg/controller/replicaset/replica_set.go`
 * (pods `<replicaset>-<5 chars>`, status counters). minReadySeconds 0: available = ready.
 */
import { hashOf, type Obj, randomSuffix } from '../apiserver.ts';
import { condition, mergeConditions, ownerRef, podReady, type SimContext, selects } from '../context.ts';

const owned = (o: Obj, owner: Obj) =>
  o.metadata.ownerReferences?.some((r: Obj) => r.uid === owner.metadata.uid);
const progressAt = new Map<string, number>();
/** apps/v1 util/deployment_util.go RevisionAnnotation. */
const REVISION = 'deployment.kubernetes.io/revision';

export function syncDeployment(ctx: SimContext, deployment: Obj): void {
  let d = deployment;
  const ns = d.metadata.namespace;
  const hash = hashOf(d.spec.template);
  const name = `${d.metadata.name}-${hash}`;
  const replicas: number = d.spec.replicas ?? 1;
  const sets = ctx.list('apps/v1', 'ReplicaSet', ns).filter((rs) => owned(rs, d));
  let current = sets.find((rs) => rs.metadata.name === name);
  const old = sets.filter((rs) => rs !== current);
  const recreate = d.spec.strategy?.type === 'Recreate';
  const oldPods = old.reduce((n, rs) => n + (rs.status?.replicas ?? 0), 0);
  // revisions (util/deployment_util.go SetNewReplicaSetAnnotations, sync.go getNewReplicaSet): the new
  // ReplicaSet gets max(old revisions) + 1 — also an old one whose template came back (a `rollout
  // undo`) — and the Deployment carries its ReplicaSet's revision
  const revision = String(
    Math.max(0, ...old.map((rs) => Number(rs.metadata.annotations?.[REVISION] ?? 0))) + 1,
  );
  if (!current && (!recreate || oldPods === 0)) {
    const labels = { ...(d.spec.template.metadata?.labels ?? {}), 'pod-template-hash': hash };
    current = ctx.create({
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name,
        namespace: ns,
        labels,
        annotations: { [REVISION]: revision },
        ownerReferences: [ownerRef(d)],
        generation: 1,
      },
      spec: {
        replicas,
        selector: { matchLabels: { ...(d.spec.selector?.matchLabels ?? {}), 'pod-template-hash': hash } },
        template: {
          ...structuredClone(d.spec.template),
          metadata: { ...(d.spec.template.metadata ?? {}), labels },
        },
      },
      status: { replicas: 0 },
    });
    ctx.event(
      d,
      'Normal',
      'ScalingReplicaSet',
      `Scaled up replica set ${name} from 0 to ${replicas}`,
      'deployment-controller',
    );
  }
  if (current && Number(current.metadata.annotations?.[REVISION] ?? 0) < Number(revision))
    current = ctx.api.put({
      ...current,
      metadata: {
        ...current.metadata,
        annotations: { ...(current.metadata.annotations ?? {}), [REVISION]: revision },
      },
    });
  const rsRevision = current?.metadata.annotations?.[REVISION];
  if (rsRevision && d.metadata.annotations?.[REVISION] !== rsRevision)
    d = ctx.api.put({
      ...d,
      metadata: { ...d.metadata, annotations: { ...(d.metadata.annotations ?? {}), [REVISION]: rsRevision } },
    });
  const newAvailable = current?.status?.availableReplicas ?? 0;
  for (const rs of old)
    if ((rs.spec.replicas ?? 0) > 0 && (recreate || newAvailable >= replicas)) {
      ctx.api.put({ ...rs, spec: { ...rs.spec, replicas: 0 } });
      ctx.event(
        d,
        'Normal',
        'ScalingReplicaSet',
        `Scaled down replica set ${rs.metadata.name} from ${rs.spec.replicas} to 0`,
        'deployment-controller',
      );
    }
  if (current && current.spec.replicas !== replicas)
    ctx.api.put({ ...current, spec: { ...current.spec, replicas } });

  const all = ctx.list('apps/v1', 'ReplicaSet', ns).filter((rs) => owned(rs, d));
  const sum = (f: (rs: Obj) => number) => all.reduce((n, rs) => n + f(rs), 0);
  const now = ctx.get('apps/v1', 'ReplicaSet', ns, name);
  const updated = now?.status?.replicas ?? 0;
  const available = sum((rs) => rs.status?.availableReplicas ?? 0);
  const key = d.metadata.uid;
  const progressed = JSON.stringify([updated, available, now?.status?.readyReplicas ?? 0]);
  const seen = progressAt.get(`${key}:${progressed}`);
  if (seen === undefined) progressAt.set(`${key}:${progressed}`, Date.now());
  const complete =
    updated >= replicas && available >= replicas && sum((rs) => rs.status?.replicas ?? 0) === replicas;
  const stalled =
    !complete && Date.now() - (seen ?? Date.now()) > ctx.ms(d.spec.progressDeadlineSeconds ?? 600);
  const progressing = complete
    ? condition('Progressing', true, {
        reason: 'NewReplicaSetAvailable',
        message: `ReplicaSet "${name}" has successfully progressed.`,
      })
    : stalled
      ? condition('Progressing', false, {
          reason: 'ProgressDeadlineExceeded',
          message: `ReplicaSet "${name}" has timed out progressing.`,
        })
      : condition('Progressing', true, {
          reason: 'ReplicaSetUpdated',
          message: `ReplicaSet "${name}" is progressing.`,
        });
  const availableCond =
    available >= replicas
      ? condition('Available', true, {
          reason: 'MinimumReplicasAvailable',
          message: 'Deployment has minimum availability.',
        })
      : condition('Available', false, {
          reason: 'MinimumReplicasUnavailable',
          message: 'Deployment does not have minimum availability.',
        });
  ctx.setStatus(d, {
    observedGeneration: d.metadata.generation,
    replicas: sum((rs) => rs.status?.replicas ?? 0),
    updatedReplicas: updated,
    readyReplicas: sum((rs) => rs.status?.readyReplicas ?? 0),
    availableReplicas: available,
    ...(replicas - available > 0 ? { unavailableReplicas: replicas - available } : {}),
    conditions: mergeConditions(d.status?.conditions, [availableCond, progressing]),
  });
}

/**
 * The garbage collector's part for ReplicaSets (kubernetes/kubernetes
 * `pkg/controller/garbagecollector/garbagecollector.go` attemptToDeleteItem: an object whose owners
 * are all gone is deleted; a background-propagated delete, kubectl's and kindling's, leaves the
 * dependents to it): a ReplicaSet whose Deployment was deleted goes, with its pods.
 */
function collected(ctx: SimContext, rs: Obj): boolean {
  const refs: Obj[] = rs.metadata.ownerReferences ?? [];
  const ns = rs.metadata.namespace;
  if (!refs.length) return false;
  const alive = refs.some((r) => ctx.list(r.apiVersion, r.kind, ns).some((o) => o.metadata.uid === r.uid));
  if (alive) return false;
  for (const p of ctx.list('v1', 'Pod', ns).filter((x) => owned(x, rs)))
    ctx.api.remove('v1', 'Pod', ns, p.metadata.name);
  ctx.api.remove('apps/v1', 'ReplicaSet', ns, rs.metadata.name);
  return true;
}

export function syncReplicaSet(ctx: SimContext, rs: Obj): void {
  const ns = rs.metadata.namespace;
  if (collected(ctx, rs)) return;
  const want: number = rs.spec.replicas ?? 1;
  const pods = ctx
    .list('v1', 'Pod', ns)
    .filter(
      (p) => owned(p, rs) && selects(rs.spec.selector, p.metadata.labels) && p.status?.phase !== 'Failed',
    );
  for (let i = pods.length; i < want; i++) {
    const name = `${rs.metadata.name}-${randomSuffix()}`;
    const t = structuredClone(rs.spec.template);
    ctx.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        generateName: `${rs.metadata.name}-`,
        namespace: ns,
        labels: t.metadata?.labels ?? {},
        ownerReferences: [ownerRef(rs)],
      },
      spec: t.spec,
      status: { phase: 'Pending' },
    });
    ctx.event(rs, 'Normal', 'SuccessfulCreate', `Created pod: ${name}`, 'replicaset-controller');
  }
  for (const p of pods.slice(want)) {
    ctx.api.remove('v1', 'Pod', ns, p.metadata.name);
    ctx.event(rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata.name}`, 'replicaset-controller');
  }
  const live = ctx.list('v1', 'Pod', ns).filter((p) => owned(p, rs) && p.status?.phase !== 'Failed');
  const ready = live.filter(podReady).length;
  ctx.setStatus(rs, {
    replicas: live.length,
    fullyLabeledReplicas: live.length,
    readyReplicas: ready,
    availableReplicas: ready,
    observedGeneration: rs.metadata.generation ?? 1,
  });
}
