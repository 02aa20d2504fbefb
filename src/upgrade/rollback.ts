/**
 * The rollback of a rolling upgrade, decided as `kubectl rollout undo` decides it (pure), from
 * kubernetes/kubectl `pkg/polymorphichelpers/rollback.go`:
 * - Deployment (`deploymentRevision` with toRevision 0): among the ReplicaSets the Deployment
 *   controls, the one with the second-highest `deployment.kubernetes.io/revision`; its template,
 *   less the `pod-template-hash` label, becomes the Deployment's template ("no rollout history
 *   found" when there is none; skipped when the template already matches, `equalIgnoreHash`).
 * - StatefulSet (`findHistory` with toRevision 0): the controlled ControllerRevisions sorted by
 *   `.revision`, the second-to-last one; its `data` is the StatefulSet controller's patch
 *   `{spec: {template: {…, $patch: replace}}}` (kubernetes/kubernetes
 *   `pkg/controller/statefulset/stateful_set_utils.go` getPatch), so its template replaces the
 *   current one ("no last revision to roll back to" with one revision or none).
 * kindling then applies the template through its own server-side apply (the same field manager that
 * applied the upgrade), not kubectl's JSON/strategic patch: the result on the object is the same
 * template, and kindling keeps owning the fields it wrote.
 */
import type { KubeObject } from '../manifests/render.ts';
import type { Obj } from '../plan/conditions.ts';

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
/** apps/v1 `DefaultDeploymentUniqueLabelKey` (k8s.io/api apps/v1 types.go). */
export const POD_TEMPLATE_HASH = 'pod-template-hash';

/** Owned by `owner` as its controller (metav1.IsControlledBy: ownerReference controller=true, same uid). */
export const controlledBy = (o: Obj, owner: Obj): boolean =>
  (o.metadata?.ownerReferences ?? []).some(
    (r: Obj) => r.controller === true && r.uid !== undefined && r.uid === owner.metadata?.uid,
  );

export type Previous =
  | { ok: true; template: Obj; revision: number; source: string; name?: string }
  | { ok: false; reason: string };

const revisionOfRs = (rs: Obj): number | undefined => {
  const v = rs.metadata?.annotations?.[REVISION_ANNOTATION];
  return v !== undefined && /^\d+$/.test(String(v)) ? Number(v) : undefined;
};

function withoutHash(template: Obj): Obj {
  const t = structuredClone(template);
  if (t.metadata?.labels) delete t.metadata.labels[POD_TEMPLATE_HASH];
  return t;
}

/** The template `rollout undo` restores for a Deployment, from its ReplicaSets. */
export function previousOfDeployment(deployment: Obj, replicaSets: readonly Obj[]): Previous {
  const owned = replicaSets
    .filter((rs) => controlledBy(rs, deployment))
    .map((rs) => ({ rs, revision: revisionOfRs(rs) }))
    .filter((x): x is { rs: Obj; revision: number } => x.revision !== undefined)
    .sort((a, b) => a.revision - b.revision);
  const prev = owned.at(-2);
  if (!prev)
    return { ok: false, reason: `no rollout history found for deployment "${deployment.metadata?.name}"` };
  return {
    ok: true,
    template: withoutHash(prev.rs.spec?.template ?? {}),
    revision: prev.revision,
    source: `ReplicaSet/${prev.rs.metadata?.name}`,
  };
}

/** The template `rollout undo` restores for a StatefulSet, from its ControllerRevisions. */
export function previousOfStatefulSet(set: Obj, revisions: readonly Obj[]): Previous {
  const owned = revisions
    .filter((r) => controlledBy(r, set) && typeof r.revision === 'number')
    .sort((a, b) => a.revision - b.revision);
  const prev = owned.at(-2);
  if (!prev) return { ok: false, reason: 'no last revision to roll back to' };
  const template = structuredClone(prev.data?.spec?.template);
  if (!template || typeof template !== 'object')
    return { ok: false, reason: `ControllerRevision/${prev.metadata?.name} holds no spec.template` };
  delete template.$patch;
  return {
    ok: true,
    template,
    revision: prev.revision,
    source: `ControllerRevision/${prev.metadata?.name}`,
    name: prev.metadata?.name,
  };
}

/**
 * A StatefulSet under OrderedReady waits for a broken pod to become Ready before it replaces it,
 * also after the template was reverted (kubernetes/kubernetes#67250; docs "StatefulSets → Forced
 * rollback": "you must also delete any Pods that StatefulSet had already attempted to run with the
 * bad configuration"). These are the pods to delete: controlled by the set, of another revision than
 * the restored one, not Ready.
 */
export function podsToForce(set: Obj, pods: readonly Obj[], restoredRevision: string): Obj[] {
  return pods.filter(
    (p) =>
      controlledBy(p, set) &&
      p.metadata?.labels?.['controller-revision-hash'] !== restoredRevision &&
      !(p.status?.conditions ?? []).some((c: Obj) => c.type === 'Ready' && c.status === 'True'),
  );
}

/** Templates equal but for the pod-template-hash label (kubectl `equalIgnoreHash`), compared as JSON. */
export function sameTemplate(a: Obj, b: Obj): boolean {
  return canonical(withoutHash(a)) === canonical(withoutHash(b));
}

const canonical = (v: unknown): string =>
  JSON.stringify(v, (_k, x) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x).sort(([p], [q]) => (p < q ? -1 : p > q ? 1 : 0)))
      : x,
  );

/** What kindling applies to roll back: the object it applied, with the previous template. */
export function rollbackObject(applied: KubeObject, template: Obj): KubeObject {
  const o = structuredClone(applied);
  (o as Obj).spec = { ...((o as Obj).spec ?? {}), template: structuredClone(template) };
  return o;
}

export interface CheckedStep {
  ready: boolean;
  /** Why not ready (the readiness rules' reasons). */
  readyReasons: string[];
  /** Undefined when verify did not run (not ready). */
  verifyOk?: boolean;
  verifyProblems?: string[];
}

/** After the upgrade was applied and waited for: keep it, or roll back and why. */
export function decide(step: CheckedStep): { action: 'keep' } | { action: 'rollback'; why: string[] } {
  if (!step.ready) return { action: 'rollback', why: ['not ready', ...step.readyReasons] };
  if (step.verifyOk === false)
    return { action: 'rollback', why: ['verify failed', ...(step.verifyProblems ?? [])] };
  if (step.verifyOk === undefined) return { action: 'rollback', why: ['verify did not run'] };
  return { action: 'keep' };
}

/** `StatefulSet/postgres: postgres=postgres:16 (revision postgres-7d9…), 0/1 ready` — what is on the cluster now. */
export function describeLive(o: Obj | undefined, ref: string): string {
  if (!o) return `${ref}: not found on the cluster`;
  const images = (o.spec?.template?.spec?.containers ?? [])
    .map((c: Obj) => `${c.name}=${c.image}`)
    .join(', ');
  const s = o.status ?? {};
  const want = typeof o.spec?.replicas === 'number' ? o.spec.replicas : 1;
  const rev =
    o.kind === 'StatefulSet'
      ? ` (current revision ${s.currentRevision ?? '?'}, update revision ${s.updateRevision ?? '?'})`
      : o.metadata?.annotations?.[REVISION_ANNOTATION]
        ? ` (revision ${o.metadata.annotations[REVISION_ANNOTATION]})`
        : '';
  return `${ref}: ${images}${rev}, ${s.readyReplicas ?? 0}/${want} ready, ${s.updatedReplicas ?? 0} updated`;
}
