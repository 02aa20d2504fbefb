/**
 * `upgrade`: new images (`--set COMPONENT[/CONTAINER]=IMAGE`) or a changed manifest tree
 * (`--manifests DIR`) → a plan per workload (old → new), shown before anything is applied
 * (`--dry-run` stops there) → each changed component upgraded by its catalog strategy
 * (src/app/upgrade-run.ts) → one outcome. `--finish COMPONENT` ends a blue-green upgrade.
 * Every setting is checked before the cluster is touched (exit 2).
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { COMPRESSIONS } from '../backup/compression.ts';
import type { Component, Stack } from '../catalog/types.ts';
import type { KubeObject } from '../manifests/render.ts';
import { renderChecked } from '../manifests/validate.ts';
import type { Obj } from '../plan/conditions.ts';
import { probes } from '../probes/registry.ts';
import { type ComponentChange, planChanges } from '../upgrade/diff.ts';
import { applySets, type ImageSet, parseSets, workloadObjects } from '../upgrade/images.ts';
import { FailedError, UsageError } from '../util/errors.ts';
import { loadCatalog } from './catalog.ts';
import {
  bool,
  choice,
  duration,
  fromFlag,
  invalid,
  list,
  named,
  type Setting,
  speaking,
} from './settings.ts';
import { checkSizing, readRendered } from './sizing.ts';
import { checkStore, connectStore, type StoreSettings } from './store.ts';
import { kubeconfigSource } from './target.ts';
import {
  blueGreen,
  type ComponentUpgrade,
  finish,
  finishExpired,
  rolling,
  type UpgradeEdges,
  upgradeOk,
} from './upgrade-run.ts';
import { POST_DEPLOY_VERIFY_TIMEOUT } from './verify.ts';

export interface UpgradeSettings extends StoreSettings {
  catalog: Setting<string>;
  /** A changed manifest tree: a directory holding `stack.yaml`, or a catalog file. */
  manifests: Setting<string | undefined>;
  sets: Setting<string | readonly string[] | undefined>;
  /** Components whose blue-green upgrade to finish. */
  finish: Setting<string | readonly string[] | undefined>;
  sizing: Setting<string | undefined>;
  rendered?: Setting<string | undefined>;
  /** Readiness deadline of each component (a catalog `readyTimeout` wins). */
  timeout: Setting<string>;
  verifyTimeout?: Setting<string | undefined>;
  keepBlue: Setting<string | undefined>;
  /** Blue-green: keep blue this long while re-verifying green, then finish. */
  finishAfter?: Setting<string | undefined>;
  dryRun: Setting<string | boolean>;
  compression?: Setting<string>;
  kubeconfig: Setting<string | undefined>;
  context: Setting<string | undefined>;
}

export const UPGRADE_FLAGS = {
  catalog: '--catalog',
  manifests: '--manifests',
  sets: '--set',
  finish: '--finish',
  sizing: '--sizing',
  rendered: '--rendered',
  timeout: '--timeout',
  keepBlue: '--keep-blue',
  finishAfter: '--finish-after',
  dryRun: '--dry-run',
  kubeconfig: '--kubeconfig',
  context: '--context',
  store: '--store',
  s3Endpoint: '--s3-endpoint',
} as const;

export interface CheckedUpgrade {
  stack: Stack;
  sets: ImageSet[];
  finish: string[];
  sizing: string;
  rendered?: KubeObject[];
  timeoutMs: number;
  verifyTimeoutMs: number;
  keepBlueMs?: number;
  finishAfterMs?: number;
  dryRun: boolean;
  /** The components the plan looks at: those named by --set/--finish, or all (a changed tree). */
  scope: Component[];
}

/** The catalog of a changed tree: `DIR/stack.yaml`, or the file itself. */
function catalogOf(s: UpgradeSettings): Setting<string> {
  const dir = s.manifests.value;
  if (!dir) return s.catalog;
  if (!existsSync(dir)) throw invalid(s.manifests, `no such directory: ${dir}`);
  const file = statSync(dir).isDirectory() ? join(dir, 'stack.yaml') : dir;
  if (!existsSync(file))
    throw invalid(s.manifests, `${dir} holds no stack.yaml (the catalog of the changed tree)`);
  return { value: file, origin: s.manifests.origin };
}

