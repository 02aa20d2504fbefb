/**
 * Blue-green copies and Service switches (pure). The seed's procedure: deploy green beside blue,
 * switch traffic, verify, delete blue.
 *
 * Green pods keep every label of blue's pods (NetworkPolicies and monitoring select pods by them)
 * plus `kindling.dev/slot: green`. A Service's selector is an equality map, so it cannot exclude
 * green by itself: before green exists the main Service is pinned to blue's pods by the label the
 * controller puts on them — `pod-template-hash` (a Deployment's ReplicaSet, k8s.io/api apps/v1
 * DefaultDeploymentUniqueLabelKey) or `controller-revision-hash` (a StatefulSet's pods,
 * apps/v1 ControllerRevisionHashLabelKey). Switching sets it to green's `slot` label; finishing
 * restores the manifest's selector. A Deployment's own selector is immutable (apps/v1), so blue's
 * is never touched; green's ReplicaSets are controlled by green, so blue's controller never adopts them.
 */
import type { Component } from '../catalog/types.ts';
import type { KubeObject } from '../manifests/render.ts';
import type { Obj } from '../plan/conditions.ts';

export const SLOT_LABEL = 'kindling.dev/slot';
export const STATE_ANNOTATION = 'kindling.dev/blue-green';
export const greenName = (name: string): string => `${name}-green`;

/** The label that tells one revision's pods of a workload from another's. */
export const pinLabel = (kind: string): string =>
  kind === 'StatefulSet' ? 'controller-revision-hash' : 'pod-template-hash';

/** Whether a Service routes to the workload's pods (its selector matches the pod template's labels). */
export function routesTo(service: Obj, workload: Obj): boolean {
  const sel: Record<string, string> = service.spec?.selector ?? {};
  const labels: Record<string, string> = workload.spec?.template?.metadata?.labels ?? {};
  const keys = Object.keys(sel);
  return keys.length > 0 && keys.every((k) => labels[k] === sel[k]);
}

/** The component's catalog Services (rendered) that route to `workload`. */
export function servicesOf(
  component: Component,
  workload: Obj,
  objects: readonly KubeObject[],
): KubeObject[] {
  return component.services
    .map((s) => objects.find((o) => o.kind === 'Service' && o.metadata.name === s.name))
    .filter((o): o is KubeObject => o !== undefined && routesTo(o, workload));
}

/**
 * The Services green needs copies of: the ones to switch, and a StatefulSet's governing Service
 * (`serviceName`, often a headless one outside the catalog) that gives its pods their DNS names.
 */
export function servicesToCopy(
  component: Component,
  workload: Obj,
  objects: readonly KubeObject[],
): KubeObject[] {
  const out = servicesOf(component, workload, objects);
  const governing = workload.kind === 'StatefulSet' ? workload.spec?.serviceName : undefined;
  const g = objects.find((o) => o.kind === 'Service' && o.metadata.name === governing);
  if (g && !out.includes(g)) out.push(g);
  return out;
}

const withSelector = (svc: KubeObject, selector: Record<string, string>): KubeObject => {
  const o = structuredClone(svc) as Obj;
  o.spec = { ...(o.spec ?? {}), selector };
  return o as KubeObject;
};

/** The main Service pinned to blue's current pods (`hash`: the pin label's value on them). */
export const pinned = (svc: KubeObject, kind: string, hash: string): KubeObject =>
  withSelector(svc, { ...((svc as Obj).spec?.selector ?? {}), [pinLabel(kind)]: hash });

/** The main Service routed to green. */
export const switched = (svc: KubeObject): KubeObject =>
  withSelector(svc, { ...((svc as Obj).spec?.selector ?? {}), [SLOT_LABEL]: 'green' });

/** The Service green is verified through: blue's, renamed, selecting green only. */
export function greenService(svc: KubeObject): KubeObject {
  const o = switched(svc) as Obj;
  o.metadata = {
    ...o.metadata,
    name: greenName(o.metadata.name),
    labels: { ...(o.metadata.labels ?? {}), [SLOT_LABEL]: 'green' },
  };
  // addresses are the API server's to allocate; a headless Service (clusterIP None) stays headless
  if (o.spec.clusterIP !== 'None') delete o.spec.clusterIP;
  delete o.spec.clusterIPs;
  for (const p of o.spec.ports ?? []) delete p.nodePort;
  return o as KubeObject;
}

/**
 * The green copy of a workload with the new template (`desired`): its own name and selector, the
 * slot label on it and its pods; a StatefulSet's governing Service renamed when it is one of
 * `renamed` (its PVCs follow from the new name: `<claim>-<name>-green-<ordinal>`).
 */
