import type { Finding, Path } from './findings.ts';
import { showObject, text } from './findings.ts';
import {
  asArray,
  CLUSTER_SCOPED,
  containersOf,
  dataKeys,
  isRecord,
  objectKey,
  type PodTemplate,
  podTemplate,
  str,
  stringMap,
} from './objects.ts';
import type { KubeObject } from './render.ts';

/** Checks that objects which name each other find each other, all in the stack's namespace. */
export function referenceFindings(objects: readonly KubeObject[], namespace: string): Finding[] {
  const byKey = new Map(objects.map((o) => [objectKey(o.kind, o.metadata.namespace, o.metadata.name), o]));
  const templates = objects.map(podTemplate).filter((t): t is PodTemplate => t !== undefined);
  return [
    ...namespaceFindings(objects, namespace),
    ...objects.filter((o) => o.kind === 'Service').flatMap((s) => serviceFindings(s, templates)),
    ...templates.flatMap((t) => sourceRefFindings(t, byKey)),
  ];
}

function namespaceFindings(objects: readonly KubeObject[], namespace: string): Finding[] {
  const out: Finding[] = [];
  for (const o of objects) {
    const ns = o.metadata.namespace;
    const err = (path: Path, message: string) =>
      out.push({ severity: 'error', rule: 'namespace', message, object: o, path });
    if (o.kind === 'Namespace') {
      if (o.metadata.name !== namespace)
        err(['metadata', 'name'], `Namespace ${o.metadata.name} is not the stack's namespace "${namespace}"`);
    } else if (CLUSTER_SCOPED.has(o.kind)) {
      // cluster-scoped: no namespace to check
    } else if (!ns) {
      err(['metadata'], `${showObject(o)} has no namespace; it must be in "${namespace}"`);
    } else if (ns !== namespace) {
      err(
        ['metadata', 'namespace'],
        `${showObject(o)} is in namespace "${ns}", not the stack's "${namespace}"`,
      );
    }
  }
  return out;
}

const selects = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

function serviceFindings(svc: KubeObject, templates: readonly PodTemplate[]): Finding[] {
  const spec = isRecord(svc.spec) ? svc.spec : {};
  if (spec.type === 'ExternalName') return [];
  const selector = stringMap(spec.selector);
  if (Object.keys(selector).length === 0) return []; // a Service without selector is managed by hand
  const ns = svc.metadata.namespace ?? '';
  const chosen = templates.filter(
    (t) => (t.object.metadata.namespace ?? '') === ns && selects(selector, t.labels),
  );
  const shown = Object.entries(selector)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  if (chosen.length === 0) {
    return [
      {
        severity: 'error',
        rule: 'service-selector',
        message: `Service ${svc.metadata.name} selects ${shown}, but no workload's pod template has these labels`,
        object: svc,
        path: ['spec', 'selector'],
      },
    ];
  }
  const containers = chosen.flatMap((t) => containersOf(t).filter((c) => !c.init));
  const declared = containers.flatMap((c) => asArray(c.value.ports).filter(isRecord));
  const out: Finding[] = [];
  asArray(spec.ports).forEach((p, i) => {
    if (!isRecord(p)) return;
    const target = p.targetPort ?? p.port;
    const hasTarget = p.targetPort !== undefined;
    const ok =
      typeof target === 'number'
        ? declared.some((d) => d.containerPort === target)
        : typeof target === 'string'
          ? /^\d+$/.test(target)
            ? declared.some((d) => d.containerPort === Number(target))
            : declared.some((d) => d.name === target)
          : true;
    if (ok) return;
    const names = chosen.map((t) => showObject(t.object)).join(', ');
    const offered = declared.map((d) =>
      d.name ? `${text(d.name)}/${text(d.containerPort)}` : text(d.containerPort),
    );
    out.push({
      severity: 'error',
      rule: 'service-port',
      message: `Service ${svc.metadata.name} port ${text(p.port)} targets ${typeof target === 'string' ? `port name "${target}"` : `port ${text(target)}`}, which no container of ${names} declares (they declare ${offered.join(', ') || 'no ports'})`,
      object: svc,
      path: ['spec', 'ports', i, hasTarget ? 'targetPort' : 'port'],
    });
  });
  return out;
}

