/**
 * Readiness of one object, per kind, exactly as /reference/readiness.md specifies (kubectl rollout
 * status plus the stricter items). Pure: the same object always gives the same verdict.
 */
import { formatDuration } from '../util/duration.ts';
import { conditionIs, currentCondition, type Obj, timeOf } from './conditions.ts';

export type State = 'ready' | 'progressing' | 'failed';

export interface Verdict {
  state: State;
  /** Machine-readable reason for failures (CrashLoopBackOff, ProgressDeadlineExceeded, ...). */
  reason?: string;
  message: string;
}

const ready = (message: string): Verdict => ({ state: 'ready', message });
const progressing = (message: string): Verdict => ({ state: 'progressing', message });
const failed = (reason: string, message: string): Verdict => ({ state: 'failed', reason, message });

/** `spec.replicas`, missing counting as 1. */
const specReplicas = (obj: Obj): number => (typeof obj.spec?.replicas === 'number' ? obj.spec.replicas : 1);
const n = (v: unknown): number => (typeof v === 'number' ? v : 0);

function generationObserved(obj: Obj): boolean {
  const gen = obj.metadata?.generation;
  const observed = obj.status?.observedGeneration;
  if (gen === undefined) return observed !== undefined;
  return observed !== undefined && gen <= observed;
}

export function deploymentVerdict(obj: Obj): Verdict {
  if (!generationObserved(obj)) return progressing('waiting for the rollout to be observed');
  const progress = currentCondition(obj, 'Progressing');
  if (progress && progress.reason === 'ProgressDeadlineExceeded')
    return failed('ProgressDeadlineExceeded', progress.message ?? 'progress deadline exceeded');
  const want = specReplicas(obj);
  const s = obj.status ?? {};
  if (n(s.updatedReplicas) < want) return progressing(`${n(s.updatedReplicas)} of ${want} replicas updated`);
  if (n(s.replicas) > n(s.updatedReplicas))
    return progressing(`${n(s.replicas) - n(s.updatedReplicas)} old replicas pending termination`);
  if (n(s.availableReplicas) < n(s.updatedReplicas))
    return progressing(`${n(s.availableReplicas)} of ${n(s.updatedReplicas)} updated replicas available`);
  if (n(s.readyReplicas) < want) return progressing(`${n(s.readyReplicas)} of ${want} replicas ready`);
  if (!conditionIs(obj, 'Available', 'True')) return progressing('condition Available is not True');
  return ready(`${want}/${want} replicas ready`);
}

export function statefulSetVerdict(obj: Obj): Verdict {
  const s = obj.status ?? {};
  if (!s.observedGeneration || !generationObserved(obj))
    return progressing('waiting for the rollout to be observed');
  const want = specReplicas(obj);
  if (n(s.readyReplicas) < want) return progressing(`${n(s.readyReplicas)} of ${want} replicas ready`);
  const strategy = obj.spec?.updateStrategy;
  const rolling = strategy?.type === undefined || strategy.type === 'RollingUpdate';
  const partition = rolling ? n(strategy?.rollingUpdate?.partition) : 0;
  if (rolling && partition > 0) {
    if (n(s.updatedReplicas) < want - partition)
      return progressing(
        `${n(s.updatedReplicas)} of ${want - partition} replicas updated (partition ${partition})`,
      );
  } else if (rolling) {
    if (n(s.updatedReplicas) < want)
      return progressing(`${n(s.updatedReplicas)} of ${want} replicas updated`);
    if (s.currentRevision !== s.updateRevision)
      return progressing(`revision ${s.currentRevision} still current, waiting for ${s.updateRevision}`);
    if (n(s.replicas) !== want) return progressing(`${n(s.replicas)} replicas exist, ${want} wanted`);
  }
  if (s.availableReplicas !== undefined && n(s.availableReplicas) < want)
    return progressing(`${n(s.availableReplicas)} of ${want} replicas available`);
  return ready(`${want}/${want} replicas ready`);
}

