/**
 * `kindling upgrade` end to end on the simulated cluster (test/sim, a stand-in cluster): the real
 * rendered etcd StatefulSet deployed by `kindling deploy`'s use case, then upgraded through the real
 * edges — server-side apply, the readiness rules on watched objects, verify through a port-forward
 * to the real etcd process, and `rollout undo` from the ControllerRevisions the simulated
 * StatefulSet controller writes. The registry holds the pinned tags plus one newer etcd tag.
 *   passes          quay.io/coreos/etcd:v3.5.17 (in the registry): ready, verified, kept
 *   never ready     v3.5.99 (not in the registry): ErrImagePull "not found" at once → rolled back,
 *                   with the forced rollback of the broken pod (kubernetes/kubernetes#67250)
 *   fails verify    a changed tree (--manifests) whose etcd listens for clients on another port
 *                   while its readiness probe only looks at the peer port (/version): Ready, but the
 *                   Service reaches nothing → rolled back
 * Blue-green switch and switch-back on the simulation: test/e2e/upgrade-blue-green.test.ts.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { deploy } from '../../src/app/deploy.ts';
import { fromFlag } from '../../src/app/settings.ts';
import { type UpgradeOutcome, upgrade } from '../../src/app/upgrade.ts';
import { REPO } from '../actions-entry/run-action.ts';
import { runCli } from '../harness/cli.ts';
import { SimCluster } from '../sim/cluster.ts';
import { pinnedImages } from '../sim/images.ts';
import { describeWithSim } from './sim-available.ts';

const NS = 'voiceassistant-infra';
const PINNED = readFileSync(join(REPO, 'manifests/base/kustomization.yaml'), 'utf8').match(
  /- name: quay\.io\/coreos\/etcd\n\s+newTag: (\S+)/,
)![1]!;

let sim: SimCluster;
let kubeconfig: string;
const lines: string[] = [];
const T0 = Date.now();
const log = (c: string, m: string) =>
  lines.push(`${((Date.now() - T0) / 1000).toFixed(1)}s [${c}] ${m.split('\n')[0]!.slice(0, 200)}`);
const image = () => sim.api.get('apps/v1', 'StatefulSet', NS, 'etcd')?.spec.template.spec.containers[0].image;

const settings = (over: { sets?: string[]; manifests?: string }) => ({
  catalog: fromFlag('--catalog', join(REPO, 'manifests/stack.yaml')),
  manifests: fromFlag('--manifests', over.manifests),
  sets: fromFlag('--set', over.sets ?? []),
  finish: fromFlag('--finish', []),
  sizing: fromFlag('--sizing', 'kind'),
  timeout: fromFlag('--timeout', '60s'),
  verifyTimeout: fromFlag('--verify-timeout', '5s'),
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
    `[upgrade e2e] ${u?.component} ${u?.state} in ${(ms / 1000).toFixed(1)} s: ${[...(u?.reasons ?? []), ...(u?.notes ?? [])].join(' | ')}`,
  );
  return { ...out, ms };
}

/**
 * A copy of manifests/ whose etcd listens for clients on 2399 and is probed on its peer port only
 * (`/version`, which etcd's peer listener serves; `/health` it does not: checked against etcd 3.4.23
 * here). Values change only: the API stand-in's server-side apply leaves an emptied map behind when
 * a manager stops applying a field (`tcpSocket: {}` beside the restored `httpGet`), which a real
 * API server removes, so a rollback that removes fields does not restore the template here.
 */
function brokenTree(): string {
  const tree = mkdtempSync(join(tmpdir(), 'kindling-upgrade-tree-'));
  cpSync(join(REPO, 'manifests'), tree, { recursive: true });
  const file = join(tree, 'base/milvus.yaml');
  const text = readFileSync(file, 'utf8');
  const broken = text
    .replace('value: http://0.0.0.0:2379', 'value: http://0.0.0.0:2399')
    .replace(
      'readinessProbe:\n            httpGet: { path: /health, port: client }',
      'readinessProbe:\n            httpGet: { path: /version, port: peer }',
    );
  if (broken === text) throw new Error('the etcd mutation did not apply to base/milvus.yaml');
  writeFileSync(file, broken);
  return tree;
}

