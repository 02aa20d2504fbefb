/**
 * Simulation (test infrastructure): what every simulated controller and the kubelet share — the
 * API stand-in's store (their informer cache and client), the simulated clock, and Events.
 */
import type { KubeApiStandin } from '../standins/kube-api.ts';
import { defaulted, type Obj, randomSuffix } from './apiserver.ts';

export interface SimClock {
  /**
   * Real milliseconds per simulated second: probe periods, back-offs and initial delays are
   * multiplied by this (1000 = real time). kindling's own deadlines stay real.
   */
  msPerSecond: number;
}

export class SimContext {
  readonly api: KubeApiStandin;
  readonly clock: SimClock;
  private readonly eventCounts = new Map<string, Obj>();

  constructor(api: KubeApiStandin, clock: SimClock) {
    this.api = api;
    this.clock = clock;
  }

  /** Simulated seconds → real ms. */
  ms(seconds: number): number {
    return seconds * this.clock.msPerSecond;
  }

  list(apiVersion: string, kind: string, namespace?: string): Obj[] {
    return this.api.list(apiVersion, kind, namespace);
  }

  get(apiVersion: string, kind: string, namespace: string | undefined, name: string): Obj | undefined {
    return this.api.get(apiVersion, kind, namespace, name);
  }

  create(o: Obj): Obj {
    return this.api.put(defaulted(o));
  }

  /** Writes status only when it changed (a status update with no change is not an event). */
  setStatus(o: Obj, status: Obj): void {
    if (JSON.stringify(o.status ?? {}) === JSON.stringify(status)) return;
    this.api.setStatus(o.apiVersion, o.kind, o.metadata.namespace, o.metadata.name, status);
  }

  /**
   * A core/v1 Event as client-go's EventRecorder writes it (`staging/src/k8s.io/client-go/tools/record/event.go`):
   * repeats of the same reason/message on the same object bump `count` and `lastTimestamp`.
   */
  event(
    involved: Obj,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
    component: string,
    fieldPath?: string,
  ): void {
    const ns = involved.metadata.namespace ?? 'default';
    const key = `${involved.kind}/${ns}/${involved.metadata.name}/${fieldPath ?? ''}/${reason}/${message}`;
    const now = new Date().toISOString();
    const seen = this.eventCounts.get(key);
    if (seen) {
      seen.count += 1;
      seen.lastTimestamp = now;
      this.api.put(seen);
      return;
    }
    const ev: Obj = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${involved.metadata.name}.${randomSuffix()}${randomSuffix()}`, namespace: ns },
      involvedObject: {
        apiVersion: involved.apiVersion,
        kind: involved.kind,
        name: involved.metadata.name,
        namespace: ns,
        uid: involved.metadata.uid,
        ...(fieldPath ? { fieldPath } : {}),
      },
      reason,
      message,
      type,
      source: { component, ...(component === 'kubelet' ? { host: 'kind-control-plane' } : {}) },
      count: 1,
      firstTimestamp: now,
      lastTimestamp: now,
      reportingComponent: component,
    };
    this.eventCounts.set(key, ev);
    this.api.put(ev);
  }
}

export const ownerRef = (o: Obj) => ({
  apiVersion: o.apiVersion,
  kind: o.kind,
  name: o.metadata.name,
  uid: o.metadata.uid,
  controller: true,
  blockOwnerDeletion: true,
});

/** matchLabels + matchExpressions (In/NotIn/Exists/DoesNotExist), as `metav1.LabelSelectorAsSelector`. */
export function selects(selector: Obj | undefined, labels: Record<string, string> = {}): boolean {
  if (!selector) return false;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = e.key in labels;
    if (e.operator === 'In' && !(has && e.values.includes(labels[e.key]))) return false;
    if (e.operator === 'NotIn' && has && e.values.includes(labels[e.key])) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

export const podReady = (p: Obj): boolean =>
  p.status?.phase === 'Running' &&
  (p.status?.conditions ?? []).some((c: Obj) => c.type === 'Ready' && c.status === 'True');

export const condition = (type: string, status: boolean | 'True' | 'False', extra: Obj = {}): Obj => ({
  type,
  status: typeof status === 'string' ? status : status ? 'True' : 'False',
  lastTransitionTime: new Date().toISOString(),
  ...extra,
});

/** Keeps lastTransitionTime of conditions whose status did not change. */
export function mergeConditions(old: Obj[] = [], next: Obj[]): Obj[] {
  return next.map((c) => {
    const prev = old.find((o) => o.type === c.type);
    return prev && prev.status === c.status && prev.reason === c.reason
      ? {
          ...c,
          lastTransitionTime: prev.lastTransitionTime,
          ...(prev.lastProbeTime ? { lastProbeTime: prev.lastProbeTime } : {}),
        }
      : c;
  });
}