export function daemonSetVerdict(obj: Obj): Verdict {
  if (!generationObserved(obj)) return progressing('waiting for the rollout to be observed');
  const s = obj.status ?? {};
  const desired = n(s.desiredNumberScheduled);
  if (n(s.updatedNumberScheduled) < desired)
    return progressing(`${n(s.updatedNumberScheduled)} of ${desired} pods updated`);
  if (n(s.numberAvailable) < desired)
    return progressing(`${n(s.numberAvailable)} of ${desired} pods available`);
  if (n(s.numberReady) < desired) return progressing(`${n(s.numberReady)} of ${desired} pods ready`);
  return ready(`${desired}/${desired} pods ready`);
}

/**
 * Retries a Job has used, counted as its controller does (kubernetes/kubernetes
 * `pkg/controller/job/job_controller.go`): failed pods, plus, with `restartPolicy: OnFailure`,
 * the container restarts of its pending and running pods (`pastBackoffLimitOnFailure`).
 */
export function jobRetries(job: Obj, pods: readonly Obj[]): { used: number; limit: number } {
  const limit = typeof job.spec?.backoffLimit === 'number' ? job.spec.backoffLimit : 6;
  const onFailure = job.spec?.template?.spec?.restartPolicy === 'OnFailure';
  let used = n(job.status?.failed);
  if (onFailure)
    for (const p of pods)
      if (p.status?.phase === 'Running' || p.status?.phase === 'Pending')
        for (const cs of [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])])
          used += n(cs.restartCount);
  return { used, limit };
}

export function jobVerdict(obj: Obj): Verdict {
  for (const type of ['Failed', 'FailureTarget']) {
    if (conditionIs(obj, type, 'True')) {
      const c = currentCondition(obj, type)!;
      return failed(c.reason ?? 'JobFailed', c.message ?? `job condition ${type}`);
    }
  }
  if (conditionIs(obj, 'Complete', 'True') || conditionIs(obj, 'SuccessCriteriaMet', 'True'))
    return ready('completed');
  const s = obj.status ?? {};
  return progressing(`${n(s.active)} active, ${n(s.succeeded)} succeeded, ${n(s.failed)} failed`);
}

/**
 * Container waiting reasons that never resolve by themselves: fail at once. The kubelet's names:
 * kubernetes/kubernetes `pkg/kubelet/container/sync_result.go` (CrashLoopBackOff, RunContainerError),
 * `pkg/kubelet/kuberuntime/kuberuntime_container.go` (CreateContainerConfigError, CreateContainerError,
 * PreStartHookError, PostStartHookError), `pkg/kubelet/images/types.go` (ErrImageNeverPull,
 * InvalidImageName).
 */
export const FATAL_WAITING_REASONS = [
  'CrashLoopBackOff',
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
  'PreStartHookError',
  'PostStartHookError',
  'ErrImageNeverPull',
  'InvalidImageName',
] as const;

/**
 * Pull failures the kubelet retries with back-off (`pkg/kubelet/images/image_manager.go`: every
 * failed pull calls `backOff.Next`, and while backing off the reason is ImagePullBackOff with only
 * "Back-off pulling image"; docs "Images" → ImagePullBackOff). Rate limits and EOFs on shared
 * runner IPs clear up, so these fail fast only when the error says the image cannot be had.
 */
export const IMAGE_PULL_REASONS = ['ErrImagePull', 'ImagePullBackOff'] as const;

/** Runtime pull errors that no retry fixes: the image or tag does not exist, or we may not pull it. */
const PERMANENT_PULL_ERROR =
  /\bnot found\b|manifest unknown|name unknown|\bunauthorized\b|\b401\b|\b403\b|forbidden|pull access denied|access to the resource is denied|insufficient_scope|requested access to the resource is denied|no match for platform/i;

/** True when a pull error message (waiting message or `Failed` event) names a permanent cause. */
export function isPermanentPullError(message: string | undefined): boolean {
  return !!message && PERMANENT_PULL_ERROR.test(message);
}

export interface PodOptions {
  /** Evaluation time (ms since epoch), for the Unschedulable grace period. */
  now: number;
  /** How long a pod may stay Unschedulable before it fails the rollout. */
  unschedulableGraceMs: number;
  /** How long transient image pull errors are retried before they fail the rollout. */
  imagePullGraceMs?: number;
  /** Events about this pod: the kubelet's `Failed` event keeps the pull error once the reason is ImagePullBackOff. */
  events?: readonly Obj[];
}

