/**
 * Which component applies an object, and whether everything a workload needs is applied before it.
 *
 * A pod whose env, envFrom or volume names a Secret or ConfigMap that does not exist yet is held by
 * the kubelet in `CreateContainerConfigError` (kubernetes/kubernetes `pkg/kubelet/kubelet_pods.go`
 * makeEnvironmentVariables returns the lookup error; `pkg/kubelet/kuberuntime/kuberuntime_container.go`
 * startContainer turns a generateContainerConfig error into ErrCreateContainerConfig). The deploy
 * applies a component only once its dependencies are ready, so an object owned by a component that
 * is applied later (or by one that depends on the workload's component) is never there in time.
 */
import type { Stack } from '../catalog/types.ts';
import type { Finding, Path } from './findings.ts';
import { showObject, text } from './findings.ts';
import { asArray, isRecord, objectKey, type PodTemplate, podTemplate, str } from './objects.ts';
import { podRefs } from './references.ts';
import type { KubeObject } from './render.ts';

/** The label that assigns an object to its catalog component; unlabelled objects are shared (applied first). */
export const COMPONENT_LABEL = 'app.kubernetes.io/name';

export type Owner = { shared: true } | { shared: false; component: string };

/** Owner of an object as the plan sees it: the component label, or shared when there is none. */
export function ownerOf(o: KubeObject): Owner {
  const label = o.metadata?.labels?.[COMPONENT_LABEL];
  return typeof label === 'string' ? { shared: false, component: label } : { shared: true };
}

/** Every component `name` depends on, directly or not (cycles are reported elsewhere). */
export function transitiveDependencies(stack: Pick<Stack, 'components'>, name: string): Set<string> {
  const out = new Set<string>();
  const todo = [...(stack.components[name]?.dependsOn ?? [])];
  while (todo.length) {
    const d = todo.pop()!;
    if (out.has(d)) continue;
    out.add(d);
    todo.push(...(stack.components[d]?.dependsOn ?? []));
  }
  return out;
}

export interface ObjectRef {
  kind: 'Secret' | 'ConfigMap' | 'PersistentVolumeClaim' | 'ServiceAccount';
  name: string;
  optional: boolean;
  path: Path;
  what: string;
}

/**
 * Everything a pod template needs to exist before its pods can start: Secrets and ConfigMaps (env,
 * envFrom, volumes, projected volumes), PVCs of `persistentVolumeClaim` volumes, the ServiceAccount
 * and imagePullSecrets. (volumeClaimTemplates are created by the StatefulSet controller itself.)
 */
export function requiredObjects(t: PodTemplate): ObjectRef[] {
  const out: ObjectRef[] = [];
  for (const r of podRefs(t)) {
    const name = str(r.name);
    if (name) out.push({ kind: r.kind, name, optional: r.optional, path: r.path, what: r.what });
  }
  const spec = t.spec;
  asArray(spec.volumes).forEach((v, i) => {
    if (!isRecord(v) || !isRecord(v.persistentVolumeClaim)) return;
    const name = str(v.persistentVolumeClaim.claimName);
    if (name)
      out.push({
        kind: 'PersistentVolumeClaim',
        name,
        optional: false,
        path: [...t.path, 'spec', 'volumes', i, 'persistentVolumeClaim', 'claimName'],
        what: `volume ${text(v.name)}`,
      });
  });
  // "default" is created in every namespace by the ServiceAccount controller
  const sa = str(spec.serviceAccountName) ?? str(spec.serviceAccount);
  if (sa && sa !== 'default')
    out.push({
      kind: 'ServiceAccount',
      name: sa,
      optional: false,
      path: [
        ...t.path,
        'spec',
        spec.serviceAccountName !== undefined ? 'serviceAccountName' : 'serviceAccount',
      ],
      what: 'serviceAccountName',
    });
  asArray(spec.imagePullSecrets).forEach((s, i) => {
    const name = isRecord(s) ? str(s.name) : undefined;
    if (name)
      out.push({
        kind: 'Secret',
        name,
        optional: false,
        path: [...t.path, 'spec', 'imagePullSecrets', i, 'name'],
        what: 'imagePullSecrets',
      });
  });
  return out;
}

/**
 * Rule `ownership`: every object a workload requires belongs to the workload's own component, to
 * the shared objects (unlabelled, applied first), or to one of its transitive dependencies.
 * Missing objects are the `missing-reference` rule's business; this one is about apply order.
 */
export function ownershipFindings(
  objects: readonly KubeObject[],
  stack: Pick<Stack, 'components'>,
): Finding[] {
  const byKey = new Map(objects.map((o) => [objectKey(o.kind, o.metadata.namespace, o.metadata.name), o]));
  const out: Finding[] = [];
  for (const o of objects) {
    const t = podTemplate(o);
    if (!t) continue;
    const owner = ownerOf(o);
    const deps = owner.shared ? new Set<string>() : transitiveDependencies(stack, owner.component);
    const who = owner.shared
      ? `${showObject(o)} (shared)`
      : `${showObject(o)} (component ${owner.component})`;
    for (const r of requiredObjects(t)) {
      if (r.optional) continue;
      const target = byKey.get(objectKey(r.kind, o.metadata.namespace, r.name));
      if (!target) continue;
      const theirs = ownerOf(target);
      if (theirs.shared) continue;
      if (!owner.shared && (theirs.component === owner.component || deps.has(theirs.component))) continue;
      const known = theirs.component in stack.components;
      const why = !known
        ? `which is labelled ${COMPONENT_LABEL}=${theirs.component}, not a catalog component, so it is never applied`
        : owner.shared
          ? `which belongs to component ${theirs.component}, applied after the shared objects`
          : `which belongs to component ${theirs.component}, not one of ${owner.component}'s dependencies (${[...deps].join(', ') || 'none'}), so it may not exist when the pod starts`;
      out.push({
        severity: 'error',
        rule: 'ownership',
        message: `${who}: ${r.what} uses ${r.kind} ${r.name}, ${why}; the kubelet would hold the pod in CreateContainerConfigError. Move it to ${owner.shared ? 'the shared objects' : `component ${owner.component} or the shared objects`}, or make ${owner.shared ? 'it unlabelled' : `${owner.component} depend on ${theirs.component}`}`,
        object: o,
        path: r.path,
      });
    }
  }
  return out;
}
