/**
 * Readiness of a whole component from a snapshot of the live objects: its workloads (and their
 * pods, for fail-fast), then — once the workloads are ready — its standalone PVCs and Services.
 */
import { type Obj, selectorMatches } from './conditions.ts';
import type { WaitTarget } from './order.ts';
import {
  DEFAULT_UNSCHEDULABLE_GRACE_MS,
  jobRetries,
  lastTermination,
  podVerdict,
  pvcVerdict,
  type State,
  serviceVerdict,
  type Verdict,
  WORKLOAD_VERDICTS,
} from './readiness.ts';

/** What the waiter currently knows about the namespace(s). Plain data, so decisions stay pure. */
export interface Snapshot {
  /** Live objects by `liveKey`. */
  objects: ReadonlyMap<string, Obj>;
  /** Keys of waited objects that were seen and then deleted. */
  deleted: ReadonlySet<string>;
  pods: readonly Obj[];
  endpointSlices: readonly Obj[];
  events: readonly Obj[];
  storageClasses: readonly Obj[];
}

export const liveKey = (kind: string, namespace: string, name: string): string =>
  `${kind}/${namespace}/${name}`;

export interface TargetVerdict {
  target: WaitTarget;
  verdict: Verdict;
}

export interface ComponentVerdict {
  state: State;
  /** One line per blocking target or failure, naming the object and reason. */
  reasons: string[];
  /** Non-blocking observations, e.g. a PVC waiting for its first consumer. */
  notes: string[];
  targets: TargetVerdict[];
  /** Pods that failed fast (for diagnostics). */
  failedPods: string[];
}

export interface EvaluateOptions {
  now: number;
  unschedulableGraceMs?: number;
  imagePullGraceMs?: number;
}

/**
 * Pod failures a Job retries by itself (a failed pod is replaced; with `restartPolicy: OnFailure`
 * a crashing container restarts in place and shows CrashLoopBackOff in a Running pod) until its
 * backoffLimit is spent; the Job controller then sets Failed (`pkg/controller/job/job_controller.go`).
 */
const JOB_RETRIED = new Set(['CrashLoopBackOff', 'RunContainerError', 'Error']);

const isWorkload = (t: WaitTarget) => t.kind in WORKLOAD_VERDICTS;

/** Pods an owner's selector matches, re-resolved on every evaluation (the pod set changes during a rollout). */
export function podsOf(owner: Obj, pods: readonly Obj[]): Obj[] {
  const ns = owner.metadata?.namespace;
  return pods.filter(
    (p) => p.metadata?.namespace === ns && selectorMatches(owner.spec?.selector, p.metadata?.labels),
  );
}

