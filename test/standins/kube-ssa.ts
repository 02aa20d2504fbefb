/**
 * Server-side apply field ownership for the API stand-in (kube-api.ts). Stand-in code, written from:
 * - kubernetes-sigs/structured-merge-diff README and kubernetes.io/docs/reference/using-api/
 *   server-side-apply/: each manager owns the set of fields it last applied; applying a field whose
 *   value differs from the live one while another manager owns it is a conflict unless `force`
 *   (then the field moves to the applier); the same value is shared ownership; a field the applier
 *   owned and no longer applies is removed when no other manager owns it; maps merge key by key,
 *   `listType=map` lists merge item by item on their keys, other lists are atomic.
 * - kubernetes/kubernetes `staging/src/k8s.io/apimachinery/pkg/util/managedfields/internal/
 *   conflict.go` NewConflictError: 409 Conflict Status, `Apply failed with 1 conflict: conflict with
 *   "M": .path` (several: `Apply failed with N conflicts: conflicts with "M":\n- .a\n- .b`), one
 *   cause per field (`FieldManagerConflict`, `conflict with "M"`, field = the path);
 *   `…/internal/stripmeta.go`: apiVersion, kind and metadata name, namespace, uid, resourceVersion,
 *   generation, creationTimestamp, managedFields are owned by nobody; status is reset by the
 *   resources' strategies (ResetFieldsStrategy), so an apply to the main resource owns none of it.
 * - managedFields entries as `FieldsV1` (`f:<field>`, `k:{"key":…}` for a keyed item, `.` for the
 *   item itself): sigs.k8s.io/structured-merge-diff `fieldpath/serialize.go`.
 * - list keys from k8s.io/api `core/v1/types.go` (`+listType=map`/`+listMapKey` or the merge key):
 *   containers, initContainers, env, volumes by `name`; container ports by containerPort+protocol;
 *   Service ports by port+protocol; volumeMounts by mountPath.
 * - Secret `stringData` (kubernetes/kubernetes `pkg/apis/core/v1/conversion.go`
 *   Convert_v1_Secret_To_core_Secret; `…/managedfields/internal/structuredmerge.go` Apply): the
 *   merge and the ownership are computed on the v1 objects, then the result is converted to the
 *   internal type, where each stringData key overwrites data's (base64 on the wire) and stringData
 *   is gone (core.Secret has no such field: never stored, never read back). So an applier of
 *   `stringData.K` owns `f:stringData.f:K`, never `f:data.f:K`; its apply overwrites a `data.K`
 *   another manager owns without a conflict (structured-merge-diff `merge/update.go` compares the v1
 *   objects: the paths differ), and that manager keeps owning `data.K`; a `stringData.K` the
 *   applier drops prunes nothing stored, so `data.K` stays (kubernetes/kubernetes#108008).
 * Not modelled: Update-operation managers (the stand-in takes only apply), sets, unions, versions.
 */

// biome-ignore lint/suspicious/noExplicitAny: API objects are open JSON
type Obj = Record<string, any>;
/** A path segment: a map key, or a keyed list item (its key fields). */
type Seg = string | { key: Obj };
type FieldSet = Map<string, Seg[]>;

const NAMED = new Set(['containers', 'initContainers', 'ephemeralContainers', 'env', 'volumes']);

/** The key fields of a `listType=map` list, or undefined for an atomic list. */
function listKeys(field: string, items: unknown[]): string[] | undefined {
  if (!items.every((i) => i && typeof i === 'object' && !Array.isArray(i))) return undefined;
  if (NAMED.has(field)) return ['name'];
  if (field === 'volumeMounts') return ['mountPath'];
  if (field === 'ports')
    return (items as Obj[]).every((p) => 'containerPort' in p)
      ? ['containerPort', 'protocol']
      : ['port', 'protocol'];
  return undefined;
}

// protocol defaults to TCP (core/v1 defaults.go), so an item without it is the TCP one
const keyOf = (item: Obj, keys: string[]): Obj =>
  Object.fromEntries(keys.map((k) => [k, item[k] ?? (k === 'protocol' ? 'TCP' : undefined)]));
const sameKey = (item: Obj, key: Obj) => Object.keys(key).every((k) => keyOf(item, [k])[k] === key[k]);
const isMap = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);
const id = (segs: Seg[]) => JSON.stringify(segs);

