// `kindling upgrade` use case against the API stand-in (test/standins/kube-api.ts): the real
// KubeClient edges (read, server-side apply, delete, revisions, rollback), with readiness and verify
// injected — no Deployment controller or kubelet runs here (test/sim has none for Deployments yet).
// A stand-in revision controller, named as such, writes what the Deployment and StatefulSet
// controllers would: a ReplicaSet per distinct template with `deployment.kubernetes.io/revision`
// (kubernetes pkg/controller/deployment/sync.go getNewReplicaSet) and a ControllerRevision per
// distinct template with `.revision` (pkg/controller/statefulset/stateful_set_utils.go newRevision),
// and puts the pin label on the pods' template hash.
import { createHash } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fromFlag } from '../../src/app/settings.ts';
import { type CheckedUpgrade, checkUpgrade, runUpgrade } from '../../src/app/upgrade.ts';
import type { Readiness, UpgradeEdges } from '../../src/app/upgrade-run.ts';
import type { Component } from '../../src/catalog/types.ts';
import { KubeClient } from '../../src/kube/client.ts';
import { revisionsOf, rollBack } from '../../src/kube/rollout.ts';
import type { KubeObject } from '../../src/manifests/render.ts';
import { renderChecked } from '../../src/manifests/validate.ts';
import type { Obj } from '../../src/plan/conditions.ts';
import { type CheckResult, summarise, type VerifyReport } from '../../src/report/results.ts';
import { SLOT_LABEL, STATE_ANNOTATION } from '../../src/upgrade/blue-green.ts';
import { REVISION_ANNOTATION } from '../../src/upgrade/rollback.ts';
import { UsageError } from '../../src/util/errors.ts';
import { KubeApiStandin } from '../standins/kube-api.ts';

const NS = 'voiceassistant-infra';
let rendered: KubeObject[];
beforeAll(async () => {
  rendered = await renderChecked('manifests/stack.yaml', 'kind');
}, 60_000);

const hash = (t: unknown) => createHash('sha256').update(JSON.stringify(t)).digest('hex').slice(0, 10);

/** Stand-in revision controller: a ReplicaSet / ControllerRevision per distinct template. */
function revisionController(api: KubeApiStandin): void {
  api.listeners.add((type, o) => {
    if (type === 'DELETED' || (o.kind !== 'Deployment' && o.kind !== 'StatefulSet')) return;
    const kind = o.kind === 'Deployment' ? 'ReplicaSet' : 'ControllerRevision';
    const template = o.spec.template;
    const h = hash(template);
    const existing = api
      .list('apps/v1', kind, NS)
      .filter((r) => r.metadata.ownerReferences?.[0]?.uid === o.metadata.uid);
    const revision = (r: Obj) =>
      Number(kind === 'ReplicaSet' ? r.metadata.annotations[REVISION_ANNOTATION] : r.revision);
    const next = Math.max(0, ...existing.map(revision)) + 1;
    const same = existing.find((r) => r.metadata.name === `${o.metadata.name}-${h}`);
    // a rollback to an old template re-numbers that revision to the newest, as both controllers do
    if (same && revision(same) === next - 1) return;
    const owner = {
      apiVersion: 'apps/v1',
      kind: o.kind,
      name: o.metadata.name,
      uid: o.metadata.uid,
      controller: true,
    };
    const meta = { name: `${o.metadata.name}-${h}`, namespace: NS, ownerReferences: [owner] };
    setImmediate(() =>
      api.put(
        kind === 'ReplicaSet'
          ? {
              apiVersion: 'apps/v1',
              kind,
              metadata: {
                ...meta,
                labels: { ...template.metadata.labels, 'pod-template-hash': h },
                annotations: { [REVISION_ANNOTATION]: String(next) },
              },
              spec: {
                template: {
                  ...template,
                  metadata: {
                    ...template.metadata,
                    labels: { ...template.metadata.labels, 'pod-template-hash': h },
                  },
                },
              },
            }
          : {
              apiVersion: 'apps/v1',
              kind,
              // labelled with the template's labels and the hash (pkg/controller/history NewControllerRevision)
              metadata: {
                ...meta,
                labels: { ...template.metadata.labels, 'controller.kubernetes.io/hash': h },
              },
              revision: next,
              data: { spec: { template: { ...template, $patch: 'replace' } } },
            },
      ),
    );
    if (o.kind === 'StatefulSet' && o.status?.currentRevision === undefined)
      setImmediate(() =>
        api.setStatus('apps/v1', 'StatefulSet', NS, o.metadata.name, {
          currentRevision: `${o.metadata.name}-${h}`,
        }),
      );
  });
}

