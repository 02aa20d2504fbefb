/**
 * `kindling upgrade`'s rolling path for a Deployment on the simulated cluster (test/sim, a stand-in
 * cluster): kafka-ui (a Deployment; its process a named stand-in, test/sim/images/kafka-ui.ts) with
 * the test tree's strategy `rolling` (the catalog's is blue-green) and its dependsOn [kafka] dropped
 * (Kafka has no image model here). Rolled back as `kubectl rollout undo` does: the template of the
 * ReplicaSet with the second-highest revision (kubernetes/kubectl `pkg/polymorphichelpers/rollback.go`),
 * which the simulated Deployment controller then takes back at the next revision.
 *   never ready   v9.9.9 (not in the registry): the new ReplicaSet's pod in ErrImagePull → rolled back
 *   fails verify  a changed tree whose kafka-ui no longer exposes the actuator's health endpoint
 *                 (-Dmanagement.endpoints.web.exposure.include=info,prometheus in JAVA_OPTS) and is
 *                 probed on /actuator/info: Ready, /actuator/health 404 → rolled back
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { deploy } from '../../src/app/deploy.ts';
import { fromFlag } from '../../src/app/settings.ts';
import { type UpgradeOutcome, upgrade } from '../../src/app/upgrade.ts';
import type { Obj } from '../../src/plan/conditions.ts';
import { REPO } from '../actions-entry/run-action.ts';
import { SimCluster } from '../sim/cluster.ts';
import { pinnedImages } from '../sim/images.ts';
import { describeWithSim } from './sim-available.ts';

const NS = 'voiceassistant-infra';
const NEXT = 'ghcr.io/kafbat/kafka-ui:v1.2.0';
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

const settings = (over: { sets?: string[]; manifests?: string }) => ({
  catalog: fromFlag('--catalog', catalog),
  manifests: fromFlag('--manifests', over.manifests),
  sets: fromFlag('--set', over.sets ?? []),
  finish: fromFlag('--finish', []),
  sizing: fromFlag('--sizing', 'kind'),
  timeout: fromFlag('--timeout', '20s'),
  verifyTimeout: fromFlag('--verify-timeout', '3s'),
  keepBlue: fromFlag('--keep-blue', undefined),
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
    `[upgrade deployment e2e] ${u?.component} ${u?.state} in ${(ms / 1000).toFixed(1)} s: ${[...(u?.reasons ?? []), ...(u?.notes ?? [])].join(' | ')}`,
  );
  return { ...out, ms };
}

/** manifests/ with kafka-ui rolling and its dependsOn dropped (Kafka cannot run on the simulation). */
function tree(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kindling-rolling-tree-'));
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
  const rolling = edge.replace(
    /(\n {2}kafka-ui:\n(?: {4}.*\n)*?) {4}upgrade: \{ strategy: blue-green \}\n/,
    '$1    upgrade: { strategy: rolling }\n',
  );
  if (rolling === edge) throw new Error("kafka-ui's upgrade strategy was not found in manifests/stack.yaml");
  writeFileSync(file, rolling);
  return file;
}

/**
 * The tree of `catalog` whose kafka-ui no longer exposes the health endpoint (a system property in
 * JAVA_OPTS) and is probed on /actuator/info. Values change only: the API stand-in's server-side
 * apply leaves the remains of a field a manager stops applying (an env item without its name, an
 * empty tcpSocket), which a real API server removes, so a rollback that removes fields would not
 * restore the previous ReplicaSet's template here.
 */
function unexposedTree(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kindling-rolling-broken-'));
  cpSync(join(catalog, '..'), dir, { recursive: true });
  const overlay = join(dir, 'overlays/kind/patches/kafka.yaml');
  const o = readFileSync(overlay, 'utf8');
  const o2 = o.replace(
    '            - name: JAVA_OPTS\n              value: -Xms128m -Xmx256m\n',
    '            - name: JAVA_OPTS\n              value: -Xms128m -Xmx256m -Dmanagement.endpoints.web.exposure.include=info,prometheus\n',
  );
  const file = join(dir, 'base/kafka.yaml');
  const text = readFileSync(file, 'utf8');
  const probes = text.replaceAll(
    'httpGet: { path: /actuator/health, port: http }',
    'httpGet: { path: /actuator/info, port: http }',
  );
  if (o2 === o || (probes.match(/\/actuator\/info/g) ?? []).length !== 3)
    throw new Error('the kafka-ui mutation did not apply to the tree');
  writeFileSync(overlay, o2);
  writeFileSync(file, probes);
  return dir;
}

