import { type Path, text } from './findings.ts';
import type { KubeObject } from './render.ts';

/** Kinds that live outside any namespace (the ones a stack may plausibly carry). */
export const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'PersistentVolume',
  'StorageClass',
  'CustomResourceDefinition',
  'PriorityClass',
  'IngressClass',
  'RuntimeClass',
  'CSIDriver',
  'ValidatingWebhookConfiguration',
  'MutatingWebhookConfiguration',
  'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding',
  'APIService',
  'Node',
]);

export const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Object identity as kustomize and the API server see it. */
export function objectKey(kind: unknown, namespace: unknown, name: unknown): string {
  return `${text(kind)}/${namespace ? text(namespace) : ''}/${text(name)}`;
}

export const keyOf = (o: KubeObject): string => objectKey(o.kind, o.metadata?.namespace, o.metadata?.name);

/** Whether a value has the shape every check relies on: kind and metadata.name as strings. */
export function isKubeObject(v: unknown): v is KubeObject {
  return (
    isRecord(v) && typeof v.kind === 'string' && isRecord(v.metadata) && typeof v.metadata.name === 'string'
  );
}

export interface Container {
  value: Record<string, unknown>;
  path: Path;
  init: boolean;
}

/** The pod template of a workload, wherever its kind keeps it. */
export interface PodTemplate {
  object: KubeObject;
  path: Path;
  labels: Record<string, string>;
  spec: Record<string, unknown>;
  /** Long-running pods need probes; a Job's pods run to completion. */
  longRunning: boolean;
}

const TEMPLATE_PATHS: Record<string, { path: Path; longRunning: boolean }> = {
  Deployment: { path: ['spec', 'template'], longRunning: true },
  StatefulSet: { path: ['spec', 'template'], longRunning: true },
  DaemonSet: { path: ['spec', 'template'], longRunning: true },
  ReplicaSet: { path: ['spec', 'template'], longRunning: true },
  Job: { path: ['spec', 'template'], longRunning: false },
  CronJob: { path: ['spec', 'jobTemplate', 'spec', 'template'], longRunning: false },
};

export function get(root: unknown, path: readonly (string | number)[]): unknown {
  let v = root;
  for (const seg of path) {
    if (Array.isArray(v) && typeof seg === 'number') v = v[seg];
    else if (isRecord(v) && Object.hasOwn(v, seg)) v = v[seg];
    else return undefined;
  }
  return v;
}

export function podTemplate(o: KubeObject): PodTemplate | undefined {
  if (o.kind === 'Pod') {
    return {
      object: o,
      path: [],
      labels: stringMap(o.metadata?.labels),
      spec: isRecord(o.spec) ? o.spec : {},
      longRunning: true,
    };
  }
  const where = TEMPLATE_PATHS[o.kind];
  if (!where) return undefined;
  const t = get(o, where.path);
  if (!isRecord(t)) return undefined;
  return {
    object: o,
    path: where.path,
    labels: stringMap(get(t, ['metadata', 'labels'])),
    spec: isRecord(t.spec) ? t.spec : {},
    longRunning: where.longRunning,
  };
}

export function containersOf(t: PodTemplate): Container[] {
  const out: Container[] = [];
  for (const [field, init] of [
    ['initContainers', true],
    ['containers', false],
  ] as const) {
    asArray(t.spec[field]).forEach((c, i) => {
      if (isRecord(c)) out.push({ value: c, path: [...t.path, 'spec', field, i], init });
    });
  }
  return out;
}

export function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (isRecord(v))
    for (const [k, x] of Object.entries(v))
      if (typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean') out[k] = String(x);
  return out;
}

/** Secret values as text: `stringData` as written, `data` base64-decoded. */
export function secretValues(o: KubeObject): { key: string; value: string; path: Path }[] {
  const out: { key: string; value: string; path: Path }[] = [];
  if (isRecord(o.data))
    for (const [k, v] of Object.entries(o.data))
      if (typeof v === 'string')
        out.push({ key: k, value: Buffer.from(v, 'base64').toString('utf8'), path: ['data', k] });
  if (isRecord(o.stringData))
    for (const [k, v] of Object.entries(o.stringData))
      if (v !== null && v !== undefined) out.push({ key: k, value: text(v), path: ['stringData', k] });
  return out;
}

/** Keys an object of kind Secret or ConfigMap provides. */
export function dataKeys(o: KubeObject): Set<string> {
  const keys = new Set<string>();
  for (const f of ['data', 'stringData', 'binaryData']) {
    const m = o[f];
    if (isRecord(m)) for (const k of Object.keys(m)) keys.add(k);
  }
  return keys;
}