/** Every setting checked, nothing touched (pure but for reading the catalog and --rendered). */
export function checkUpgrade(s: UpgradeSettings): CheckedUpgrade {
  const stack = loadCatalog(catalogOf(s));
  const setValues = list(s.sets);
  const finishNames = list(s.finish);
  if (!setValues.length && !s.manifests.value && !finishNames.length)
    throw invalid(
      s.sets,
      'nothing to upgrade: give --set COMPONENT=IMAGE, --manifests DIR or --finish COMPONENT',
    );
  if (finishNames.length && (setValues.length || s.manifests.value))
    throw invalid(s.finish, 'finishes an upgrade already switched; it takes no --set or --manifests');
  const sets = parseSets(setValues, stack, named(s.sets));
  for (const f of finishNames)
    if (!stack.components[f]) throw invalid(s.finish, `no component "${f}" in the catalog`);
  for (const c of Object.values(stack.components))
    for (const check of c.upgrade?.compare ?? []) {
      const probe = probes[check.type];
      const bad = probe
        ? probe.validate(check)
        : [{ path: ['type'], message: `unknown check type ${check.type}` }];
      if (bad.length)
        throw new UsageError(
          `${c.name}: upgrade.compare ${check.name}: ${bad.map((b) => `${b.path.join('.')}: ${b.message}`).join('; ')}`,
          stack.file,
        );
    }
  const [sizing, rendered] = [checkSizing(stack, s.sizing), readRendered(s.rendered)];
  if (s.compression) choice(s.compression, COMPRESSIONS, 'zstd');
  const named_ = new Set([...sets.map((x) => x.component), ...finishNames]);
  const scope = named_.size
    ? Object.values(stack.components).filter((c) => named_.has(c.name))
    : Object.values(stack.components);
  return {
    stack,
    sets,
    finish: finishNames,
    sizing,
    ...(rendered ? { rendered } : {}),
    timeoutMs: duration(s.timeout, '10m'),
    verifyTimeoutMs: duration(
      s.verifyTimeout
        ? { value: s.verifyTimeout.value ?? '', origin: s.verifyTimeout.origin }
        : fromFlag('--verify-timeout', ''),
      POST_DEPLOY_VERIFY_TIMEOUT,
    ),
    ...(s.keepBlue.value ? { keepBlueMs: duration(s.keepBlue as Setting<string>) } : {}),
    ...(s.finishAfter?.value ? { finishAfterMs: duration(s.finishAfter as Setting<string>) } : {}),
    dryRun: bool(s.dryRun),
    scope,
  };
}

export interface UpgradeOutcome {
  changes: ComponentChange[];
  components: ComponentUpgrade[];
  dryRun: boolean;
  ok: boolean;
  error?: Error;
}

const keepBlueOf = (c: Component, checked: CheckedUpgrade): number =>
  checked.keepBlueMs ?? duration(fromFlag(`upgrade.keepBlue of ${c.name}`, c.upgrade?.keepBlue ?? ''), '1h');

