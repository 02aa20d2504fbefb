/**
 * The upgrade strategies, each a sequence of edge calls around the pure decisions of src/upgrade:
 * rolling (apply, wait, verify, roll back), blue-green (green beside blue, verified through its own
 * Service, switched, switched back on failure) and dump-restore (blue-green filled from a backup).
 * The edges are the cluster (read/apply/remove/revisions/wait/rollback), verify and the fill; tests
 * inject them. Never throws for a failed upgrade: the outcome says what happened and what remains.
 */
import type { Component, Stack } from '../catalog/types.ts';
import type { RollbackResult } from '../kube/rollout.ts';
import type { KubeObject } from '../manifests/render.ts';
import type { Obj } from '../plan/conditions.ts';
import type { VerifyReport } from '../report/results.ts';
import {
  type BlueGreenState,
  blueHash,
  greenComponent,
  greenService,
  greenWorkload,
  keepBlueEnded,
  pinned,
  SLOT_LABEL,
  servicesOf,
  servicesToCopy,
  stateOf,
  switched,
  withState,
} from '../upgrade/blue-green.ts';
import type { ComponentChange } from '../upgrade/diff.ts';
import { workloadObjects } from '../upgrade/images.ts';
import { type ComponentUpgrade, type UpgradeState, upgradeOk } from '../upgrade/outcome.ts';
import { decide, describeLive } from '../upgrade/rollback.ts';
import { errorMessage } from '../util/errors.ts';
import type { FillAndSwitch } from './upgrade-fill.ts';

export interface Readiness {
  ready: boolean;
  reasons: string[];
  elapsedMs: number;
}

export interface UpgradeEdges {
  read(kind: string, name: string): Promise<Obj | undefined>;
  apply(o: KubeObject): Promise<void>;
  remove(o: KubeObject): Promise<void>;
  /** ReplicaSets (Deployment) / ControllerRevisions (StatefulSet) the workload controls. */
  revisions(live: Obj): Promise<Obj[]>;
  waitReady(component: string, workloads: readonly KubeObject[]): Promise<Readiness>;
  verify(components: readonly Component[]): Promise<VerifyReport>;
  rollBack(applied: KubeObject): Promise<RollbackResult>;
  /** dump-restore: fill green from a backup of blue, then call `switchService` if it is alike. */
  fill?(blue: Component, green: Component, switchService: () => Promise<void>): Promise<FillAndSwitch>;
  now?(): number;
  sleep?(ms: number): Promise<void>;
  log?(component: string, message: string): void;
}

export type { ComponentUpgrade, UpgradeState };
export { upgradeOk };

const problems = (r: VerifyReport | undefined): string[] =>
  (r?.results ?? []).filter((x) => x.status === 'fail').map((x) => `${x.component}/${x.check}: ${x.message}`);

/** Components that depend on `name` directly and are deployed (their first workload exists). */
export async function dependents(stack: Stack, name: string, edges: UpgradeEdges): Promise<Component[]> {
  const out: Component[] = [];
  for (const c of Object.values(stack.components)) {
    if (!c.dependsOn.includes(name)) continue;
    const w = c.workloads[0];
    if (w && (await edges.read(w.kind, w.name))) out.push(c);
  }
  return out;
}

interface Ctx {
  stack: Stack;
  component: Component;
  change: ComponentChange;
  desired: readonly KubeObject[];
  edges: UpgradeEdges;
  /** How long blue is kept after a switch (ms), recorded on the Service. */
  keepBlueMs: number;
  /** Blue-green: keep blue this long while re-verifying green, then finish (no `--finish` needed). */
  finishAfterMs?: number;
  /** How often green is re-verified meanwhile (default a quarter of the window, at most 30 s). */
  recheckMs?: number;
}

function base(ctx: Ctx): ComponentUpgrade {
  return {
    component: ctx.component.name,
    strategy: ctx.change.strategy,
    images: ctx.change.workloads.flatMap((w) =>
      w.images.map((i) => ({ workload: `${w.kind}/${w.name}`, ...i })),
    ),
    state: 'failed',
    reasons: [],
    remaining: [],
    notes: [],
  };
}

const changedWorkloads = (ctx: Ctx): KubeObject[] =>
  workloadObjects(ctx.component, ctx.desired).filter((o) =>
    ctx.change.workloads.some((w) => w.kind === o.kind && w.name === o.metadata.name),
  );