export const DEFAULT_UNSCHEDULABLE_GRACE_MS = 30_000;
/** Two minutes covers the kubelet's first five pull attempts (10 s initial back-off, doubling). */
export const DEFAULT_IMAGE_PULL_GRACE_MS = 120_000;

/** `last termination: OOMKilled, exit code 137` for a container, from lastState (or state) terminated. */
export function lastTermination(cs: Obj): string | undefined {
  const t = cs?.lastState?.terminated ?? cs?.state?.terminated;
  if (!t) return undefined;
  const parts = [t.reason, t.exitCode !== undefined ? `exit code ${t.exitCode}` : undefined].filter(Boolean);
  return parts.length ? `last termination: ${parts.join(', ')}` : undefined;
}

const withTermination = (message: string, cs: Obj): string => {
  const t = lastTermination(cs);
  return t ? `${message} (${t})` : message;
};

/** The latest pull error the kubelet reported for `container` of the pod (event reason Failed). */
function pullErrorEvent(pod: Obj, container: string, events: readonly Obj[]): string | undefined {
  const mine = events
    .filter((e) => {
      const o = e.involvedObject ?? e.regarding;
      return (
        o?.kind === 'Pod' &&
        o?.name === pod.metadata?.name &&
        (!o.fieldPath || o.fieldPath.includes(`{${container}}`)) &&
        e.reason === 'Failed' &&
        /pull/i.test(e.message ?? e.note ?? '')
      );
    })
    .sort((a, b) => eventTime(b) - eventTime(a));
  return mine[0] ? (mine[0].message ?? mine[0].note) : undefined;
}

export function podVerdict(pod: Obj, opts: PodOptions): Verdict {
  const name = pod.metadata?.name ?? '?';
  const phase = pod.status?.phase;
  const statuses: Obj[] = [
    ...(pod.status?.initContainerStatuses ?? []),
    ...(pod.status?.containerStatuses ?? []),
  ];
  if (phase === 'Succeeded') return ready(`pod ${name} succeeded`);
  if (phase === 'Failed') {
    const ends = statuses
      .map((cs) => [cs.name, lastTermination(cs)] as const)
      .filter(([, t]) => t)
      .map(([c, t]) => `container ${c} ${t}`);
    return failed(
      pod.status?.reason ?? 'PodFailed',
      `pod ${name} failed${pod.status?.message ? `: ${pod.status.message}` : ''}${ends.length ? ` (${ends.join('; ')})` : ''}`,
    );
  }
  for (const cs of statuses) {
    const reason = cs.state?.waiting?.reason;
    const detail = cs.state?.waiting?.message ? `: ${cs.state.waiting.message}` : '';
    if ((FATAL_WAITING_REASONS as readonly string[]).includes(reason))
      return failed(reason, withTermination(`pod ${name} container ${cs.name} ${reason}${detail}`, cs));
    if ((IMAGE_PULL_REASONS as readonly string[]).includes(reason)) {
      const cause = pullErrorEvent(pod, cs.name, opts.events ?? []) ?? cs.state.waiting.message;
      const causeText = cause && !detail.includes(cause) ? `${detail}; last pull error: ${cause}` : detail;
      const msg = `pod ${name} container ${cs.name} ${reason}${causeText}`;
      if (isPermanentPullError(cs.state.waiting.message) || isPermanentPullError(cause))
        return failed(reason, msg);
      const since =
        timeOf(currentCondition(pod, 'PodScheduled')?.lastTransitionTime) ??
        timeOf(pod.metadata?.creationTimestamp) ??
        opts.now;
      const grace = opts.imagePullGraceMs ?? DEFAULT_IMAGE_PULL_GRACE_MS;
      if (opts.now - since >= grace)
        return failed(reason, `${msg} (still failing after ${formatDuration(grace)} of retries)`);
      return progressing(`${msg} (retrying: the kubelet pulls again with back-off)`);
    }
  }
  const scheduled = currentCondition(pod, 'PodScheduled');
  if (
    scheduled &&
    String(scheduled.status).toLowerCase() === 'false' &&
    scheduled.reason === 'Unschedulable'
  ) {
    const since = timeOf(scheduled.lastTransitionTime) ?? timeOf(pod.metadata?.creationTimestamp) ?? opts.now;
    const msg = `pod ${name} Unschedulable${scheduled.message ? `: ${scheduled.message}` : ''}`;
    if (opts.now - since >= opts.unschedulableGraceMs) return failed('Unschedulable', msg);
    return progressing(msg);
  }
  if (phase === 'Running' && conditionIs(pod, 'Ready', 'True')) return ready(`pod ${name} ready`);
  return progressing(`pod ${name} ${phase ?? 'Pending'}, not ready`);
}