/** `.spec.template.spec.containers[name="db"].image`, as fieldpath.Path prints it. */
export function pathString(segs: Seg[]): string {
  return segs
    .map((s) =>
      typeof s === 'string'
        ? `.${s}`
        : `[${Object.entries(s.key)
            .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
            .join(',')}]`,
    )
    .join('');
}

/** The fields an applied configuration sets: leaves, and each keyed item itself. */
export function fieldsOf(config: Obj): FieldSet {
  const out: FieldSet = new Map();
  const walk = (v: unknown, segs: Seg[], field: string) => {
    if (isMap(v) && Object.keys(v).length) {
      for (const [k, c] of Object.entries(v)) walk(c, [...segs, k], k);
      return;
    }
    const keys = Array.isArray(v) && v.length ? listKeys(field, v) : undefined;
    if (!keys) {
      if (segs.length) out.set(id(segs), segs);
      return;
    }
    for (const item of v as Obj[]) {
      const itemSegs = [...segs, { key: keyOf(item, keys) }];
      out.set(id(itemSegs), itemSegs);
      for (const [k, c] of Object.entries(item)) walk(c, [...itemSegs, k], k);
    }
  };
  walk(strip(config), [], '');
  return out;
}

function strip(o: Obj): Obj {
  const { apiVersion: _a, kind: _k, status: _s, metadata, ...rest } = o;
  const {
    name: _n,
    namespace: _ns,
    uid: _u,
    resourceVersion: _rv,
    generation: _g,
    creationTimestamp: _c,
    managedFields: _m,
    ...meta
  } = metadata ?? {};
  return Object.keys(meta).length ? { ...rest, metadata: meta } : rest;
}

function lookup(o: unknown, segs: Seg[]): { found: boolean; value?: unknown } {
  let cur: unknown = o;
  for (const s of segs) {
    if (typeof s === 'string') {
      if (!isMap(cur) || !(s in cur)) return { found: false };
      cur = cur[s];
    } else {
      const item = Array.isArray(cur) ? cur.find((i) => isMap(i) && sameKey(i, s.key)) : undefined;
      if (!item) return { found: false };
      cur = item;
    }
  }
  return { found: true, value: cur };
}

function remove(o: Obj, segs: Seg[]): void {
  const parent = lookup(o, segs.slice(0, -1));
  const last = segs.at(-1)!;
  if (!parent.found) return;
  if (typeof last === 'string') {
    if (isMap(parent.value)) delete parent.value[last];
  } else if (Array.isArray(parent.value)) {
    const i = parent.value.findIndex((x) => isMap(x) && sameKey(x, last.key));
    if (i >= 0) parent.value.splice(i, 1);
  }
}

/** Applied values into the live object: maps by key, keyed lists by item, everything else replaced. */
function merge(live: unknown, applied: unknown, field: string): unknown {
  if (isMap(applied)) {
    const out: Obj = isMap(live) ? { ...live } : {};
    for (const [k, v] of Object.entries(applied)) out[k] = merge(out[k], v, k);
    return out;
  }
  const keys = Array.isArray(applied) && applied.length ? listKeys(field, applied) : undefined;
  if (!keys || !Array.isArray(live)) return structuredClone(applied);
  const out = [...live];
  for (const item of applied as Obj[]) {
    const i = out.findIndex((x) => isMap(x) && sameKey(x, keyOf(item, keys)));
    if (i >= 0) out[i] = merge(out[i], item, '');
    else out.push(structuredClone(item));
  }
  return out;
}

/** FieldsV1 tree of a field set (`f:`, `k:`, `.`). */
export function toFieldsV1(set: FieldSet): Obj {
  const root: Obj = {};
  for (const segs of set.values()) {
    let node = root;
    segs.forEach((s, i) => {
      const k = typeof s === 'string' ? `f:${s}` : `k:${JSON.stringify(s.key)}`;
      node[k] ??= {};
      node = node[k];
      if (i === segs.length - 1 && typeof s !== 'string') node['.'] = {};
    });
  }
  return root;
}

export function fromFieldsV1(tree: Obj): FieldSet {
  const out: FieldSet = new Map();
  const walk = (node: Obj, segs: Seg[]) => {
    const children = Object.keys(node).filter((k) => k !== '.');
    if ('.' in node || children.length === 0) if (segs.length) out.set(id(segs), segs);
    for (const k of children)
      walk(node[k], [...segs, k.startsWith('k:') ? { key: JSON.parse(k.slice(2)) } : k.slice(2)]);
  };
  walk(tree, []);
  return out;
}

export interface Conflict {
  manager: string;
  path: string;
}