const imageOf = (o: Obj | undefined) => o?.spec?.template?.spec?.containers?.[0]?.image as string | undefined;

interface World {
  api: KubeApiStandin;
  edges: UpgradeEdges;
  /** Images that never become ready / that fail verify. */
  neverReady: Set<string>;
  failVerify: Set<string>;
  verified: string[][];
  applied: string[];
}

let api: KubeApiStandin | undefined;
afterEach(async () => {
  await api?.stop();
  api = undefined;
});

const result = (component: string, ok: boolean, where: string): CheckResult => ({
  component,
  check: 'health',
  type: 'http',
  status: ok ? 'pass' : 'fail',
  attempts: 1,
  durationMs: 1,
  message: ok ? `ok via ${where}` : `HTTP 500 via ${where}`,
  history: [],
});

async function world(deployed: readonly [string, string][]): Promise<World> {
  api = await new KubeApiStandin().start();
  api.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  revisionController(api);
  const client = new KubeClient(api.kubeConfig());
  for (const [kind, name] of deployed) {
    for (const o of rendered.filter((x) => x.kind === kind && x.metadata.name === name))
      await client.apply(o);
  }
  for (const s of rendered.filter((x) => x.kind === 'Service')) await client.apply(s);
  await new Promise((r) => setTimeout(r, 50));
  const w: World = {
    api,
    neverReady: new Set(),
    failVerify: new Set(),
    verified: [],
    applied: [],
    edges: undefined as never,
  };
  const read = async (kind: string, name: string): Promise<Obj | undefined> => {
    const o = await client.read(kind === 'Service' ? 'v1' : 'apps/v1', kind, NS, name);
    return o ? { kind, ...o } : undefined;
  };
  w.edges = {
    read,
    apply: async (o) => {
      w.applied.push(`${o.kind}/${o.metadata.name}`);
      await client.apply(o);
      await new Promise((r) => setTimeout(r, 20)); // the stand-in controller writes its revision
    },
    remove: (o) => client.delete(o),
    revisions: (live) => revisionsOf(client, { ...live, metadata: { ...live.metadata, namespace: NS } }),
    rollBack: async (o) => {
      const r = await rollBack(client, o);
      await new Promise((res) => setTimeout(res, 20));
      return r;
    },
    waitReady: async (_c, workloads): Promise<Readiness> => {
      const reasons: string[] = [];
      for (const o of workloads) {
        const image = imageOf(await read(o.kind, o.metadata.name));
        if (image && w.neverReady.has(image))
          reasons.push(`${o.kind}/${o.metadata.name}: ImagePullBackOff (${image})`);
      }
      return { ready: reasons.length === 0, reasons, elapsedMs: 7 };
    },
    verify: async (components: readonly Component[]): Promise<VerifyReport> => {
      w.verified.push(components.map((c) => c.name));
      const results: CheckResult[] = [];
      for (const c of components) {
        // what a check through the component's first endpoint's Service would reach
        const svcName = c.endpoints[0]?.service ?? c.name;
        const svc = await read('Service', svcName);
        const sel: Record<string, string> = svc?.spec?.selector ?? {};
        const wl = c.workloads[0]!;
        const green =
          sel[SLOT_LABEL] === 'green'
            ? await read(wl.kind, `${wl.name.replace(/-green$/, '')}-green`)
            : undefined;
        const target = green ?? (await read(wl.kind, wl.name));
        const image = imageOf(target) ?? '';
        results.push(result(c.name, !w.failVerify.has(image), `Service/${svcName} → ${image}`));
      }
      return summarise({ target: 'kube', namespace: NS, startedAt: '', durationMs: 1 }, results, []);
    },
  };
  return w;
}

