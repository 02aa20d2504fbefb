/**
 * The seed README's namespace-wide checks, as pure functions over client-node object shapes:
 * every pod Ready, every Service with ready endpoints (EndpointSlices), every PVC Bound.
 * Each returns `definite` problems (fail at once) and `pending` ones (retry until the deadline).
 */
import type { V1EndpointSlice, V1PersistentVolumeClaim, V1Pod, V1Service } from '@kubernetes/client-node';

export interface Findings {
  /** How many objects were looked at. */
  total: number;
  definite: string[];
  pending: string[];
}

const FAIL_FAST_WAITING = new Set([
  'CrashLoopBackOff',
  'ImagePullBackOff',
  'ErrImagePull',
  'CreateContainerConfigError',
  'InvalidImageName',
]);

export function podFindings(pods: readonly V1Pod[]): Findings {
  const f: Findings = { total: pods.length, definite: [], pending: [] };
  for (const pod of pods) {
    const name = `pod/${pod.metadata?.name ?? '?'}`;
    const phase = pod.status?.phase;
    if (phase === 'Succeeded') continue;
    if (phase === 'Failed') {
      f.definite.push(`${name} Failed${pod.status?.reason ? ` (${pod.status.reason})` : ''}`);
      continue;
    }
    const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
    const broken = statuses.find(
      (s) => s.state?.waiting?.reason && FAIL_FAST_WAITING.has(s.state.waiting.reason),
    );
    if (broken) {
      f.definite.push(`${name} container ${broken.name} ${broken.state!.waiting!.reason}`);
      continue;
    }
    const conditions = pod.status?.conditions ?? [];
    const ready = conditions.find((c) => c.type === 'Ready')?.status === 'True';
    if (phase === 'Running' && ready) continue;
    const unschedulable = conditions.find((c) => c.type === 'PodScheduled' && c.status === 'False');
    const why = unschedulable?.reason ?? (phase === 'Running' ? 'not Ready' : (phase ?? 'no status'));
    f.pending.push(`${name} ${why}`);
  }
  return f;
}

export function serviceFindings(
  services: readonly V1Service[],
  slices: readonly V1EndpointSlice[],
): Findings {
  // only Services that select pods have endpoints to wait for (not ExternalName, not selector-less)
  const selecting = services.filter(
    (s) => s.spec?.type !== 'ExternalName' && s.spec?.selector && Object.keys(s.spec.selector).length > 0,
  );
  const f: Findings = { total: selecting.length, definite: [], pending: [] };
  for (const svc of selecting) {
    const name = svc.metadata?.name ?? '?';
    const own = slices.filter((sl) => sl.metadata?.labels?.['kubernetes.io/service-name'] === name);
    const ports = svc.spec?.ports ?? [];
    const missing = ports.filter(
      (p) => !own.some((sl) => servesPort(sl, p.name ?? '') && hasReadyEndpoint(sl)),
    );
    if (ports.length === 0 ? !own.some(hasReadyEndpoint) : missing.length > 0) {
      const which =
        missing.length && ports.length > 1
          ? ` for port ${missing.map((p) => p.name || p.port).join(', ')}`
          : '';
      f.pending.push(`service/${name} has no ready endpoint${which}`);
    }
  }
  return f;
}

function servesPort(slice: V1EndpointSlice, portName: string): boolean {
  // an EndpointSlice without ports serves every port of its Service
  if (!slice.ports || slice.ports.length === 0) return true;
  return slice.ports.some((p) => (p.name ?? '') === portName);
}

function hasReadyEndpoint(slice: V1EndpointSlice): boolean {
  return (slice.endpoints ?? []).some((e) => e.conditions?.ready === true);
}

export function pvcFindings(pvcs: readonly V1PersistentVolumeClaim[]): Findings {
  const f: Findings = { total: pvcs.length, definite: [], pending: [] };
  for (const pvc of pvcs) {
    const name = `pvc/${pvc.metadata?.name ?? '?'}`;
    const phase = pvc.status?.phase;
    if (phase === 'Bound') continue;
    if (phase === 'Lost') f.definite.push(`${name} Lost`);
    else f.pending.push(`${name} ${phase ?? 'Pending'}`);
  }
  return f;
}