interface Ref {
  kind: 'Secret' | 'ConfigMap';
  name: unknown;
  optional: boolean;
  keys: { key: unknown; path: Path }[];
  path: Path;
  what: string;
}

/** Every Secret and ConfigMap a pod template names: env, envFrom and volumes (incl. projected). */
export function podRefs(t: PodTemplate): Ref[] {
  const refs: Ref[] = [];
  for (const c of containersOf(t)) {
    const cname = text(c.value.name ?? '?');
    asArray(c.value.env).forEach((e, i) => {
      if (!isRecord(e) || !isRecord(e.valueFrom)) return;
      for (const [field, kind] of [
        ['secretKeyRef', 'Secret'],
        ['configMapKeyRef', 'ConfigMap'],
      ] as const) {
        const r = e.valueFrom[field];
        if (!isRecord(r)) continue;
        const path = [...c.path, 'env', i, 'valueFrom', field];
        refs.push({
          kind,
          name: r.name,
          optional: r.optional === true,
          keys: [{ key: r.key, path: [...path, 'key'] }],
          path: [...path, 'name'],
          what: `env ${text(e.name)} of container ${cname}`,
        });
      }
    });
    asArray(c.value.envFrom).forEach((e, i) => {
      if (!isRecord(e)) return;
      for (const [field, kind] of [
        ['secretRef', 'Secret'],
        ['configMapRef', 'ConfigMap'],
      ] as const) {
        const r = e[field];
        if (!isRecord(r)) continue;
        refs.push({
          kind,
          name: r.name,
          optional: r.optional === true,
          keys: [],
          path: [...c.path, 'envFrom', i, field, 'name'],
          what: `envFrom of container ${cname}`,
        });
      }
    });
  }
  const volumeRef = (
    kind: Ref['kind'],
    r: Record<string, unknown>,
    nameField: string,
    path: Path,
    what: string,
  ) =>
    refs.push({
      kind,
      name: r[nameField],
      optional: r.optional === true,
      keys: asArray(r.items).flatMap((it, j) =>
        isRecord(it) ? [{ key: it.key, path: [...path, 'items', j, 'key'] }] : [],
      ),
      path: [...path, nameField],
      what,
    });
  asArray(t.spec.volumes).forEach((v, i) => {
    if (!isRecord(v)) return;
    const path = [...t.path, 'spec', 'volumes', i];
    const what = `volume ${text(v.name)}`;
    if (isRecord(v.secret)) volumeRef('Secret', v.secret, 'secretName', [...path, 'secret'], what);
    if (isRecord(v.configMap)) volumeRef('ConfigMap', v.configMap, 'name', [...path, 'configMap'], what);
    if (isRecord(v.projected))
      asArray(v.projected.sources).forEach((s, j) => {
        if (!isRecord(s)) return;
        const sp = [...path, 'projected', 'sources', j];
        if (isRecord(s.secret)) volumeRef('Secret', s.secret, 'name', [...sp, 'secret'], what);
        if (isRecord(s.configMap)) volumeRef('ConfigMap', s.configMap, 'name', [...sp, 'configMap'], what);
      });
  });
  return refs;
}

function sourceRefFindings(t: PodTemplate, byKey: ReadonlyMap<string, KubeObject>): Finding[] {
  const out: Finding[] = [];
  const ns = t.object.metadata.namespace;
  for (const r of podRefs(t)) {
    if (r.optional) continue;
    const name = str(r.name);
    if (!name) continue; // a missing name is a schema problem
    const target = byKey.get(objectKey(r.kind, ns, name));
    const where = `${showObject(t.object)} (${r.what})`;
    if (!target) {
      out.push({
        severity: 'error',
        rule: 'missing-reference',
        message: `${where} uses ${r.kind} ${name}, which is not in the stack`,
        object: t.object,
        path: r.path,
      });
      continue;
    }
    const keys = dataKeys(target);
    for (const k of r.keys) {
      const key = str(k.key);
      if (key && !keys.has(key))
        out.push({
          severity: 'error',
          rule: 'missing-reference',
          message: `${where} uses key "${key}" of ${r.kind} ${name}, which has no such key`,
          object: t.object,
          path: k.path,
        });
    }
  }
  return out;
}