export function greenWorkload(desired: KubeObject, renamed: ReadonlySet<string>): KubeObject {
  const o = structuredClone(desired) as Obj;
  o.metadata = {
    ...o.metadata,
    name: greenName(o.metadata.name),
    labels: { ...(o.metadata.labels ?? {}), [SLOT_LABEL]: 'green' },
  };
  o.spec.selector = {
    ...(o.spec.selector ?? {}),
    matchLabels: { ...(o.spec.selector?.matchLabels ?? {}), [SLOT_LABEL]: 'green' },
  };
  o.spec.template.metadata = {
    ...(o.spec.template.metadata ?? {}),
    labels: { ...(o.spec.template.metadata?.labels ?? {}), [SLOT_LABEL]: 'green' },
  };
  if (o.kind === 'StatefulSet' && renamed.has(o.spec.serviceName))
    o.spec.serviceName = greenName(o.spec.serviceName);
  return o as KubeObject;
}

/** The component as seen through green: its endpoints on the green Services, exec checks on green's pods. */
export function greenComponent(
  component: Component,
  renamed: ReadonlySet<string>,
  workloadNames: ReadonlySet<string>,
): Component {
  const pod = (p: unknown) => {
    if (typeof p !== 'string') return p;
    const m = /^(.*)-(\d+)$/.exec(p);
    return m && workloadNames.has(m[1]!) ? `${greenName(m[1]!)}-${m[2]}` : p;
  };
  return {
    ...component,
    endpoints: component.endpoints.map((e) =>
      renamed.has(e.service) ? { ...e, service: greenName(e.service) } : e,
    ),
    // green's own checks: through its own Services or in its pods; a check through another
    // component (the metrics in Prometheus) is not about green, and runs after the switch
    checks: component.checks
      .filter((c) => {
        if (c.pod) return true;
        const e = component.endpoints.find((x) => x.name === c.endpoint) ?? component.endpoints[0];
        return !e || renamed.has(e.service);
      })
      .map((c) => (c.pod ? { ...c, pod: pod(c.pod) } : c)),
    backups: component.backups.map((b) => (b.pod ? { ...b, pod: pod(b.pod) } : b)),
    workloads: component.workloads.map((w) =>
      workloadNames.has(w.name) ? { ...w, name: greenName(w.name) } : w,
    ),
    services: component.services.map((s) => (renamed.has(s.name) ? { ...s, name: greenName(s.name) } : s)),
  };
}

/** What a switched Service remembers, so `--finish` (or a switch back) needs nothing else. */
export interface BlueGreenState {
  component: string;
  workload: { kind: string; name: string };
  /** Blue's pin value (the pod-template-hash / controller-revision-hash of its pods). */
  blue: string;
  switchedAt: string;
  /** After this, blue may be removed without a `--finish`. */
  keepUntil: string;
}

export function withState(svc: KubeObject, state: BlueGreenState): KubeObject {
  const o = structuredClone(svc);
  o.metadata.annotations = { ...(o.metadata.annotations ?? {}), [STATE_ANNOTATION]: JSON.stringify(state) };
  return o;
}

export function stateOf(svc: Obj | undefined): BlueGreenState | undefined {
  const raw = svc?.metadata?.annotations?.[STATE_ANNOTATION];
  if (typeof raw !== 'string') return undefined;
  try {
    const s = JSON.parse(raw) as BlueGreenState;
    return typeof s.blue === 'string' && s.workload?.name ? s : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether a switch's keep-blue window has ended at `now` (ms): then blue may go without a `--finish`,
 * and the next `kindling upgrade` finishes it. An unreadable deadline never ends (kept until --finish).
 */
export function keepBlueEnded(state: BlueGreenState, now: number): boolean {
  const until = Date.parse(state.keepUntil);
  return Number.isFinite(until) && until <= now;
}

/** Blue's pin value: a Deployment's newest ReplicaSet's hash label, a StatefulSet's current revision. */
export function blueHash(live: Obj, replicaSets: readonly Obj[]): string | undefined {
  if (live.kind === 'StatefulSet') return live.status?.currentRevision;
  const newest = [...replicaSets]
    .filter((r) => r.metadata?.annotations?.['deployment.kubernetes.io/revision'] !== undefined)
    .sort(
      (a, b) =>
        Number(a.metadata.annotations['deployment.kubernetes.io/revision']) -
        Number(b.metadata.annotations['deployment.kubernetes.io/revision']),
    )
    .at(-1);
  return newest?.metadata?.labels?.['pod-template-hash'];
}