function checked(over: Partial<Record<string, unknown>> = {}): CheckedUpgrade {
  return checkUpgrade({
    catalog: fromFlag('--catalog', 'manifests/stack.yaml'),
    manifests: fromFlag('--manifests', undefined),
    sets: fromFlag('--set', (over.sets as string[]) ?? []),
    finish: fromFlag('--finish', (over.finish as string[]) ?? []),
    sizing: fromFlag('--sizing', undefined),
    timeout: fromFlag('--timeout', '10m'),
    keepBlue: fromFlag('--keep-blue', undefined),
    dryRun: fromFlag('--dry-run', Boolean(over.dryRun)),
    kubeconfig: fromFlag('--kubeconfig', undefined),
    context: fromFlag('--context', undefined),
    store: fromFlag('--store', undefined),
    s3Endpoint: fromFlag('--s3-endpoint', undefined),
  });
}

import { applySets } from '../../src/upgrade/images.ts';

const desiredFor = (c: CheckedUpgrade) => applySets(c.stack, rendered, c.sets);
const rendersImage = (kind: string, name: string) =>
  imageOf(rendered.find((o) => o.kind === kind && o.metadata.name === name))!;

describe('kindling upgrade, rolling (API stand-in, readiness and verify injected)', () => {
  it('--dry-run: the plan (old → new) and nothing applied', async () => {
    const w = await world([['Deployment', 'kafka-exporter']]);
    const c = checked({ sets: ['kafka-exporter=danielqsj/kafka-exporter:v1.9.0'], dryRun: true });
    let shown: unknown;
    const out = await runUpgrade(c, desiredFor(c), w.edges, false, (p) => {
      shown = p;
    });
    expect(out.dryRun).toBe(true);
    expect(out.components).toEqual([]);
    expect(w.applied).toEqual([]);
    expect(shown).toEqual(out.changes);
    expect(out.changes[0]!.workloads[0]!.images).toEqual([
      {
        container: 'kafka-exporter',
        from: rendersImage('Deployment', 'kafka-exporter'),
        to: 'danielqsj/kafka-exporter:v1.9.0',
      },
    ]);
  });

  it('an upgrade that passes: applied, ready, verified; the new image stays', async () => {
    const w = await world([['Deployment', 'kafka-exporter']]);
    const c = checked({ sets: ['kafka-exporter=danielqsj/kafka-exporter:v1.9.0'] });
    const out = await runUpgrade(c, desiredFor(c), w.edges, false);
    expect(out.ok).toBe(true);
    expect(out.components[0]).toMatchObject({
      component: 'kafka-exporter',
      state: 'upgraded',
      timeToReadyMs: 7,
    });
    expect(imageOf(w.api.get('apps/v1', 'Deployment', NS, 'kafka-exporter'))).toBe(
      'danielqsj/kafka-exporter:v1.9.0',
    );
    expect(w.verified).toEqual([['kafka-exporter']]);
  });

  it('a new image that never becomes ready: rolled back to the previous ReplicaSet, verified again, not ok', async () => {
    const w = await world([['Deployment', 'kafka-exporter']]);
    w.neverReady.add('danielqsj/kafka-exporter:v9.9.9');
    const c = checked({ sets: ['kafka-exporter=danielqsj/kafka-exporter:v9.9.9'] });
    const out = await runUpgrade(c, desiredFor(c), w.edges, false);
    expect(out.ok).toBe(false);
    const u = out.components[0]!;
    expect(u.state).toBe('rolled-back');
    expect(u.reasons).toEqual([
      'not ready',
      'Deployment/kafka-exporter: ImagePullBackOff (danielqsj/kafka-exporter:v9.9.9)',
    ]);
    expect(u.notes[0]).toMatch(
      /^Deployment\/kafka-exporter rolled back to the template of ReplicaSet\/kafka-exporter-\w+ \(revision 1\)$/,
    );
    expect(u.verify).toBeUndefined(); // never ready: not verified
    expect(u.after?.ok).toBe(true); // the previous revision, verified
    expect(imageOf(w.api.get('apps/v1', 'Deployment', NS, 'kafka-exporter'))).toBe(
      rendersImage('Deployment', 'kafka-exporter'),
    );
    expect(out.error?.message).toContain('upgrade failed: kafka-exporter rolled-back');
  });

  it('ready but failing verify: rolled back (StatefulSet: the previous ControllerRevision), both reports kept', async () => {
    const w = await world([['StatefulSet', 'redis']]);
    w.failVerify.add('redis:7.4.2-alpine');
    const c = checked({ sets: ['redis=redis:7.4.2-alpine'] });
    const out = await runUpgrade(c, desiredFor(c), w.edges, false);
    const u = out.components[0]!;
    expect(u.state, JSON.stringify(u)).toBe('rolled-back');
    expect(u.reasons[0]).toBe('verify failed');
    expect(u.reasons[1]).toContain('redis/health: HTTP 500 via Service/redis → redis:7.4.2-alpine');
    expect(u.verify?.ok).toBe(false);
    expect(u.after?.ok).toBe(true);
    expect(u.notes[0]).toMatch(
      /^StatefulSet\/redis rolled back to the template of ControllerRevision\/redis-\w+ \(revision 1\)$/,
    );
    expect(imageOf(w.api.get('apps/v1', 'StatefulSet', NS, 'redis'))).toBe(
      rendersImage('StatefulSet', 'redis'),
    );
  });

  it('a rollback that cannot happen (no previous revision): rollback-failed, and what remains is stated', async () => {
    const w = await world([['StatefulSet', 'redis']]);
    w.failVerify.add('redis:7.4.2-alpine');
    // the history is gone (revisionHistoryLimit, or someone deleted it)
    w.api.listeners.add((type, o) => {
      if (o.kind === 'ControllerRevision' && type === 'ADDED')
        setImmediate(() => w.api.remove('apps/v1', 'ControllerRevision', NS, o.metadata.name));
    });
    for (const r of w.api.list('apps/v1', 'ControllerRevision', NS))
      w.api.remove('apps/v1', 'ControllerRevision', NS, r.metadata.name);
    const c = checked({ sets: ['redis=redis:7.4.2-alpine'] });
    const out = await runUpgrade(c, desiredFor(c), w.edges, false);
    const u = out.components[0]!;
    expect(u.state).toBe('rollback-failed');
    expect(u.notes).toEqual(['StatefulSet/redis: no last revision to roll back to']);
    expect(u.remaining).toEqual([expect.stringMatching(/^StatefulSet\/redis: redis=redis:7\.4\.2-alpine/)]);
    expect(out.error?.message).toContain('redis: remains StatefulSet/redis: redis=redis:7.4.2-alpine');
  });

  it('a component after a failed one is not started', async () => {
    const w = await world([
      ['StatefulSet', 'redis'],
      ['Deployment', 'kafka-exporter'],
    ]);
    w.neverReady.add('redis:0.0.0');
    const c = checked({ sets: ['redis=redis:0.0.0', 'kafka-exporter=danielqsj/kafka-exporter:v1.9.0'] });
    const out = await runUpgrade(c, desiredFor(c), w.edges, false);
    expect(out.components.map((u) => [u.component, u.state])).toEqual([
      ['redis', 'rolled-back'],
      ['kafka-exporter', 'skipped'],
    ]);
    expect(imageOf(w.api.get('apps/v1', 'Deployment', NS, 'kafka-exporter'))).toBe(
      rendersImage('Deployment', 'kafka-exporter'),
    );
  });

  it('a changed tree (no --set) plans only what is deployed; what is not deployed is not an error', async () => {
    const w = await world([['Deployment', 'kafka-exporter']]);
    const named = checked({ sets: ['kafka-exporter=danielqsj/kafka-exporter:v1.9.0'] });
    const tree: CheckedUpgrade = {
      ...named,
      sets: [],
      scope: Object.values(named.stack.components),
      dryRun: true,
    };
    const desired = applySets(named.stack, rendered, named.sets);
    const out = await runUpgrade(tree, desired, w.edges, false);
    expect(out.changes.map((c) => c.component)).toEqual(['kafka-exporter']);
  });

  it('not deployed: a usage error before anything is applied; dump-restore without a store: likewise', async () => {
    const w = await world([]);
    const c = checked({ sets: ['kafka-exporter=danielqsj/kafka-exporter:v1.9.0'] });
    await expect(runUpgrade(c, desiredFor(c), w.edges, false)).rejects.toThrow(
      /not deployed, so nothing to upgrade \(run kindling deploy first\): kafka-exporter: Deployment\/kafka-exporter/,
    );
    const w2 = await world([['StatefulSet', 'postgres']]);
    const p = checked({ sets: ['postgres=postgres:17.2-alpine'] });
    const err = await runUpgrade(p, desiredFor(p), w2.edges, false).catch((e) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toBe('--store: postgres upgrade by dump-restore: a backup store is required');
    expect(w2.applied).toEqual([]);
  });
});

describe('kindling upgrade, blue-green (API stand-in, readiness and verify injected)', () => {
  const GRAFANA_NEXT = 'grafana/grafana:11.4.0';
  const svc = (w: World) => w.api.get('v1', 'Service', NS, 'grafana')!;

  it('green beside blue, verified through grafana-green, the Service switched; blue kept until --finish, then finished', async () => {
    const w = await world([['Deployment', 'grafana']]);
    const blueImage = rendersImage('Deployment', 'grafana');
    const c = checked({ sets: [`grafana=${GRAFANA_NEXT}`] });
    const out = await runUpgrade(c, desiredFor(c), w.edges, false);
    const u = out.components[0]!;
    expect(u.state).toBe('switched');
    expect(out.ok).toBe(true);
    // green verified through its own Service, then the main one (with dependents, none deployed)
    expect(u.verify!.results[0]!.message).toBe(`ok via Service/grafana-green → ${GRAFANA_NEXT}`);
    expect(u.after!.results[0]!.message).toBe(`ok via Service/grafana → ${GRAFANA_NEXT}`);
    expect(svc(w).spec.selector).toEqual({ 'app.kubernetes.io/name': 'grafana', [SLOT_LABEL]: 'green' });
    expect(JSON.parse(svc(w).metadata.annotations[STATE_ANNOTATION]).workload).toEqual({
      kind: 'Deployment',
      name: 'grafana',
    });
    expect(imageOf(w.api.get('apps/v1', 'Deployment', NS, 'grafana'))).toBe(blueImage);
    expect(imageOf(w.api.get('apps/v1', 'Deployment', NS, 'grafana-green'))).toBe(GRAFANA_NEXT);
    expect(u.notes.at(-1)).toMatch(
      /^blue Deployment\/grafana kept until kindling upgrade --finish grafana \(keep until .+\)$/,
    );
    // a second upgrade while switched is refused
    const again = await runUpgrade(c, desiredFor(c), w.edges, false);
    expect(again.components[0]!.reasons[0]).toMatch(
      /Service\/grafana is still switched to green .*--finish grafana first/,
    );
    expect(again.components[0]!.reasons[0]).not.toContain('window ended');

    const f = checked({ finish: ['grafana'] });
    const done = await runUpgrade(f, rendered, w.edges, false);
    expect(done.components[0]!.state).toBe('finished');
    expect(imageOf(w.api.get('apps/v1', 'Deployment', NS, 'grafana'))).toBe(GRAFANA_NEXT);
    expect(w.api.get('apps/v1', 'Deployment', NS, 'grafana-green')).toBeUndefined();
    expect(w.api.get('v1', 'Service', NS, 'grafana-green')).toBeUndefined();
    expect(svc(w).spec.selector).toEqual({ 'app.kubernetes.io/name': 'grafana' });
    expect(svc(w).metadata.annotations?.[STATE_ANNOTATION]).toBeUndefined();
  });

  it('a keep-blue window that ended is acted on by the next upgrade run: finished first, then the new upgrade', async () => {
    const w = await world([['Deployment', 'grafana']]);
    const c = checked({ sets: [`grafana=${GRAFANA_NEXT}`] });
    expect((await runUpgrade(c, desiredFor(c), w.edges, false)).components[0]!.state).toBe('switched');
    const keepUntil = JSON.parse(svc(w).metadata.annotations[STATE_ANNOTATION]).keepUntil;
    // a dry run after the deadline touches nothing
    const dry = await runUpgrade(
      checked({ sets: ['grafana=grafana/grafana:11.5.0'], dryRun: true }),
      desiredFor(checked({ sets: ['grafana=grafana/grafana:11.5.0'] })),
      { ...w.edges, now: () => Date.parse(keepUntil) + 1 },
      false,
    );
    expect(dry.components).toEqual([]);
    expect(w.api.get('apps/v1', 'Deployment', NS, 'grafana-green')).toBeDefined();
    // the next run, one ms after the deadline, with another new image
    const next = checked({ sets: ['grafana=grafana/grafana:11.5.0'] });
    const out = await runUpgrade(
      next,
      desiredFor(next),
      { ...w.edges, now: () => Date.parse(keepUntil) + 1 },
      false,
    );
    expect(out.components.map((u) => [u.component, u.strategy, u.state])).toEqual([
      ['grafana', 'finish', 'finished'],
      ['grafana', 'blue-green', 'switched'],
    ]);
    expect(out.components[0]!.notes[0]).toMatch(
      new RegExp(
        `^the keep-blue window of the switch at .+ ended ${keepUntil.replace(/[.]/g, '\\.')}: finished by this run$`,
      ),
    );
    // blue took the first green's image when finished; the second green runs the newer one
    expect(imageOf(w.api.get('apps/v1', 'Deployment', NS, 'grafana'))).toBe(GRAFANA_NEXT);
    expect(imageOf(w.api.get('apps/v1', 'Deployment', NS, 'grafana-green'))).toBe('grafana/grafana:11.5.0');
    expect(out.changes[0]!.workloads[0]!.images[0]).toMatchObject({ from: GRAFANA_NEXT });
  });

  it('the main Service is pinned to blue’s pod-template-hash while green comes up', async () => {
    const w = await world([['Deployment', 'grafana']]);
    const seen: Obj[] = [];
    const edges = {
      ...w.edges,
      waitReady: async (c: string, o: readonly KubeObject[]) => {
        seen.push(structuredClone(svc(w).spec.selector));
        return w.edges.waitReady(c, o);
      },
    };
    const c = checked({ sets: [`grafana=${GRAFANA_NEXT}`] });
    await runUpgrade(c, desiredFor(c), edges, false);
    const rs = w.api
      .list('apps/v1', 'ReplicaSet', NS)
      .find((r) => r.metadata.name.startsWith('grafana-') && !r.metadata.name.startsWith('grafana-green'))!;
    expect(seen[0]).toEqual({
      'app.kubernetes.io/name': 'grafana',
      'pod-template-hash': rs.metadata.labels['pod-template-hash'],
    });
  });

  it('switch-back: green passes through its own Service but the switched Service fails verify → blue again, green removed', async () => {
    const w = await world([['Deployment', 'grafana']]);
    let calls = 0;
    const edges = {
      ...w.edges,
      verify: async (cs: readonly Component[]) => {
        calls++;
        const r = await w.edges.verify(cs);
        if (calls === 2)
          return {
            ...r,
            ok: false,
            failed: 1,
            results: [{ ...r.results[0]!, status: 'fail' as const, message: 'datasource proxy 502' }],
          };
        return r;
      },
    };
    const c = checked({ sets: [`grafana=${GRAFANA_NEXT}`] });
    const out = await runUpgrade(c, desiredFor(c), edges, false);
    const u = out.components[0]!;
    expect(u.state).toBe('switched-back');
    expect(out.ok).toBe(false);
    expect(u.reasons).toEqual(['verify after the switch failed', 'grafana/health: datasource proxy 502']);
    expect(w.api.get('apps/v1', 'Deployment', NS, 'grafana-green')).toBeUndefined();
    expect(svc(w).spec.selector).toEqual({ 'app.kubernetes.io/name': 'grafana' });
    expect(imageOf(w.api.get('apps/v1', 'Deployment', NS, 'grafana'))).toBe(
      rendersImage('Deployment', 'grafana'),
    );
  });

  it('green never ready: removed, the Service unpinned, blue untouched', async () => {
    const w = await world([['Deployment', 'grafana']]);
    w.neverReady.add('grafana/grafana:0.0.0');
    const c = checked({ sets: ['grafana=grafana/grafana:0.0.0'] });
    const out = await runUpgrade(c, desiredFor(c), w.edges, false);
    const u = out.components[0]!;
    expect(u.state).toBe('failed');
    expect(u.reasons).toEqual([
      'green is not ready',
      'Deployment/grafana-green: ImagePullBackOff (grafana/grafana:0.0.0)',
    ]);
    expect(w.api.get('apps/v1', 'Deployment', NS, 'grafana-green')).toBeUndefined();
    expect(w.api.get('v1', 'Service', NS, 'grafana-green')).toBeUndefined();
    expect(svc(w).spec.selector).toEqual({ 'app.kubernetes.io/name': 'grafana' });
  });

  /** A virtual clock: sleeping advances it, so a keep-blue window of minutes takes no time. */
  const clock = () => {
    let t = Date.parse('2026-12-01T10:00:00Z');
    const slept: number[] = [];
    return {
      slept,
      now: () => t,
      sleep: async (ms: number) => {
        slept.push(ms);
        t += ms;
      },
    };
  };

  it('--finish-after: blue kept for the window while green is re-verified, then finished without a --finish', async () => {
    const w = await world([['Deployment', 'grafana']]);
    const c = { ...checked({ sets: [`grafana=${GRAFANA_NEXT}`] }), finishAfterMs: 60_000 };
    const k = clock();
    const out = await runUpgrade(c, desiredFor(c), { ...w.edges, now: k.now, sleep: k.sleep }, false);
    const u = out.components[0]!;
    expect(u.state, JSON.stringify(u.reasons)).toBe('finished');
    // re-verified every 15 s (a quarter of the 1 min window, at most 30 s): green, the switch, 4 re-checks, the finish
    expect(k.slept).toEqual([15_000, 15_000, 15_000, 15_000]);
    expect(w.verified.length).toBe(1 + 1 + 4 + 1);
    expect(imageOf(w.api.get('apps/v1', 'Deployment', NS, 'grafana'))).toBe(GRAFANA_NEXT);
    expect(w.api.get('apps/v1', 'Deployment', NS, 'grafana-green')).toBeUndefined();
    expect(svc(w).spec.selector).toEqual({ 'app.kubernetes.io/name': 'grafana' });
  });

  it('--finish-after: green failing a re-check inside the window → switched back to blue, green removed', async () => {
    const w = await world([['Deployment', 'grafana']]);
    const c = { ...checked({ sets: [`grafana=${GRAFANA_NEXT}`] }), finishAfterMs: 60_000 };
    const k = clock();
    let calls = 0;
    const verify = async (cs: readonly Component[]) => {
      calls++;
      if (calls === 4) w.failVerify.add(GRAFANA_NEXT); // the second re-check sees green fail
      return w.edges.verify(cs);
    };
    const out = await runUpgrade(c, desiredFor(c), { ...w.edges, verify, now: k.now, sleep: k.sleep }, false);
    const u = out.components[0]!;
    expect(u.state).toBe('switched-back');
    expect(u.reasons[0]).toBe('verify failed while blue was kept');
    expect(k.slept).toEqual([15_000, 15_000]);
    expect(svc(w).spec.selector).toEqual({ 'app.kubernetes.io/name': 'grafana' });
    expect(w.api.get('apps/v1', 'Deployment', NS, 'grafana-green')).toBeUndefined();
    expect(imageOf(w.api.get('apps/v1', 'Deployment', NS, 'grafana'))).toBe(
      rendersImage('Deployment', 'grafana'),
    );
  });

  it('--finish where blue does not become ready on the new template: green keeps serving, what remains is said', async () => {
    const w = await world([['Deployment', 'grafana']]);
    const c = checked({ sets: [`grafana=${GRAFANA_NEXT}`] });
    expect((await runUpgrade(c, desiredFor(c), w.edges, false)).components[0]!.state).toBe('switched');
    // green's pods are running; blue's new pods would not be (e.g. a node without the image)
    const edges = {
      ...w.edges,
      waitReady: async (component: string, o: readonly KubeObject[]) =>
        o[0]!.metadata.name === 'grafana'
          ? { ready: false, reasons: ['Deployment/grafana: 0 of 1 updated replicas available'], elapsedMs: 9 }
          : w.edges.waitReady(component, o),
    };
    const out = await runUpgrade(checked({ finish: ['grafana'] }), rendered, edges, false);
    const u = out.components[0]!;
    expect(u.state).toBe('failed');
    expect(u.reasons).toEqual([
      'blue did not become ready on the new template; green keeps serving',
      'Deployment/grafana: 0 of 1 updated replicas available',
    ]);
    expect(u.remaining).toEqual([
      expect.stringMatching(/^Deployment\/grafana: grafana=grafana\/grafana:11\.4\.0/),
      expect.stringMatching(/^Deployment\/grafana-green: grafana=grafana\/grafana:11\.4\.0/),
    ]);
    expect(svc(w).spec.selector).toEqual({ 'app.kubernetes.io/name': 'grafana', [SLOT_LABEL]: 'green' });
    expect(w.api.get('apps/v1', 'Deployment', NS, 'grafana-green')).toBeDefined();
  });

  it('--finish with nothing switched says so', async () => {
    const w = await world([['Deployment', 'grafana']]);
    const out = await runUpgrade(checked({ finish: ['grafana'] }), rendered, w.edges, false);
    expect(out.components[0]!.reasons).toEqual([
      'no blue-green upgrade of grafana to finish (no Service of it is switched)',
    ]);
  });
});

describe('kindling upgrade, dump-restore orchestration (API stand-in; the fill injected, tested on real PostgreSQL in test/integration/upgrade-dump-restore.test.ts)', () => {
  const fill =
    (ok: boolean, seen: { green?: Component; selectorAtSwitch?: unknown }, w: World): UpgradeEdges['fill'] =>
    async (_blue, green, switchService) => {
      seen.green = green;
      const problems = ok
        ? []
        : ['green differs from blue: identity: public.users rows: source 3, restored 2'];
      if (ok) await switchService();
      seen.selectorAtSwitch = structuredClone(w.api.get('v1', 'Service', NS, 'postgres')!.spec.selector);
      return {
        fill: {
          ok,
          windowOpenedAt: 0,
          backupMs: 5,
          restoreMs: 6,
          compared: 7,
          differences: [],
          compare: [],
          problems,
        },
        switched: ok,
        windowMs: 1234,
        window: 'write window 1.2s (…): writes to blue in it are not in green',
      };
    };

  it('green StatefulSet on the new major beside blue, filled, the Service switched to it; the window stated; blue kept', async () => {
    const w = await world([['StatefulSet', 'postgres']]);
    const seen: { green?: Component; selectorAtSwitch?: unknown } = {};
    const c = checked({ sets: ['postgres=postgres:17.2-alpine'] });
    const out = await runUpgrade(c, desiredFor(c), { ...w.edges, fill: fill(true, seen, w) }, true);
    const u = out.components[0]!;
    expect(u.state).toBe('switched');
    expect(u.windowMs).toBe(1234);
    expect(u.notes[0]).toBe('write window 1.2s (…): writes to blue in it are not in green');
    // the fill reached green through green's Service and pod
    expect(seen.green!.endpoints.find((e) => e.name === 'sql')!.service).toBe('postgres-green');
    expect(seen.green!.backups[0]!.pod).toBe('postgres-green-0');
    expect(seen.selectorAtSwitch).toEqual({ 'app.kubernetes.io/name': 'postgres', [SLOT_LABEL]: 'green' });
    const green = w.api.get('apps/v1', 'StatefulSet', NS, 'postgres-green')!;
    expect(imageOf(green)).toBe('postgres:17.2-alpine');
    expect(green.spec.serviceName).toBe('postgres-headless-green');
    expect(w.api.get('v1', 'Service', NS, 'postgres-headless-green')!.spec.clusterIP).toBe('None');
    expect(imageOf(w.api.get('apps/v1', 'StatefulSet', NS, 'postgres'))).toBe(
      rendersImage('StatefulSet', 'postgres'),
    );
    // a dump-restore is not finished by rolling blue (it holds the old major's data directory)
    const f = await runUpgrade(checked({ finish: ['postgres'] }), rendered, w.edges, true);
    expect(f.components[0]!.reasons[0]).toMatch(
      /upgraded by dump-restore: blue holds the previous major's data/,
    );
  });

  it('a fill that differs: no switch, green removed (its PVCs said to be kept), the Service back on the manifest selector', async () => {
    const w = await world([['StatefulSet', 'postgres']]);
    const seen: { green?: Component; selectorAtSwitch?: unknown } = {};
    const c = checked({ sets: ['postgres=postgres:17.2-alpine'] });
    const out = await runUpgrade(c, desiredFor(c), { ...w.edges, fill: fill(false, seen, w) }, true);
    const u = out.components[0]!;
    expect(u.state).toBe('failed');
    expect(u.reasons).toEqual(['green differs from blue: identity: public.users rows: source 3, restored 2']);
    expect(u.notes).toContain("green's PersistentVolumeClaims (*-postgres-green-*) are kept");
    // while green was being filled the Service reached blue only (pinned to its revision)
    expect(seen.selectorAtSwitch).toEqual({
      'app.kubernetes.io/name': 'postgres',
      'controller-revision-hash': w.api.get('apps/v1', 'StatefulSet', NS, 'postgres')!.status.currentRevision,
    });
    expect(w.api.get('apps/v1', 'StatefulSet', NS, 'postgres-green')).toBeUndefined();
    expect(w.api.get('v1', 'Service', NS, 'postgres')!.spec.selector).toEqual({
      'app.kubernetes.io/name': 'postgres',
    });
  });
});
