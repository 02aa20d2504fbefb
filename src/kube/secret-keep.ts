/**
 * Deploy keeps the Secret keys a rotation set (pure decisions; the reading is deploy.ts's).
 *
 * `kindling rotate --target kube` applies one key as `data.KEY` under its own field manager
 * (src/rotate/kube.ts). The manifests set it as `stringData.KEY`, which the API server folds into
 * `data` after the server-side-apply merge (kubernetes/kubernetes pkg/apis/core/v1/conversion.go
 * Convert_v1_Secret_To_core_Secret, run after staging/…/managedfields/internal/structuredmerge.go
 * Apply merged the v1 objects), so deploy owns `f:stringData.f:KEY` and the rotation `f:data.f:KEY`:
 * different paths, no conflict (kubernetes-sigs/structured-merge-diff merge/update.go), and a
 * re-applied manifest silently writes the old value back. The managedFields still say who set the
 * key last, so deploy reads them and leaves out every key the rotation owns: the rotated value
 * stays, and a key deploy stops sending is not pruned (kubernetes/kubernetes#108008: a dropped
 * stringData key prunes nothing stored; a data key owned by another manager is never pruned).
 */
import type { Plan } from '../plan/order.ts';
import { ROTATE_FIELD_MANAGER } from '../rotate/kube.ts';
import type { Need } from './permissions.ts';

// biome-ignore lint/suspicious/noExplicitAny: API objects are open JSON
type Obj = Record<string, any>;

export interface KeptKeys {
  keys: string[];
  manager: string;
  /** managedFields `time`: that manager's last apply to the Secret. */
  time?: string;
}

export interface SecretKeep {
  /** What to apply: the desired Secret without the kept keys (the same object when none). */
  object: Obj;
  kept: KeptKeys[];
}

const isSecret = (o: Obj) => o.apiVersion === 'v1' && o.kind === 'Secret';
const isMap = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);

/** The data keys `manager` owns in a live object's managedFields (`f:data.f:K` or `f:stringData.f:K`). */
export function keysOwnedBy(live: Obj, manager: string): { keys: Set<string>; time?: string } {
  const keys = new Set<string>();
  let time: string | undefined;
  for (const e of (live.metadata?.managedFields ?? []) as Obj[]) {
    if (e.manager !== manager || !isMap(e.fieldsV1)) continue;
    for (const field of ['f:data', 'f:stringData'])
      for (const k of Object.keys(isMap(e.fieldsV1[field]) ? e.fieldsV1[field] : {}))
        if (k.startsWith('f:')) keys.add(k.slice(2));
    if (typeof e.time === 'string' && (!time || e.time > time)) time = e.time;
  }
  return { keys, ...(time ? { time } : {}) };
}

/**
 * The Secret deploy should apply, given the live one (undefined: it does not exist, nothing to
 * keep). A key is kept when a keeper owns it and the live Secret still holds it; it leaves both
 * `data` and `stringData` (either would overwrite it), and a map left empty goes too.
 */
export function keepRotatedKeys(
  desired: Obj,
  live: Obj | undefined,
  keepers: readonly string[] = [ROTATE_FIELD_MANAGER],
): SecretKeep {
  if (!isSecret(desired) || !live) return { object: desired, kept: [] };
  const held = new Set(Object.keys(isMap(live.data) ? live.data : {}));
  const wanted = new Set([
    ...Object.keys(isMap(desired.data) ? desired.data : {}),
    ...Object.keys(isMap(desired.stringData) ? desired.stringData : {}),
  ]);
  const kept: KeptKeys[] = [];
  const drop = new Set<string>();
  for (const manager of keepers) {
    const owned = keysOwnedBy(live, manager);
    const keys = [...owned.keys].filter((k) => held.has(k) && wanted.has(k) && !drop.has(k)).sort();
    if (!keys.length) continue;
    for (const k of keys) drop.add(k);
    kept.push({ keys, manager, ...(owned.time ? { time: owned.time } : {}) });
  }
  if (!drop.size) return { object: desired, kept };
  const object: Obj = { ...desired };
  for (const field of ['data', 'stringData']) {
    if (!isMap(desired[field])) continue;
    const rest = Object.fromEntries(Object.entries(desired[field]).filter(([k]) => !drop.has(k)));
    if (Object.keys(rest).length) object[field] = rest;
    else delete object[field];
  }
  return { object, kept };
}

/** `Secret redis-secret: kept REDIS_PASSWORD (rotated by kindling-rotate at T)` — key names only, never values. */
export function keptNote(name: string, kept: readonly KeptKeys[]): string | undefined {
  if (!kept.length) return undefined;
  const parts = kept.map(
    (k) => `kept ${k.keys.join(', ')} (rotated by ${k.manager}${k.time ? ` at ${k.time}` : ''})`,
  );
  return `Secret ${name}: ${parts.join('; ')}`;
}

/** Reading the live Secrets is part of every deploy that applies one (dry runs too): `get secrets`. */
export function secretReadNeeds(plan: Plan): Need[] {
  const objects = [...plan.shared, ...plan.waves.flat().flatMap((c) => c.objects)];
  const namespaces = new Set(objects.filter(isSecret).map((o) => o.metadata.namespace ?? plan.namespace));
  return [...namespaces].map((namespace) => ({
    verb: 'get',
    apiVersion: 'v1',
    kind: 'Secret',
    namespace,
    why: 'keep the keys kindling rotate set',
  }));
}