/** The plan and, unless a dry run, the upgrade itself, with the edges given (pure orchestration). */
export async function runUpgrade(
  checked: CheckedUpgrade,
  desired: readonly KubeObject[],
  edges: UpgradeEdges,
  hasStore: boolean,
  /** Called with the plan before anything is applied. */
  onPlan?: (changes: ComponentChange[]) => void,
): Promise<UpgradeOutcome> {
  const { stack } = checked;
  if (checked.finish.length) {
    const components: ComponentUpgrade[] = [];
    for (const name of checked.finish)
      components.push(await finish(stack, stack.components[name]!, desired, edges));
    return outcome([], components, false);
  }
  // a keep-blue window that ended is acted on first (not in a dry run, which touches nothing)
  const expired = checked.dryRun ? [] : await finishExpired(stack, desired, edges);
  const live = new Map<string, Obj>();
  for (const c of checked.scope)
    for (const w of workloadObjects(c, desired)) {
      const o = await edges.read(w.kind, w.metadata.name);
      if (o) live.set(`${w.kind}/${w.metadata.name}`, o);
    }
  // a changed tree upgrades what is deployed; a component named by --set must be deployed
  const deployed = (c: Component) =>
    workloadObjects(c, desired).every((w) => live.has(`${w.kind}/${w.metadata.name}`));
  const scope = checked.sets.length ? checked.scope : checked.scope.filter(deployed);
  const changes = planChanges(scope, desired, live);
  const missing = changes.flatMap((c) =>
    c.workloads.filter((w) => !w.deployed).map((w) => `${c.component}: ${w.kind}/${w.name}`),
  );
  onPlan?.(changes);
  edges.log?.('(plan)', `${changes.length} component(s) to upgrade`);
  if (missing.length)
    throw new UsageError(
      `not deployed, so nothing to upgrade (run kindling deploy first): ${missing.join(', ')}`,
    );
  if (checked.sets.length && !changes.length)
    edges.log?.('(plan)', 'every --set image is already the one running');
  if (checked.dryRun) return outcome(changes, [], true);
  if (!hasStore && changes.some((c) => c.strategy === 'dump-restore'))
    throw new UsageError(
      `${changes
        .filter((c) => c.strategy === 'dump-restore')
        .map((c) => c.component)
        .join(', ')} upgrade by dump-restore: a backup store is required`,
      '--store',
    );
  const components: ComponentUpgrade[] = [...expired];
  for (const change of changes) {
    if (components.some((u) => !upgradeOk(u))) {
      components.push({
        component: change.component,
        strategy: change.strategy,
        images: change.workloads.flatMap((w) =>
          w.images.map((i) => ({ workload: `${w.kind}/${w.name}`, ...i })),
        ),
        state: 'skipped',
        reasons: ['an earlier component of this upgrade failed'],
        remaining: [],
        notes: [],
      });
      continue;
    }
    const component = stack.components[change.component]!;
    const ctx = {
      stack,
      component,
      change,
      desired,
      edges,
      keepBlueMs: keepBlueOf(component, checked),
      ...(checked.finishAfterMs !== undefined ? { finishAfterMs: checked.finishAfterMs } : {}),
    };
    components.push(change.strategy === 'rolling' ? await rolling(ctx) : await blueGreen(ctx));
  }
  return outcome(changes, components, false);
}

function outcome(
  changes: ComponentChange[],
  components: ComponentUpgrade[],
  dryRun: boolean,
): UpgradeOutcome {
  const ok = components.every(upgradeOk);
  const failed = components.filter((u) => !upgradeOk(u));
  return {
    changes,
    components,
    dryRun,
    ok,
    ...(ok
      ? {}
      : {
          error: new FailedError(
            `upgrade failed: ${failed.map((u) => `${u.component} ${u.state}`).join(', ')}`,
            failed.flatMap((u) => [
              ...u.reasons.map((r) => `${u.component}: ${r}`),
              ...u.remaining.map((r) => `${u.component}: remains ${r}`),
            ]),
          ),
        }),
  };
}

