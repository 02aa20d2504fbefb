/**
 * `kindling upgrade` blue-green end to end on the simulated cluster (test/sim, a stand-in cluster):
 * kafka-ui (catalog strategy blue-green, a Deployment) deployed by `kindling deploy`'s use case and
 * upgraded through the real edges — server-side apply, the simulated Deployment controller's
 * ReplicaSets (their pod-template-hash pins blue), readiness on watched objects, verify through a
 * port-forward to the pod behind each Service. kafka-ui's process is a named stand-in
 * (test/sim/images/kafka-ui.ts). The test tree drops kafka-ui's dependsOn [kafka]: Kafka has no image
 * model here, and kafka-ui's health does not depend on it (see the stand-in's citation).
 *   switch     v1.2.0 (in the registry): green beside blue, verified through kafka-ui-green, the
 *              Service switched, blue kept and still running until --finish
 *   not ready  v9.9.9 (not in the registry): green in ErrImagePull, never switched, green removed
 *   expired    a switch with --keep-blue 2s: the next upgrade run, after the deadline, finishes it
 *              first, then upgrades blue-green again
 *   back       v1.2.0 with --finish-after: green's pod lost while blue is kept, and its image gone
 *              from the registry, so its replacement cannot start → verify fails → switched back
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { deploy } from '../../src/app/deploy.ts';
import { fromFlag } from '../../src/app/settings.ts';
import { type UpgradeOutcome, upgrade } from '../../src/app/upgrade.ts';
import type { Obj } from '../../src/plan/conditions.ts';
import { SLOT_LABEL, STATE_ANNOTATION } from '../../src/upgrade/blue-green.ts';
import { REPO } from '../actions-entry/run-action.ts';
import { SimCluster } from '../sim/cluster.ts';
import { pinnedImages } from '../sim/images.ts';
import { describeWithSim } from './sim-available.ts';

const NS = 'voiceassistant-infra';
const NEXT = 'ghcr.io/kafbat/kafka-ui:v1.2.0';
const BACK = 'ghcr.io/kafbat/kafka-ui:v1.3.0';
const PINNED = readFileSync(join(REPO, 'manifests/base/kustomization.yaml'), 'utf8').match(
  /- name: ghcr\.io\/kafbat\/kafka-ui\n\s+newTag: (\S+)/,
)![1]!;

let sim: SimCluster;
let kubeconfig: string;
let catalog: string;
const lines: string[] = [];
const T0 = Date.now();
const log = (c: string, m: string) =>
  lines.push(`${((Date.now() - T0) / 1000).toFixed(1)}s [${c}] ${m.split('\n')[0]!.slice(0, 200)}`);
const get = (kind: string, name: string) =>
  sim.api.get(kind === 'Service' || kind === 'Pod' ? 'v1' : 'apps/v1', kind, NS, name);
const imageOf = (name: string) => get('Deployment', name)?.spec.template.spec.containers[0].image;
const podsOf = (hashOrSlot: (p: Obj) => boolean) =>
  sim.api
    .list('v1', 'Pod', NS)
    .filter((p) => p.metadata.labels?.['app.kubernetes.io/name'] === 'kafka-ui' && hashOrSlot(p));

const settings = (over: { sets?: string[]; finish?: string[]; finishAfter?: string; keepBlue?: string }) => ({
  catalog: fromFlag('--catalog', catalog),
  manifests: fromFlag('--manifests', undefined),
  sets: fromFlag('--set', over.sets ?? []),
  finish: fromFlag('--finish', over.finish ?? []),
  sizing: fromFlag('--sizing', 'kind'),
  timeout: fromFlag('--timeout', '20s'),
  verifyTimeout: fromFlag('--verify-timeout', '3s'),
  keepBlue: fromFlag('--keep-blue', over.keepBlue),
  finishAfter: fromFlag('--finish-after', over.finishAfter),
  dryRun: fromFlag('--dry-run', false),
  kubeconfig: fromFlag('--kubeconfig', kubeconfig),
  context: fromFlag('--context', undefined),
  store: fromFlag('--store', undefined),
  s3Endpoint: fromFlag('--s3-endpoint', undefined),
});

async function timed(f: () => Promise<UpgradeOutcome>): Promise<UpgradeOutcome & { ms: number }> {
  const t0 = Date.now();
  const out = await f();
  const ms = Date.now() - t0;
  const u = out.components[0];
  if (process.env.KINDLING_E2E_VERBOSE) console.log(lines.join('\n'));
  console.log(
    `[upgrade blue-green e2e] ${u?.component} ${u?.state} in ${(ms / 1000).toFixed(1)} s: ${[...(u?.reasons ?? []), ...(u?.notes ?? [])].join(' | ')}`,
  );
  return { ...out, ms };
}

/** manifests/ with kafka-ui's dependsOn dropped (Kafka cannot run on the simulation). */
function tree(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kindling-bg-tree-'));
  cpSync(join(REPO, 'manifests'), dir, { recursive: true });
  const file = join(dir, 'stack.yaml');
  const text = readFileSync(file, 'utf8');
  const changed = text.replace(/(\n {2}kafka-ui:\n(?: {4}.*\n)*?) {4}dependsOn: \[kafka\]\n/, '$1');
  if (changed === text) throw new Error("kafka-ui's dependsOn was not found in manifests/stack.yaml");
  // the generated NetworkPolicies still admit kafka-ui to Kafka: the same edge, as a connection
  const edge = changed.replace(
    '    connections:\n',
    "    connections:\n      - { from: kafka-ui, to: kafka, ports: [9092], why: 'test tree: was dependsOn' }\n",
  );
  if (edge === changed) throw new Error('network.connections was not found in manifests/stack.yaml');
  writeFileSync(file, edge);
  return file;
}