export interface PvcContext {
  /** The claim's StorageClass, when it could be read. */
  storageClass?: Obj;
  /** Events about the claim (involvedObject = the PVC). */
  events?: readonly Obj[];
}

export function pvcVerdict(pvc: Obj, ctx: PvcContext = {}): Verdict {
  const name = pvc.metadata?.name ?? '?';
  const phase = pvc.status?.phase;
  if (phase === 'Bound') return ready(`pvc ${name} Bound`);
  if (phase === 'Lost') return failed('ClaimLost', `pvc ${name} Lost: its volume is gone`);
  const events = [...(ctx.events ?? [])].sort((a, b) => eventTime(b) - eventTime(a));
  const provisioning = events.find((e) => e.reason === 'ProvisioningFailed');
  if (provisioning)
    return {
      state: 'progressing',
      reason: 'ProvisioningFailed',
      message: `pvc ${name} Pending, provisioning failed: ${provisioning.message ?? ''}`.trim(),
    };
  const waitsForConsumer =
    ctx.storageClass?.volumeBindingMode === 'WaitForFirstConsumer' ||
    events.some((e) => e.reason === 'WaitForFirstConsumer');
  if (waitsForConsumer)
    return {
      state: 'progressing',
      reason: 'WaitForFirstConsumer',
      message: `pvc ${name} Pending, waiting for first consumer`,
    };
  return progressing(`pvc ${name} ${phase ?? 'Pending'}`);
}

/** When an event last happened (events.k8s.io and core/v1 shapes). */
export function eventTime(e: Obj): number {
  return (
    timeOf(e.series?.lastObservedTime) ??
    timeOf(e.lastTimestamp) ??
    timeOf(e.eventTime) ??
    timeOf(e.firstTimestamp) ??
    timeOf(e.metadata?.creationTimestamp) ??
    0
  );
}

/**
 * A Service is reachable when an EndpointSlice labelled with its name has a ready endpoint for
 * every port. Slice ports carry the Service port's name (empty when unnamed) and the resolved target port.
 */
export function serviceVerdict(svc: Obj, slices: readonly Obj[]): Verdict {
  const name = svc.metadata?.name ?? '?';
  const mine = slices.filter((s) => s.metadata?.labels?.['kubernetes.io/service-name'] === name);
  const ports: Obj[] = svc.spec?.ports ?? [];
  const missing: string[] = [];
  for (const p of ports) {
    const portName = p.name ?? '';
    const target = p.targetPort ?? p.port;
    const ok = mine.some(
      (s) =>
        (s.ports ?? []).some(
          (sp: Obj) => (sp.name ?? '') === portName && (typeof target !== 'number' || sp.port === target),
        ) && (s.endpoints ?? []).some((e: Obj) => e.conditions?.ready === true),
    );
    if (!ok) missing.push(String(p.port));
  }
  if (ports.length === 0) return ready(`service ${name} has no ports`);
  if (missing.length)
    return progressing(`service ${name} has no ready endpoint for port ${missing.join(', ')}`);
  return ready(`service ${name} has ready endpoints`);
}

/** Kinds whose readiness is waited for, and their evaluator (PVCs and Services need context). */
export const WORKLOAD_VERDICTS: Record<string, (o: Obj) => Verdict> = {
  Deployment: deploymentVerdict,
  StatefulSet: statefulSetVerdict,
  DaemonSet: daemonSetVerdict,
  Job: jobVerdict,
};