describeWithSim('e2e upgrade on the simulated cluster (stand-in cluster, real upgrade use case)', () => {
  beforeAll(async () => {
    sim = await new SimCluster({ images: [...pinnedImages(REPO), 'quay.io/coreos/etcd:v3.5.17'] }).start();
    const dir = mkdtempSync(join(tmpdir(), 'kindling-upgrade-e2e-'));
    kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, sim.kubeconfigYaml());
    const out = await deploy(
      {
        catalog: fromFlag('--catalog', join(REPO, 'manifests/stack.yaml')),
        profile: fromFlag('--profile', undefined),
        components: fromFlag('--components', 'etcd'),
        sizing: fromFlag('--sizing', 'kind'),
        timeout: fromFlag('--timeout', '90s'),
        verify: fromFlag('--verify', true),
        diagnostics: fromFlag('--diagnostics', join(dir, 'diagnostics')),
        kubeconfig: fromFlag('--kubeconfig', kubeconfig),
        context: fromFlag('--context', undefined),
      },
      { log },
    );
    if (out.error)
      throw new Error(`deploy of etcd on the simulation failed: ${out.error.message}\n${lines.join('\n')}`);
  }, 150_000);
  afterAll(async () => {
    await sim?.stop();
  });

  it('an upgrade that passes: the new tag rolls, becomes ready, verifies through the Service; kept', async () => {
    const out = await timed(() => upgrade(settings({ sets: ['etcd=quay.io/coreos/etcd:v3.5.17'] }), { log }));
    const u = out.components[0]!;
    expect(u.state, lines.join('\n')).toBe('upgraded');
    expect(u.images).toEqual([
      {
        workload: 'StatefulSet/etcd',
        container: 'etcd',
        from: `quay.io/coreos/etcd:${PINNED}`,
        to: 'quay.io/coreos/etcd:v3.5.17',
      },
    ]);
    expect(u.verify!.results.find((r) => r.check === 'health')!.status).toBe('pass');
    expect(u.timeToReadyMs).toBeGreaterThan(0);
    expect(image()).toBe('quay.io/coreos/etcd:v3.5.17');
    expect(out.ms).toBeLessThan(30_000);
  }, 90_000);

  it('a new tag that never becomes ready (ErrImagePull): rolled back to the previous ControllerRevision, ready and verified again', async () => {
    const out = await timed(() => upgrade(settings({ sets: ['etcd=quay.io/coreos/etcd:v3.5.99'] }), { log }));
    const u = out.components[0]!;
    expect(out.ok).toBe(false);
    expect(u.state, lines.join('\n')).toBe('rolled-back');
    expect(u.reasons.join('\n')).toMatch(/ErrImagePull|ImagePullBackOff/);
    expect(u.reasons.join('\n')).toContain('quay.io/coreos/etcd:v3.5.99: not found');
    expect(u.notes[0]).toMatch(
      /^StatefulSet\/etcd rolled back to the template of ControllerRevision\/etcd-\w+ \(revision \d+\); deleted Pod\/etcd-0/,
    );
    expect(u.after!.ok).toBe(true);
    expect(image()).toBe('quay.io/coreos/etcd:v3.5.17');
    expect(out.error!.message).toContain('upgrade failed: etcd rolled-back');
    expect(out.ms).toBeLessThan(30_000);
  }, 90_000);

  it('ready but failing verify (a changed tree: clients on another port, a probe on the peer port): rolled back', async () => {
    const tree = brokenTree();
    const out = await timed(() => upgrade(settings({ manifests: tree }), { log }));
    const u = out.components[0]!;
    expect(u.state, lines.join('\n')).toBe('rolled-back');
    // the tree pins the original tag, so the image goes back too; the env is the other change
    expect(u.images).toEqual([
      {
        workload: 'StatefulSet/etcd',
        container: 'etcd',
        from: 'quay.io/coreos/etcd:v3.5.17',
        to: `quay.io/coreos/etcd:${PINNED}`,
      },
    ]);
    expect(out.changes[0]!.workloads[0]!.other).toEqual(
      expect.arrayContaining(['spec.template.spec.containers[etcd].env[ETCD_LISTEN_CLIENT_URLS].value']),
    );
    expect(u.reasons[0]).toBe('verify failed');
    expect(u.verify!.ok).toBe(false);
    expect(u.after!.ok).toBe(true);
    expect(image()).toBe('quay.io/coreos/etcd:v3.5.17');
    const live = sim.api.get('apps/v1', 'StatefulSet', NS, 'etcd')!;
    expect(
      live.spec.template.spec.containers[0].env.find(
        (e: { name: string }) => e.name === 'ETCD_LISTEN_CLIENT_URLS',
      ).value,
    ).toBe('http://0.0.0.0:2379');
    expect(out.ms).toBeLessThan(45_000);
  }, 120_000);

  it('the same through the CLI: the plan first, both verify reports, exit 1, the job summary', async () => {
    const summary = join(mkdtempSync(join(tmpdir(), 'kindling-upgrade-sum-')), 'summary.md');
    const t0 = Date.now();
    const r = await runCli([
      'upgrade',
      '--catalog',
      join(REPO, 'manifests/stack.yaml'),
      '--manifests',
      brokenTree(),
      '--kubeconfig',
      kubeconfig,
      '--verify-timeout',
      '5s',
      '--timeout',
      '60s',
      '--summary',
      summary,
    ]);
    expect(r.code, r.err).toBe(1);
    const plan = r.out.indexOf('plan:\netcd (rolling):');
    expect(plan).toBeGreaterThanOrEqual(0);
    expect(r.out.indexOf('etcd: verify of the new version')).toBeGreaterThan(plan);
    expect(r.out).toContain('etcd: verify after going back (rolled-back)');
    expect(r.err).toContain('upgrade failed: etcd rolled-back');
    expect(readFileSync(summary, 'utf8')).toMatch(
      /\| ↩️ \| etcd \| rolling \| etcd: quay\.io\/coreos\/etcd:v3\.5\.17 → quay\.io\/coreos\/etcd:\S+ \| rolled-back \| [\d.]+m?s \| fail \(\d+ passed, 1 failed\) \| pass \(1 passed, 0 failed\) \|/,
    );
    expect(Date.now() - t0).toBeLessThan(45_000);
  }, 120_000);
});