async function remaining(ctx: Ctx, objects: readonly KubeObject[]): Promise<string[]> {
  const out: string[] = [];
  for (const o of objects) {
    const ref = `${o.kind}/${o.metadata.name}`;
    try {
      out.push(describeLive(await ctx.edges.read(o.kind, o.metadata.name), ref));
    } catch (err) {
      out.push(`${ref}: cannot read it (${errorMessage(err)})`);
    }
  }
  return out;
}

/** Rolling: apply, wait, verify (with dependents); on failure roll back, wait, verify again. */
export async function rolling(ctx: Ctx): Promise<ComponentUpgrade> {
  const { edges, component } = ctx;
  const out = base(ctx);
  const workloads = changedWorkloads(ctx);
  const log = (m: string) => edges.log?.(component.name, m);
  try {
    for (const w of workloads) {
      await edges.apply(w);
      log(`applied ${w.kind}/${w.metadata.name}`);
    }
  } catch (err) {
    out.reasons.push(`apply: ${errorMessage(err)}`);
    out.remaining = await remaining(ctx, workloads);
    return out;
  }
  const ready = await edges.waitReady(component.name, workloads);
  out.timeToReadyMs = ready.ready ? ready.elapsedMs : undefined;
  const verifyOn = [component, ...(await dependents(ctx.stack, component.name, edges))];
  if (ready.ready) {
    log(`ready; verifying ${verifyOn.map((c) => c.name).join(', ')}`);
    out.verify = await edges.verify(verifyOn);
  }
  const d = decide({
    ready: ready.ready,
    readyReasons: ready.reasons,
    ...(out.verify ? { verifyOk: out.verify.ok, verifyProblems: problems(out.verify) } : {}),
  });
  if (d.action === 'keep') return { ...out, state: 'upgraded' };
  out.reasons.push(...d.why);
  log(`rolling back: ${d.why.join('; ')}`);
  const results = [];
  for (const w of workloads) results.push(await edges.rollBack(w));
  out.notes.push(...results.map((r) => r.message));
  if (results.some((r) => !r.ok)) {
    out.state = 'rollback-failed';
    out.remaining = await remaining(ctx, workloads);
    return out;
  }
  const back = await edges.waitReady(component.name, workloads);
  if (back.ready) out.after = await edges.verify(verifyOn);
  if (back.ready && out.after?.ok) return { ...out, state: 'rolled-back' };
  out.state = 'rollback-failed';
  out.reasons.push(
    ...(back.ready
      ? ['the previous revision fails verify too', ...problems(out.after)]
      : ['the previous revision is not ready', ...back.reasons]),
  );
  out.remaining = await remaining(ctx, workloads);
  return out;
}

/**
 * Blue-green and dump-restore. Blue is never changed; green and the Services are. Until the switch a
 * failure removes green and unpins the Services (back to the manifest's selector, reaching blue);
 * after it, a failing verify switches back to blue.
 */
