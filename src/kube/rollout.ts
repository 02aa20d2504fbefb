/**
 * `rollout undo` for kindling (edge): reads a workload's revisions — the ReplicaSets of a Deployment,
 * the ControllerRevisions of a StatefulSet, those it controls (kubectl `pkg/polymorphichelpers/
 * history.go` controlledHistoryV1, `deploymentutil.GetAllReplicaSets`) — and applies the previous
 * template, as decided in src/upgrade/rollback.ts.
 */
import type { KubeObject } from '../manifests/render.ts';
import type { Obj } from '../plan/conditions.ts';
import {
  controlledBy,
  type Previous,
  podsToForce,
  previousOfDeployment,
  previousOfStatefulSet,
  rollbackObject,
  sameTemplate,
} from '../upgrade/rollback.ts';
import type { KubeClient } from './client.ts';
import { describeApiError } from './errors.ts';

export interface RollbackResult {
  ok: boolean;
  /** What was restored (`ReplicaSet/grafana-6d4… (revision 2)`), or why nothing was. */
  message: string;
  /** True when the template already was the previous one (kubectl: "skipped rollback"). */
  skipped?: boolean;
}

/** Deletes the pods a StatefulSet would wait on forever after a revert (see podsToForce). */
async function forceBrokenPods(client: KubeClient, set: Obj, revision: string): Promise<string[]> {
  const pods = await client.list('v1', 'Pod', set.metadata.namespace, selectorString(set));
  const broken = podsToForce(set, pods.items, revision);
  for (const p of broken) await client.delete({ apiVersion: 'v1', kind: 'Pod', metadata: p.metadata });
  return broken.map((p) => `Pod/${p.metadata.name}`);
}

/** `matchLabels` as a label selector string; expressions are checked by controller ownership. */
export const selectorString = (o: Obj): string | undefined => {
  const ml = Object.entries((o.spec?.selector?.matchLabels ?? {}) as Record<string, string>);
  return ml.length ? ml.map(([k, v]) => `${k}=${v}`).join(',') : undefined;
};

/** The revisions `workload` controls: ReplicaSets (Deployment) or ControllerRevisions (StatefulSet). */
export async function revisionsOf(client: KubeClient, workload: Obj): Promise<Obj[]> {
  const kind = workload.kind === 'Deployment' ? 'ReplicaSet' : 'ControllerRevision';
  const list = await client.list('apps/v1', kind, workload.metadata.namespace, selectorString(workload));
  return list.items.filter((i) => controlledBy(i, workload));
}

export async function previousRevision(client: KubeClient, live: Obj): Promise<Previous> {
  const revisions = await revisionsOf(client, live);
  return live.kind === 'Deployment'
    ? previousOfDeployment(live, revisions)
    : previousOfStatefulSet(live, revisions);
}

/**
 * Rolls `applied` (a Deployment or StatefulSet as kindling applied it) back to the revision before
 * the live one. Never throws: the result says what happened.
 */
export async function rollBack(client: KubeClient, applied: KubeObject): Promise<RollbackResult> {
  const ref = `${applied.kind}/${applied.metadata.name}`;
  try {
    const live = await client.read(
      applied.apiVersion,
      applied.kind,
      applied.metadata.namespace,
      applied.metadata.name,
    );
    if (!live) return { ok: false, message: `${ref} is not on the cluster` };
    live.kind ??= applied.kind;
    // kubectl refuses the same: a paused Deployment would never roll back (rollback.go)
    if (live.kind === 'Deployment' && live.spec?.paused)
      return { ok: false, message: `${ref} is paused: resume it first (kubectl rollout resume)` };
    const prev = await previousRevision(client, live);
    if (!prev.ok) return { ok: false, message: `${ref}: ${prev.reason}` };
    const restored = `${prev.source} (revision ${prev.revision})`;
    if (sameTemplate(prev.template, live.spec?.template ?? {}))
      return { ok: true, skipped: true, message: `${ref} already runs the template of ${restored}` };
    await client.apply(rollbackObject(applied, prev.template));
    const forced =
      live.kind === 'StatefulSet' && prev.name ? await forceBrokenPods(client, live, prev.name) : [];
    return {
      ok: true,
      message: `${ref} rolled back to the template of ${restored}${
        forced.length ? `; deleted ${forced.join(', ')} (not Ready on the bad revision: forced rollback)` : ''
      }`,
    };
  } catch (err) {
    return { ok: false, message: `${ref}: rollback failed: ${describeApiError(err)}` };
  }
}