describeWithSim(
  'e2e blue-green upgrade on the simulated cluster (stand-in cluster, kafka-ui stand-in image)',
  () => {
    beforeAll(async () => {
      sim = await new SimCluster({ images: [...pinnedImages(REPO), NEXT, BACK] }).start();
      const dir = mkdtempSync(join(tmpdir(), 'kindling-bg-e2e-'));
      kubeconfig = join(dir, 'kubeconfig');
      writeFileSync(kubeconfig, sim.kubeconfigYaml());
      catalog = tree();
      const out = await deploy(
        {
          catalog: fromFlag('--catalog', catalog),
          profile: fromFlag('--profile', undefined),
          components: fromFlag('--components', 'kafka-ui'),
          sizing: fromFlag('--sizing', 'kind'),
          timeout: fromFlag('--timeout', '60s'),
          verify: fromFlag('--verify', true),
          diagnostics: fromFlag('--diagnostics', join(dir, 'diagnostics')),
          kubeconfig: fromFlag('--kubeconfig', kubeconfig),
          context: fromFlag('--context', undefined),
        },
        { log },
      );
      if (out.error)
        throw new Error(
          `deploy of kafka-ui on the simulation failed: ${out.error.message}\n${lines.join('\n')}`,
        );
    }, 120_000);
    afterAll(async () => {
      await sim?.stop();
    });

    it('green that never becomes ready (ErrImagePull): never switched, green removed, the Service back on the manifest selector', async () => {
      const out = await timed(() =>
        upgrade(settings({ sets: ['kafka-ui=ghcr.io/kafbat/kafka-ui:v9.9.9'] }), { log }),
      );
      const u = out.components[0]!;
      expect(out.ok).toBe(false);
      expect(u.state, lines.join('\n')).toBe('failed');
      expect(u.reasons[0]).toBe('green is not ready');
      expect(u.reasons.join('\n')).toMatch(/ErrImagePull|ImagePullBackOff/);
      expect(get('Service', 'kafka-ui')!.spec.selector).toEqual({ 'app.kubernetes.io/name': 'kafka-ui' });
      expect(get('Deployment', 'kafka-ui-green')).toBeUndefined();
      expect(get('Service', 'kafka-ui-green')).toBeUndefined();
      expect(imageOf('kafka-ui')).toBe(`ghcr.io/kafbat/kafka-ui:${PINNED}`);
      expect(out.ms).toBeLessThan(40_000);
    }, 60_000);

    it('switch: green beside blue, verified through kafka-ui-green, the Service switched, blue kept until --finish', async () => {
      const blueRs = sim.api
        .list('apps/v1', 'ReplicaSet', NS)
        .find((r) => r.metadata.name.startsWith('kafka-ui-') && (r.spec.replicas ?? 0) > 0)!;
      const blueHash = blueRs.metadata.labels['pod-template-hash'];
      const out = await timed(() => upgrade(settings({ sets: [`kafka-ui=${NEXT}`] }), { log }));
      const u = out.components[0]!;
      expect(u.state, lines.join('\n')).toBe('switched');
      expect(u.verify!.results.map((r) => [r.component, r.check, r.status])).toEqual([
        ['kafka-ui', 'health', 'pass'],
      ]);
      expect(u.after!.ok).toBe(true);
      const svc = get('Service', 'kafka-ui')!;
      expect(svc.spec.selector).toEqual({ 'app.kubernetes.io/name': 'kafka-ui', [SLOT_LABEL]: 'green' });
      expect(JSON.parse(svc.metadata.annotations[STATE_ANNOTATION]).blue).toBe(blueHash);
      // blue untouched and still running beside green
      expect(imageOf('kafka-ui')).toBe(`ghcr.io/kafbat/kafka-ui:${PINNED}`);
      expect(imageOf('kafka-ui-green')).toBe(NEXT);
      expect(podsOf((p) => p.metadata.labels['pod-template-hash'] === blueHash).length).toBe(1);
      expect(podsOf((p) => p.metadata.labels[SLOT_LABEL] === 'green').length).toBe(1);
      // the EndpointSlice of the main Service now lists green's pod only
      const slices = sim.api
        .list('discovery.k8s.io/v1', 'EndpointSlice', NS)
        .filter((s) => s.metadata.labels?.['kubernetes.io/service-name'] === 'kafka-ui');
      const greenPod = podsOf((p) => p.metadata.labels[SLOT_LABEL] === 'green')[0]!;
      expect(
        slices.flatMap((s) =>
          (s.endpoints ?? []).map((e: { targetRef?: { name: string } }) => e.targetRef?.name),
        ),
      ).toEqual([greenPod.metadata.name]);

      const f = await timed(() => upgrade(settings({ finish: ['kafka-ui'] }), { log }));
      expect(f.components[0]!.state, lines.join('\n')).toBe('finished');
      expect(imageOf('kafka-ui')).toBe(NEXT);
      expect(get('Deployment', 'kafka-ui-green')).toBeUndefined();
      expect(get('Service', 'kafka-ui-green')).toBeUndefined();
      expect(get('Service', 'kafka-ui')!.spec.selector).toEqual({ 'app.kubernetes.io/name': 'kafka-ui' });
      expect(out.ms + f.ms).toBeLessThan(60_000);
    }, 90_000);

    it('switch-back: green lost while blue is kept (--finish-after), its image gone, verify fails → the Service back on blue', async () => {
      const blueHash = sim.api
        .list('apps/v1', 'ReplicaSet', NS)
        .find(
          (r) =>
            r.metadata.name.startsWith('kafka-ui-') &&
            (r.spec.replicas ?? 0) > 0 &&
            !r.metadata.labels[SLOT_LABEL],
        )!.metadata.labels['pod-template-hash'];
      const running = upgrade(settings({ sets: [`kafka-ui=${BACK}`], finishAfter: '30s' }), { log });
      // once switched, green's pod goes and its image with it: the replacement stays in ErrImagePull
      const t0 = Date.now();
      while (get('Service', 'kafka-ui')?.spec.selector[SLOT_LABEL] !== 'green') {
        if (Date.now() - t0 > 30_000) throw new Error(`never switched\n${lines.join('\n')}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      sim.registry.remove(BACK);
      for (const p of podsOf((x) => x.metadata.labels[SLOT_LABEL] === 'green'))
        sim.api.remove('v1', 'Pod', NS, p.metadata.name);
      const out = await timed(() => running);
      const u = out.components[0]!;
      expect(u.state, lines.join('\n')).toBe('switched-back');
      // the pod goes right after the switch: the verify after it or a re-check in the window fails
      expect(u.reasons[0]).toMatch(/^verify (after the switch failed|failed while blue was kept)$/);
      expect(u.after!.ok).toBe(false);
      // switched back to blue's pods, then, green gone, the manifest's selector (reaching blue only)
      expect(get('Service', 'kafka-ui')!.spec.selector).toEqual({ 'app.kubernetes.io/name': 'kafka-ui' });
      expect(get('Service', 'kafka-ui')!.metadata.annotations?.[STATE_ANNOTATION]).toBeUndefined();
      expect(podsOf((p) => p.metadata.labels['pod-template-hash'] === blueHash).length).toBe(1);
      expect(get('Deployment', 'kafka-ui-green')).toBeUndefined();
      expect(imageOf('kafka-ui')).toBe(NEXT);
      expect(out.ms).toBeLessThan(60_000);
    }, 90_000);

    it('a keep-blue window that ended (--keep-blue 2s): the next upgrade run finishes it first, then upgrades again', async () => {
      const pinned = `ghcr.io/kafbat/kafka-ui:${PINNED}`;
      const first = await timed(() =>
        upgrade(settings({ sets: [`kafka-ui=${pinned}`], keepBlue: '2s' }), { log }),
      );
      expect(first.components[0]!.state, lines.join('\n')).toBe('switched');
      const { keepUntil } = JSON.parse(get('Service', 'kafka-ui')!.metadata.annotations[STATE_ANNOTATION]);
      await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(keepUntil) - Date.now()) + 50));
      const out = await timed(() => upgrade(settings({ sets: [`kafka-ui=${NEXT}`] }), { log }));
      expect(
        out.components.map((u) => [u.strategy, u.state]),
        lines.join('\n'),
      ).toEqual([
        ['finish', 'finished'],
        ['blue-green', 'switched'],
      ]);
      expect(out.components[0]!.notes[0]).toContain(`ended ${keepUntil}: finished by this run`);
      // the finish gave blue the first green's image; the new green runs the one asked for now
      expect(imageOf('kafka-ui')).toBe(pinned);
      expect(imageOf('kafka-ui-green')).toBe(NEXT);
      const done = await timed(() => upgrade(settings({ finish: ['kafka-ui'] }), { log }));
      expect(done.components[0]!.state).toBe('finished');
      expect(imageOf('kafka-ui')).toBe(NEXT);
      expect(first.ms + out.ms + done.ms).toBeLessThan(60_000);
    }, 90_000);
  },
);