export function evaluateComponent(
  targets: readonly WaitTarget[],
  snap: Snapshot,
  opts: EvaluateOptions,
): ComponentVerdict {
  const podOpts = {
    now: opts.now,
    unschedulableGraceMs: opts.unschedulableGraceMs ?? DEFAULT_UNSCHEDULABLE_GRACE_MS,
    ...(opts.imagePullGraceMs !== undefined ? { imagePullGraceMs: opts.imagePullGraceMs } : {}),
  };
  const results: TargetVerdict[] = [];
  const failures: string[] = [];
  const failedPods: string[] = [];
  const progress: string[] = [];
  const notes: string[] = [];

  const lookup = (t: WaitTarget): Obj | Verdict => {
    const key = liveKey(t.kind, t.namespace, t.name);
    const live = snap.objects.get(key);
    if (live) return live;
    if (snap.deleted.has(key))
      return { state: 'failed', reason: 'Deleted', message: `${t.kind}/${t.name} was deleted` };
    return { state: 'progressing', message: `${t.kind}/${t.name} not found yet` };
  };
  const record = (t: WaitTarget, v: Verdict) => {
    results.push({ target: t, verdict: v });
    const line = `${t.kind}/${t.name}: ${v.reason && v.state === 'failed' ? `${v.reason}: ` : ''}${v.message}`;
    if (v.state === 'failed') failures.push(line);
    else if (v.state === 'progressing') progress.push(line);
  };
  const isVerdict = (x: Obj | Verdict): x is Verdict =>
    typeof (x as Verdict).state === 'string' && 'message' in x && !('metadata' in x);

  for (const t of targets.filter(isWorkload)) {
    const live = lookup(t);
    if (isVerdict(live)) {
      record(t, live);
      continue;
    }
    const pods = podsOf(live, snap.pods);
    const own = WORKLOAD_VERDICTS[t.kind]!(live);
    if (t.kind === 'Job' && own.state === 'failed') {
      // name how the last attempt ended (OOMKilled, exit code): the Job's own message does not
      const ends = pods.flatMap((p) =>
        [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])]
          .map((cs: Obj) => lastTermination(cs))
          .filter((e): e is string => !!e)
          .map((e) => `pod ${p.metadata?.name} ${e}`),
      );
      record(t, ends.length ? { ...own, message: `${own.message} (${ends.slice(-1)[0]})` } : own);
    } else record(t, own);
    // fail fast from the pods, even while the owner still looks merely "progressing"; a finished
    // Job's leftover pods (earlier failed attempts) no longer matter
    for (const pod of t.kind === 'Job' && own.state !== 'progressing' ? [] : pods) {
      const pv = podVerdict(pod, { ...podOpts, events: snap.events });
      if (pv.state !== 'failed') continue;
      if (t.kind === 'Job' && (pod.status?.phase === 'Failed' || JOB_RETRIED.has(pv.reason ?? ''))) {
        // a retry within backoffLimit: the Job's own Failed condition decides
        const { used, limit } = jobRetries(live, pods);
        progress.push(`${t.kind}/${t.name}: retrying (${used} of backoffLimit ${limit} used): ${pv.message}`);
        continue;
      }
      failures.push(`${t.kind}/${t.name}: ${pv.reason}: ${pv.message}`);
      failedPods.push(pod.metadata.name);
    }
    // a pod that restarted says how it last ended (OOMKilled...), so a timeout names it too
    if (own.state === 'progressing' && t.kind !== 'Job')
      for (const pod of pods)
        for (const cs of [
          ...(pod.status?.initContainerStatuses ?? []),
          ...(pod.status?.containerStatuses ?? []),
        ]) {
          const ended = (cs.restartCount ?? 0) > 0 ? lastTermination(cs) : undefined;
          if (ended)
            progress.push(
              `${t.kind}/${t.name}: pod ${pod.metadata?.name} container ${cs.name} restarted ${cs.restartCount} time(s) (${ended})`,
            );
        }
  }

  const workloadsReady = results.every((r) => r.verdict.state === 'ready');
  for (const t of targets.filter((x) => !isWorkload(x))) {
    const live = lookup(t);
    if (isVerdict(live)) {
      record(t, live);
      continue;
    }
    if (t.kind === 'PersistentVolumeClaim') {
      const events = snap.events.filter(
        (e) =>
          (e.involvedObject ?? e.regarding)?.kind === 'PersistentVolumeClaim' &&
          (e.involvedObject ?? e.regarding)?.name === t.name,
      );
      const storageClass =
        snap.storageClasses.find((sc) => sc.metadata?.name === live.spec?.storageClassName) ??
        snap.storageClasses.find(
          (sc) => sc.metadata?.annotations?.['storageclass.kubernetes.io/is-default-class'] === 'true',
        );
      const v = pvcVerdict(live, { storageClass, events });
      // checked after the workloads: a claim still waiting for a consumer then has none, which is not a failure
      if (v.reason === 'WaitForFirstConsumer' && workloadsReady) {
        results.push({ target: t, verdict: v });
        notes.push(`PersistentVolumeClaim/${t.name}: ${v.message}`);
        continue;
      }
      record(t, v);
    } else if (t.kind === 'Service') {
      record(t, serviceVerdict(live, snap.endpointSlices));
    }
  }

  const state: State = failures.length ? 'failed' : progress.length ? 'progressing' : 'ready';
  return { state, reasons: failures.length ? failures : progress, notes, targets: results, failedPods };
}
