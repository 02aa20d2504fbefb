/**
 * From rendered objects to an apply plan: objects grouped per component (by the label
 * `app.kubernetes.io/name`), ordered within a component by kind, components in dependency waves.
 */
import { dependencyWaves } from '../catalog/resolve.ts';
import type { Component, Stack } from '../catalog/types.ts';
import { COMPONENT_LABEL } from '../manifests/ownership.ts';
import type { KubeObject } from '../manifests/render.ts';

export { COMPONENT_LABEL };

/** Apply phases within a component; lower first. */
const PHASES: [number, string, readonly string[]][] = [
  [0, 'namespace', ['Namespace', 'CustomResourceDefinition', 'PriorityClass']],
  [
    1,
    'config',
    ['Secret', 'ConfigMap', 'ServiceAccount', 'Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding'],
  ],
  [2, 'storage', ['StorageClass', 'PersistentVolume', 'PersistentVolumeClaim']],
  [3, 'service', ['Service']],
  [4, 'policy', ['NetworkPolicy', 'PodDisruptionBudget', 'LimitRange', 'ResourceQuota']],
  [5, 'workload', ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Pod']],
  [6, 'job', ['Job', 'CronJob']],
];
const OTHER_PHASE = 7; // Ingress, HPA, custom resources: after what they refer to

export function applyPhase(kind: string): number {
  return PHASES.find(([, , kinds]) => kinds.includes(kind))?.[0] ?? OTHER_PHASE;
}

export function phaseName(kind: string): string {
  return PHASES.find(([, , kinds]) => kinds.includes(kind))?.[1] ?? 'other';
}

const CLUSTER_SCOPED = new Set([
  'Namespace',
  'CustomResourceDefinition',
  'PriorityClass',
  'ClusterRole',
  'ClusterRoleBinding',
  'StorageClass',
  'PersistentVolume',
]);

export const isClusterScoped = (kind: string): boolean => CLUSTER_SCOPED.has(kind);

/** Stable sort by phase; ties keep the rendered order. */
export function orderObjects(objects: readonly KubeObject[]): KubeObject[] {
  return objects
    .map((o, i) => ({ o, i }))
    .sort((a, b) => applyPhase(a.o.kind) - applyPhase(b.o.kind) || a.i - b.i)
    .map(({ o }) => o);
}

/** `Kind/name` or `Kind/namespace/name`, for messages and map keys. */
export function objectKey(o: Pick<KubeObject, 'kind' | 'metadata'>): string {
  return o.metadata.namespace
    ? `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`
    : `${o.kind}/${o.metadata.name}`;
}

/** A live object the deploy waits for. */
export interface WaitTarget {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
}

export interface PlannedComponent {
  name: string;
  /** Dependencies inside this plan. */
  dependsOn: string[];
  /** Objects in apply order. */
  objects: KubeObject[];
  /** Workloads, standalone PVCs and Services with a selector: what "ready" is judged on. */
  waitFor: WaitTarget[];
  /** Per-component deadline from the catalog (`readyTimeout`), ms. */
  readyTimeout?: string;
}

export interface Plan {
  namespace: string;
  /** Objects without a component label (the Namespace, shared config): applied first. */
  shared: KubeObject[];
  /** Each wave depends only on earlier waves; its components may be applied and waited on in parallel. */
  waves: PlannedComponent[][];
  /** Things worth a warning (catalog workloads missing from the manifests, unknown labels). */
  warnings: string[];
}

const WAITED_KINDS = new Set([
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'Job',
  'PersistentVolumeClaim',
  'Service',
]);

/** Builds the plan for already-resolved components (dependencies included, dependencies first). */
export function buildPlan(
  stack: Stack,
  components: readonly Component[],
  rendered: readonly KubeObject[],
): Plan {
  const selected = new Set(components.map((c) => c.name));
  const warnings: string[] = [];
  const shared: KubeObject[] = [];
  const byComponent = new Map<string, KubeObject[]>();
  for (const raw of rendered) {
    const o = withNamespace(raw, stack.namespace);
    const owner = o.metadata.labels?.[COMPONENT_LABEL];
    if (owner === undefined) {
      shared.push(o);
    } else if (!(owner in stack.components)) {
      warnings.push(
        `${objectKey(o)} is labelled ${COMPONENT_LABEL}=${owner}, which is not a catalog component; not applied`,
      );
    } else if (selected.has(owner)) {
      byComponent.set(owner, [...(byComponent.get(owner) ?? []), o]);
    }
  }
  const planned = new Map<string, PlannedComponent>();
  for (const c of components) {
    const objects = orderObjects(byComponent.get(c.name) ?? []);
    if (objects.length === 0)
      warnings.push(`component ${c.name} has no objects labelled ${COMPONENT_LABEL}=${c.name}`);
    for (const w of c.workloads) {
      if (!objects.some((o) => o.kind === w.kind && o.metadata.name === w.name))
        warnings.push(
          `component ${c.name}: catalog workload ${w.kind}/${w.name} is not in the rendered manifests`,
        );
    }
    planned.set(c.name, {
      name: c.name,
      dependsOn: c.dependsOn.filter((d) => selected.has(d)),
      objects,
      waitFor: objects.filter(isWaited).map((o) => ({
        apiVersion: o.apiVersion,
        kind: o.kind,
        namespace: o.metadata.namespace ?? stack.namespace,
        name: o.metadata.name,
      })),
      ...(c.readyTimeout ? { readyTimeout: c.readyTimeout } : {}),
    });
  }
  return {
    namespace: stack.namespace,
    shared: orderObjects(shared),
    waves: dependencyWaves(components).map((wave) => wave.map((c) => planned.get(c.name)!)),
    warnings,
  };
}

function isWaited(o: KubeObject): boolean {
  if (!WAITED_KINDS.has(o.kind)) return false;
  // a Service without a selector has no managed EndpointSlices to judge it by
  if (o.kind === 'Service') {
    const spec = o.spec as { selector?: Record<string, string>; type?: string } | undefined;
    return !!spec?.selector && Object.keys(spec.selector).length > 0 && spec.type !== 'ExternalName';
  }
  return true;
}

function withNamespace(o: KubeObject, namespace: string): KubeObject {
  if (isClusterScoped(o.kind) || o.metadata.namespace) return o;
  return { ...o, metadata: { ...o.metadata, namespace } };
}

/** Every object in apply order, shared first then wave by wave: what `kindling plan` prints. */
export function planSequence(plan: Plan): { component: string; wave: number; object: KubeObject }[] {
  const out = plan.shared.map((object) => ({ component: '(shared)', wave: 0, object }));
  plan.waves.forEach((wave, i) => {
    for (const c of wave)
      for (const object of c.objects) out.push({ component: c.name, wave: i + 1, object });
  });
  return out;
}