/** The edges on a real cluster (client-node loads here only). */
export async function kubeEdges(
  kc: KubeConfig,
  checked: CheckedUpgrade,
  s: UpgradeSettings,
  log?: (component: string, message: string) => void,
): Promise<{ edges: UpgradeEdges; hasStore: boolean }> {
  const [
    { KubeClient },
    { ClusterWatch, waitForComponent },
    { rollBack, revisionsOf },
    { connectKubeCluster },
    { kubeTarget },
    { verifyStack },
  ] = await Promise.all([
    import('../kube/client.ts'),
    import('../kube/wait.ts'),
    import('../kube/rollout.ts'),
    import('../kube/cluster.ts'),
    import('../targets/kube.ts'),
    import('./verify.ts'),
  ]);
  const cluster = await connectKubeCluster(kc);
  const client = new KubeClient(kc);
  const ns = checked.stack.namespace;
  const apiVersionOf = (kind: string) => (kind === 'Service' ? 'v1' : 'apps/v1');
  const hasStore = Boolean(s.store.value);
  const verifyOn = (stack: Stack, components: readonly Component[]) =>
    verifyStack({
      stack,
      components,
      target: 'kube',
      cluster,
      timeoutMs: checked.verifyTimeoutMs,
      namespaceChecks: false,
    });
  const edges: UpgradeEdges = {
    read: async (kind, name) => {
      const o = await client.read(apiVersionOf(kind), kind, ns, name);
      return o ? { kind, ...o } : undefined;
    },
    apply: async (o) => {
      await client.apply(o);
    },
    remove: (o) => client.delete(o, { propagationPolicy: 'Background' }),
    revisions: (live) => revisionsOf(client, { ...live, metadata: { ...live.metadata, namespace: ns } }),
    rollBack: (o) => rollBack(client, o),
    waitReady: async (component, workloads) => {
      const targets = workloads.map((o) => ({
        apiVersion: o.apiVersion,
        kind: o.kind,
        namespace: o.metadata.namespace ?? ns,
        name: o.metadata.name,
      }));
      const watch = new ClusterWatch(client);
      try {
        await watch.ensure(targets);
        const readyTimeout = checked.stack.components[component]?.readyTimeout;
        const r = await waitForComponent(component, targets, watch, {
          timeoutMs: readyTimeout
            ? duration(fromFlag(`readyTimeout of ${component}`, readyTimeout))
            : checked.timeoutMs,
          onProgress: (v) => log?.(component, v.state === 'ready' ? 'ready' : v.reasons.join('; ')),
        });
        return { ready: r.verdict.state === 'ready', reasons: r.verdict.reasons, elapsedMs: r.elapsedMs };
      } finally {
        await watch.stop();
      }
    },
    verify: (components) => verifyOn(checked.stack, components),
    ...(log ? { log } : {}),
  };
  if (hasStore) {
    const { store, location } = connectStore(checkStore(s));
    const compression = s.compression ? choice(s.compression, COMPRESSIONS, 'zstd') : 'zstd';
    const { fillAndSwitch } = await import('./upgrade-fill.ts');
    edges.fill = async (blue, green, switchService) => {
      const target = kubeTarget(cluster, ns);
      try {
        return await fillAndSwitch(
          {
            stack: checked.stack,
            blue,
            green,
            source: target,
            dest: target,
            store,
            location,
            compression,
            timeoutMs: checked.verifyTimeoutMs,
            log: (l) => log?.(blue.name, l),
          },
          switchService,
        );
      } finally {
        await target.close();
      }
    };
  }
  return { edges, hasStore };
}

/** `upgrade` on a cluster from a kubeconfig: the plan always, the upgrade unless `--dry-run`. */
export async function upgrade(
  s: UpgradeSettings,
  hooks: {
    log?: (component: string, message: string) => void;
    onPlan?: (changes: ComponentChange[]) => void;
  } = {},
  edgesFor?: (checked: CheckedUpgrade) => Promise<{ edges: UpgradeEdges; hasStore: boolean }>,
): Promise<UpgradeOutcome> {
  return speaking(s, UPGRADE_FLAGS, async () => {
    const checked = checkUpgrade(s);
    if (s.store.value) checkStore(s);
    const objects = checked.rendered ?? (await renderChecked(checked.stack.file, checked.sizing));
    const desired = applySets(checked.stack, objects, checked.sets, '--set');
    const { edges, hasStore } = edgesFor
      ? await edgesFor(checked)
      : await (async () => {
          const { loadKubeConfig } = await import('../kube/config.ts');
          const src = kubeconfigSource(s.kubeconfig);
          const kc = loadKubeConfig({ ...src, ...(s.context.value ? { context: s.context.value } : {}) });
          return kubeEdges(kc, checked, s, hooks.log);
        })();
    return runUpgrade(checked, desired, edges, hasStore, hooks.onPlan);
  });
}