export async function blueGreen(ctx: Ctx): Promise<ComponentUpgrade> {
  const { edges, component } = ctx;
  const out = base(ctx);
  const log = (m: string) => edges.log?.(component.name, m);
  const [desiredBlue, ...more] = changedWorkloads(ctx);
  if (!desiredBlue || more.length) {
    out.reasons.push(
      `${ctx.change.strategy} upgrades one workload per component (this one changes ${more.length + (desiredBlue ? 1 : 0)})`,
    );
    return out;
  }
  const live = await edges.read(desiredBlue.kind, desiredBlue.metadata.name);
  if (!live) {
    out.reasons.push(`${desiredBlue.kind}/${desiredBlue.metadata.name} is not deployed`);
    return out;
  }
  const main = servicesOf(component, desiredBlue, ctx.desired);
  for (const s of main) {
    const pending = stateOf(await edges.read('Service', s.metadata.name));
    if (pending) {
      const ended = Date.parse(pending.keepUntil) <= (edges.now ?? Date.now)();
      out.reasons.push(
        `Service/${s.metadata.name} is still switched to green (since ${pending.switchedAt}${
          ended ? `; its keep-blue window ended ${pending.keepUntil}` : ''
        }): run kindling upgrade --finish ${component.name} first`,
      );
      return out;
    }
  }
  const copies = servicesToCopy(component, desiredBlue, ctx.desired);
  const renamed = new Set(copies.map((s) => s.metadata.name));
  const hash = blueHash(live, await edges.revisions(live));
  if (!hash) {
    out.reasons.push(
      `cannot tell blue's pods of ${desiredBlue.kind}/${desiredBlue.metadata.name} (no current revision)`,
    );
    return out;
  }
  const green = greenWorkload(desiredBlue, renamed);
  const greenSvcs = copies.map(greenService);
  const unpin = async () => {
    for (const s of main) await edges.apply(s);
  };
  const removeGreen = async (why: string) => {
    log(`removing green: ${why}`);
    for (const o of [green, ...greenSvcs]) await edges.remove(o).catch(() => {});
    await unpin().catch((err) => out.reasons.push(`could not unpin the Services: ${errorMessage(err)}`));
    if (green.kind === 'StatefulSet')
      out.notes.push(`green's PersistentVolumeClaims (*-${green.metadata.name}-*) are kept`);
    out.remaining = await remaining(ctx, [desiredBlue, green]);
  };
  try {
    for (const s of main) await edges.apply(pinned(s, live.kind ?? desiredBlue.kind, hash));
    for (const s of greenSvcs) await edges.apply(s);
    await edges.apply(green);
  } catch (err) {
    out.reasons.push(`creating green: ${errorMessage(err)}`);
    await removeGreen('it could not be created');
    return out;
  }
  const ready = await edges.waitReady(component.name, [green]);
  if (!ready.ready) {
    out.reasons.push('green is not ready', ...ready.reasons);
    await removeGreen('not ready');
    return out;
  }
  out.timeToReadyMs = ready.elapsedMs;
  const asGreen = greenComponent(component, renamed, new Set([desiredBlue.metadata.name]));
  const now = edges.now ?? Date.now;
  const keepUntil = new Date(now() + ctx.keepBlueMs).toISOString();
  const state = (): BlueGreenState => ({
    component: component.name,
    workload: { kind: desiredBlue.kind, name: desiredBlue.metadata.name },
    blue: hash,
    switchedAt: new Date(now()).toISOString(),
    keepUntil,
  });
  const switchAll = async () => {
    for (const s of main) await edges.apply(withState(switched(s), state()));
  };
  if (ctx.change.strategy === 'dump-restore') {
    if (!edges.fill) {
      out.reasons.push('dump-restore needs a backup store (--store)');
      await removeGreen('no store to fill it from');
      return out;
    }
    const f = await edges.fill(component, asGreen, switchAll);
    out.verify = f.fill.greenVerify;
    out.windowMs = f.windowMs;
    out.notes.push(f.window);
    if (!f.switched) {
      out.reasons.push(...f.fill.problems, ...(f.switchError ? [`switch: ${f.switchError}`] : []));
      await removeGreen('the fill did not match blue');
      return out;
    }
  } else {
    out.verify = await edges.verify([asGreen]);
    if (!out.verify.ok) {
      out.reasons.push('green fails verify', ...problems(out.verify));
      await removeGreen('verify failed');
      return out;
    }
    try {
      await switchAll();
    } catch (err) {
      out.reasons.push(`switch: ${errorMessage(err)}`);
      await removeGreen('the switch failed');
      return out;
    }
  }
  log(`switched ${main.map((s) => `Service/${s.metadata.name}`).join(', ')} to green`);
  const deps = await dependents(ctx.stack, component.name, edges);
  const switchBack = async (why: string) => {
    out.reasons.push(why, ...problems(out.after));
    for (const s of main) await edges.apply(pinned(s, desiredBlue.kind, hash)).catch(() => {});
    log('switched back to blue');
    if (ctx.change.strategy === 'dump-restore')
      out.notes.push('writes that reached green after the switch are not in blue');
    await removeGreen('switched back');
    return { ...out, state: 'switched-back' as const };
  };
  out.after = await edges.verify([component, ...deps]);
  if (!out.after.ok) return switchBack('verify after the switch failed');
  if (ctx.finishAfterMs !== undefined && ctx.change.strategy === 'blue-green') {
    // blue kept for the window while green serves, re-verified; then finished without a --finish
    const end = now() + ctx.finishAfterMs;
    const every = ctx.recheckMs ?? Math.min(30_000, Math.max(1, Math.floor(ctx.finishAfterMs / 4)));
    const sleep = edges.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    while (now() < end) {
      await sleep(Math.min(every, Math.max(0, end - now())));
      out.after = await edges.verify([component, ...deps]);
      if (!out.after.ok) return switchBack('verify failed while blue was kept');
    }
    const f = await finish(ctx.stack, component, ctx.desired, edges);
    if (f.state === 'finished')
      return { ...out, after: f.after, state: 'finished', timeToReadyMs: out.timeToReadyMs };
    out.reasons.push('finishing after the keep-blue window failed; green keeps serving', ...f.reasons);
    out.remaining = f.remaining;
    return { ...out, state: 'failed' };
  }
  out.notes.push(
    `blue ${desiredBlue.kind}/${desiredBlue.metadata.name} kept until kindling upgrade --finish ${component.name} (keep until ${keepUntil})`,
  );
  return { ...out, state: 'switched' };
}

