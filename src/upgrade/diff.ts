/**
 * What an upgrade changes, per workload, before anything is applied (pure): old image → new image
 * per container, and every other field of the spec the apply would change. The live object carries
 * the API server's defaults (imagePullPolicy, terminationMessagePath, …), so only the fields the
 * desired object writes are compared: a default the manifest does not mention is no change.
 */
import type { Component, UpgradeSpec } from '../catalog/types.ts';
import type { KubeObject } from '../manifests/render.ts';
import type { Obj } from '../plan/conditions.ts';
import { workloadObjects } from './images.ts';

export interface ImageChange {
  container: string;
  /** Undefined when the container is new. */
  from?: string;
  to: string;
}

export interface WorkloadChange {
  kind: string;
  name: string;
  /** False: the workload is not on the cluster (an upgrade needs a deployed one). */
  deployed: boolean;
  images: ImageChange[];
  /** Other spec fields that change, as paths (`spec.template.spec.containers[postgres].resources.limits.memory`). */
  other: string[];
}

export interface ComponentChange {
  component: string;
  strategy: UpgradeSpec['strategy'];
  workloads: WorkloadChange[];
}

/** A name-keyed list (containers, env, ports, volumes) is compared item by name, not by position. */
const keyOf = (item: unknown): string | undefined =>
  item && typeof item === 'object' && typeof (item as Obj).name === 'string' ? (item as Obj).name : undefined;

function diffInto(path: string, want: unknown, have: unknown, out: string[]): void {
  if (Array.isArray(want)) {
    if (!Array.isArray(have)) {
      out.push(path);
      return;
    }
    const named = want.every((w) => keyOf(w) !== undefined);
    want.forEach((w, i) => {
      const h = named ? have.find((x) => keyOf(x) === keyOf(w)) : have[i];
      diffInto(`${path}[${named ? keyOf(w) : i}]`, w, h, out);
    });
    if (!named && have.length !== want.length) out.push(`${path} (length ${have.length} → ${want.length})`);
    return;
  }
  if (want && typeof want === 'object') {
    if (!have || typeof have !== 'object') {
      out.push(path);
      return;
    }
    for (const [k, v] of Object.entries(want)) diffInto(path ? `${path}.${k}` : k, v, (have as Obj)[k], out);
    return;
  }
  // `500m` and `0.5` are one quantity, but a changed quantity is what the user wants to see either way
  if (String(want) !== String(have)) out.push(path);
}

/** Field paths of `desired.spec` that differ from `live.spec`, image fields excluded. */
export function specChanges(desired: Obj, live: Obj): string[] {
  const out: string[] = [];
  diffInto('spec', desired.spec ?? {}, live.spec ?? {}, out);
  return out.filter((p) => !/^spec\.template\.spec\.(init)?[cC]ontainers\[[^\]]+\]\.image$/.test(p));
}

export function imageChanges(desired: Obj, live: Obj | undefined): ImageChange[] {
  const out: ImageChange[] = [];
  for (const field of ['initContainers', 'containers']) {
    const have: Obj[] = live?.spec?.template?.spec?.[field] ?? [];
    for (const c of (desired.spec?.template?.spec?.[field] ?? []) as Obj[]) {
      const old = have.find((h) => h.name === c.name);
      if (old?.image === c.image) continue;
      out.push({ container: c.name, ...(old ? { from: old.image } : {}), to: c.image });
    }
  }
  return out;
}

/**
 * The change of each component's workloads, live (read from the cluster, keyed `Kind/name`) against
 * desired (rendered + `--set`). Components whose workloads do not change are left out.
 */
export function planChanges(
  components: readonly Component[],
  desired: readonly KubeObject[],
  live: ReadonlyMap<string, Obj>,
): ComponentChange[] {
  const out: ComponentChange[] = [];
  for (const component of components) {
    const workloads: WorkloadChange[] = [];
    for (const want of workloadObjects(component, desired)) {
      const have = live.get(`${want.kind}/${want.metadata.name}`);
      const images = imageChanges(want, have);
      const other = have ? specChanges(want, have) : [];
      if (have && !images.length && !other.length) continue;
      workloads.push({ kind: want.kind, name: want.metadata.name, deployed: Boolean(have), images, other });
    }
    if (workloads.length)
      out.push({ component: component.name, strategy: strategyOf(component, workloads), workloads });
  }
  return out;
}

/** The leading number of an image's tag (`postgres:16.6-alpine` → 16); undefined when it has none. */
export function majorOf(image: string | undefined): number | undefined {
  const tag = (image ?? '').split('@')[0]?.split('/').at(-1)?.split(':')[1];
  const m = tag ? /^v?(\d+)/.exec(tag) : null;
  return m ? Number(m[1]) : undefined;
}

/**
 * The catalog's strategy, except that a `majorOnly` one applies only when some image's major version
 * changes (or cannot be told): a minor update rolls.
 */
export function strategyOf(
  component: Component,
  workloads: readonly WorkloadChange[],
): UpgradeSpec['strategy'] {
  const spec = component.upgrade;
  if (!spec) return 'rolling';
  if (!spec.majorOnly) return spec.strategy;
  const images = workloads.flatMap((w) => w.images);
  const major = images.some((i) => majorOf(i.from) === undefined || majorOf(i.from) !== majorOf(i.to));
  return major ? spec.strategy : 'rolling';
}

/** The plan as lines, for the console and `--dry-run`. */
export function planLines(changes: readonly ComponentChange[]): string[] {
  if (!changes.length) return ['nothing to upgrade: every workload already runs what the manifests say'];
  const lines: string[] = [];
  for (const c of changes) {
    lines.push(`${c.component} (${c.strategy}):`);
    for (const w of c.workloads) {
      lines.push(`  ${w.kind}/${w.name}${w.deployed ? '' : ' — not deployed (run kindling deploy first)'}`);
      for (const i of w.images) lines.push(`    ${i.container}: ${i.from ?? '(new container)'} → ${i.to}`);
      for (const p of w.other) lines.push(`    changes ${p}`);
    }
  }
  return lines;
}