/** The 409 Status NewConflictError builds. */
export function conflictStatus(conflicts: Conflict[]): Obj {
  let message: string;
  if (conflicts.length === 1)
    message = `Apply failed with 1 conflict: conflict with "${conflicts[0]!.manager}": ${conflicts[0]!.path}`;
  else {
    const managers = [...new Set(conflicts.map((c) => c.manager))].sort();
    const lines = managers.flatMap((m) => [
      `conflicts with "${m}":`,
      ...conflicts.filter((c) => c.manager === m).map((c) => `- ${c.path}`),
    ]);
    message = `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
  }
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason: 'Conflict',
    details: {
      causes: conflicts.map((c) => ({
        reason: 'FieldManagerConflict',
        message: `conflict with "${c.manager}"`,
        field: c.path,
      })),
    },
    code: 409,
  };
}

/** The conversion to the stored Secret: stringData's keys overwrite data's, base64; stringData goes. */
function foldStringData(secret: Obj): void {
  if (!isMap(secret.stringData)) return;
  const data: Obj = isMap(secret.data) ? secret.data : {};
  for (const [k, v] of Object.entries(secret.stringData))
    data[k] = Buffer.from(String(v), 'utf8').toString('base64');
  secret.data = data;
  delete secret.stringData;
}

export type ApplyResult = { object: Obj } | { conflict: Obj };

/**
 * One apply of `config` by `manager` onto `existing` (undefined: a create). Returns the merged
 * object with its managedFields, or the 409 Status. Identity metadata is the caller's.
 */
export function serverSideApply(
  existing: Obj | undefined,
  config: Obj,
  manager: string,
  force: boolean,
  now = new Date(),
): ApplyResult {
  const applied = fieldsOf(config);
  const entries = ((existing?.metadata?.managedFields ?? []) as Obj[]).map((e) => ({
    entry: e,
    set: fromFieldsV1(e.fieldsV1 ?? {}),
  }));
  const mine = entries.find((e) => e.entry.manager === manager && e.entry.operation === 'Apply');
  const others = entries.filter((e) => e !== mine);
  const conflicts: (Conflict & { owner: (typeof others)[number]; id: string })[] = [];
  for (const [pid, segs] of applied) {
    if (typeof segs.at(-1) !== 'string') continue; // an item's existence is not a value
    const want = lookup(strip(config), segs).value;
    const live = lookup(existing, segs);
    if (live.found && JSON.stringify(live.value) === JSON.stringify(want)) continue;
    if (isMap(want) && isMap(live.value)) continue; // an (empty) map merges into the live one
    for (const o of others)
      if (o.set.has(pid))
        conflicts.push({ manager: o.entry.manager, path: pathString(segs), owner: o, id: pid });
  }
  if (conflicts.length && !force) return { conflict: conflictStatus(conflicts) };
  for (const c of conflicts) c.owner.set.delete(c.id);

  const object: Obj = structuredClone(existing ?? {});
  // fields this manager applied before and no longer does, owned by nobody else: removed; a keyed
  // item before its fields (its key fields find it)
  const stale = [...(mine?.set ?? new Map<string, Seg[]>())]
    .filter(([pid]) => !applied.has(pid) && !others.some((o) => o.set.has(pid)))
    .map(([, segs]) => segs)
    .sort((a, b) => a.length - b.length);
  for (const segs of stale) remove(object, segs);
  // a map left empty by a removal goes too (a probe's tcpSocket whose port went), deepest first;
  // one the config applies comes back in the merge below
  for (const segs of [...stale].reverse())
    for (let i = segs.length - 1; i > 0; i--) {
      const parent = lookup(object, segs.slice(0, i));
      if (!parent.found || !isMap(parent.value) || Object.keys(parent.value).length) break;
      remove(object, segs.slice(0, i));
    }
  const merged = merge(object, strip(config), '') as Obj;
  if (config.apiVersion === 'v1' && config.kind === 'Secret') foldStringData(merged);

  const managedFields = [
    ...others.filter((o) => o.set.size).map((o) => ({ ...o.entry, fieldsV1: toFieldsV1(o.set) })),
    {
      manager,
      operation: 'Apply',
      apiVersion: config.apiVersion,
      time: now.toISOString().replace(/\.\d+Z$/, 'Z'),
      fieldsType: 'FieldsV1',
      fieldsV1: toFieldsV1(applied),
    },
  ];
  merged.metadata = { ...(merged.metadata ?? {}), managedFields };
  return { object: merged };
}