/**
 * Keep-blue windows that ended: every blue-green component whose main Service is still switched
 * past its deadline is finished, as `--finish` would, before anything else of this run (its plan
 * then sees blue on green's template).
 */
export async function finishExpired(
  stack: Stack,
  desired: readonly KubeObject[],
  edges: UpgradeEdges,
): Promise<ComponentUpgrade[]> {
  const now = (edges.now ?? Date.now)();
  const out: ComponentUpgrade[] = [];
  for (const c of Object.values(stack.components)) {
    if (c.upgrade?.strategy !== 'blue-green') continue;
    const blue = workloadObjects(c, desired)[0];
    if (!blue) continue;
    let ended: BlueGreenState | undefined;
    for (const svc of servicesOf(c, blue, desired)) {
      const st = stateOf(await edges.read('Service', svc.metadata.name));
      if (st && keepBlueEnded(st, now)) ended = st;
    }
    if (!ended) continue;
    edges.log?.(c.name, `keep-blue window ended ${ended.keepUntil}: finishing`);
    const f = await finish(stack, c, desired, edges);
    out.push({
      ...f,
      notes: [
        `the keep-blue window of the switch at ${ended.switchedAt} ended ${ended.keepUntil}: finished by this run`,
        ...f.notes,
      ],
    });
  }
  return out;
}

/**
 * `--finish` of a blue-green upgrade: blue takes green's template (while green serves), becomes
 * ready, the Services get the manifest's selector back, green goes. A dump-restore is not finished
 * this way (blue holds the old major's data directory).
 */
export async function finish(
  stack: Stack,
  component: Component,
  desired: readonly KubeObject[],
  edges: UpgradeEdges,
): Promise<ComponentUpgrade> {
  const out: ComponentUpgrade = {
    component: component.name,
    strategy: 'finish',
    images: [],
    state: 'failed',
    reasons: [],
    remaining: [],
    notes: [],
  };
  const blue = workloadObjects(component, desired)[0];
  if (!blue) {
    out.reasons.push(`${component.name} has no Deployment or StatefulSet`);
    return out;
  }
  const main = servicesOf(component, blue, desired);
  const states = (
    await Promise.all(main.map(async (s) => stateOf(await edges.read('Service', s.metadata.name))))
  ).filter(Boolean);
  if (!states.length) {
    out.reasons.push(`no blue-green upgrade of ${component.name} to finish (no Service of it is switched)`);
    return out;
  }
  if (component.upgrade?.strategy === 'dump-restore') {
    out.reasons.push(
      `${component.name} was upgraded by dump-restore: blue holds the previous major's data and cannot take green's image; green serves, blue is kept (not finished by kindling yet)`,
    );
    return out;
  }
  const copies = servicesToCopy(component, blue, desired);
  const green = greenWorkload(blue, new Set(copies.map((s) => s.metadata.name)));
  const greenLive = await edges.read(green.kind, green.metadata.name);
  if (!greenLive) {
    out.reasons.push(`${green.kind}/${green.metadata.name} is not on the cluster`);
    return out;
  }
  const template = structuredClone(greenLive.spec.template);
  delete template.metadata?.labels?.[SLOT_LABEL];
  delete template.metadata?.labels?.['pod-template-hash'];
  const next = { ...structuredClone(blue), spec: { ...(blue as Obj).spec, template } } as KubeObject;
  out.images = (template.spec?.containers ?? []).map((c: Obj) => ({
    workload: `${blue.kind}/${blue.metadata.name}`,
    container: c.name,
    to: c.image,
  }));
  await edges.apply(next);
  const ready = await edges.waitReady(component.name, [next]);
  if (!ready.ready) {
    out.reasons.push('blue did not become ready on the new template; green keeps serving', ...ready.reasons);
    out.remaining = await remaining(
      {
        stack,
        component,
        change: { component: component.name, strategy: 'blue-green', workloads: [] },
        desired,
        edges,
        keepBlueMs: 0,
      },
      [next, green],
    );
    return out;
  }
  out.timeToReadyMs = ready.elapsedMs;
  for (const s of main) await edges.apply(s);
  for (const o of [green, ...copies.map(greenService)]) await edges.remove(o);
  out.after = await edges.verify([component]);
  if (!out.after.ok) {
    out.reasons.push('verify after finishing failed', ...problems(out.after));
    return out;
  }
  return { ...out, state: 'finished' };
}