describeWithSim(
  'e2e rolling upgrade of a Deployment on the simulated cluster (stand-in cluster, kafka-ui stand-in image)',
  () => {
    beforeAll(async () => {
      sim = await new SimCluster({ images: [...pinnedImages(REPO), NEXT] }).start();
      const dir = mkdtempSync(join(tmpdir(), 'kindling-rolling-e2e-'));
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

    const replicaSets = () =>
      sim.api
        .list('apps/v1', 'ReplicaSet', NS)
        .filter((r) => r.metadata.name.startsWith('kafka-ui-'))
        .map((r) => ({
          hash: r.metadata.labels['pod-template-hash'],
          revision: r.metadata.annotations?.['deployment.kubernetes.io/revision'],
          replicas: r.spec.replicas,
        }));

    it('an upgrade that passes first: the new ReplicaSet at revision 2 replaces the first', async () => {
      const out = await timed(() => upgrade(settings({ sets: [`kafka-ui=${NEXT}`] }), { log }));
      const u = out.components[0]!;
      expect(u.strategy).toBe('rolling');
      expect(u.images).toEqual([
        {
          workload: 'Deployment/kafka-ui',
          container: 'kafka-ui',
          from: `ghcr.io/kafbat/kafka-ui:${PINNED}`,
          to: NEXT,
        },
      ]);
      expect(u.state, lines.join('\n')).toBe('upgraded');
      expect(imageOf('kafka-ui')).toBe(NEXT);
      expect(get('Deployment', 'kafka-ui')!.metadata.annotations['deployment.kubernetes.io/revision']).toBe(
        '2',
      );
      expect(out.ms).toBeLessThan(30_000);
    }, 60_000);

    it('a new image that never becomes ready (ErrImagePull): rolled back to the previous ReplicaSet, ready and verified again', async () => {
      const before = replicaSets().find((r) => r.revision === '2')!;
      const out = await timed(() =>
        upgrade(settings({ sets: ['kafka-ui=ghcr.io/kafbat/kafka-ui:v9.9.9'] }), { log }),
      );
      const u = out.components[0]!;
      expect(out.ok).toBe(false);
      expect(u.state, lines.join('\n')).toBe('rolled-back');
      expect(u.reasons[0]).toBe('not ready');
      expect(u.reasons.join('\n')).toContain('ghcr.io/kafbat/kafka-ui:v9.9.9: not found');
      expect(u.notes[0]).toBe(
        `Deployment/kafka-ui rolled back to the template of ReplicaSet/kafka-ui-${before.hash} (revision 2)`,
      );
      expect(u.after!.ok).toBe(true);
      expect(imageOf('kafka-ui')).toBe(NEXT);
      // the restored ReplicaSet takes the next revision and the pods; the broken one is scaled down
      const now = replicaSets();
      expect(now.find((r) => r.hash === before.hash)).toMatchObject({ revision: '4', replicas: 1 });
      expect(now.find((r) => r.revision === '3')).toMatchObject({ replicas: 0 });
      expect(out.error!.message).toContain('upgrade failed: kafka-ui rolled-back');
      expect(out.ms).toBeLessThan(40_000);
    }, 60_000);

    it('ready but failing verify (a changed tree: health endpoint not exposed, probes on /actuator/info): rolled back', async () => {
      const out = await timed(() => upgrade(settings({ manifests: unexposedTree() }), { log }));
      const u = out.components[0]!;
      expect(u.state, lines.join('\n')).toBe('rolled-back');
      expect(u.reasons[0]).toBe('verify failed');
      expect(u.verify!.results.find((r) => r.check === 'health')!.message).toMatch(/404/);
      expect(u.notes[0]).toMatch(
        /^Deployment\/kafka-ui rolled back to the template of ReplicaSet\/kafka-ui-\w+ \(revision 4\)$/,
      );
      expect(u.after!.ok).toBe(true);
      const c = get('Deployment', 'kafka-ui')!.spec.template.spec.containers[0];
      expect(c.env.find((e: Obj) => e.name === 'JAVA_OPTS').value).toBe('-Xms128m -Xmx256m');
      expect(c.readinessProbe.httpGet.path).toBe('/actuator/health');
      expect(out.ms).toBeLessThan(40_000);
    }, 60_000);
  },
);
