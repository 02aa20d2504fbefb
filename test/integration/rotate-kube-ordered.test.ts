/**
 * A reader in an OrderedReady StatefulSet (the default podManagementPolicy) loses its credential the
 * moment the service takes the new one: its pod goes unready, and the StatefulSet controller stops
 * its rolling update at any pod that is not Running and Ready (kubernetes
 * pkg/controller/statefulset/stateful_set_control.go updateStatefulSet, monotonic; kubernetes#67250),
 * so `rollout restart` alone never replaces it. kindling deletes such a pod while it waits, as the
 * docs' "Forced rollback" does (src/rotate/kube.ts stuckReaders). Shown on the simulated cluster with
 * the stack's manifests, Nacos switched to OrderedReady (the stack runs it Parallel, which the
 * controller replaces by itself): its model is ready only while its MySQL login works.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { deploy } from '../../src/app/deploy.ts';
import { rotateStack } from '../../src/app/rotate.ts';
import { fromFlag } from '../../src/app/settings.ts';
import { readSecretsFile } from '../../src/rotate/state.ts';
import { REPO } from '../actions-entry/run-action.ts';
import { describeWithSim } from '../e2e/sim-available.ts';
import { SimCluster } from '../sim/cluster.ts';
import { pinnedImages } from '../sim/images.ts';

const NS = 'voiceassistant-infra';

describeWithSim(
  'rotation with an OrderedReady reader (simulated cluster; real MariaDB pod, Nacos stand-in)',
  () => {
    let sim: SimCluster;
    let dir: string;
    let catalog: string;
    let kubeconfig: string;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'kindling-rotate-ordered-'));
      cpSync(join(REPO, 'manifests'), join(dir, 'manifests'), { recursive: true });
      const nacos = join(dir, 'manifests/base/nacos.yaml');
      const text = readFileSync(nacos, 'utf8');
      expect(text).toContain('podManagementPolicy: Parallel');
      writeFileSync(
        nacos,
        text.replace('podManagementPolicy: Parallel', 'podManagementPolicy: OrderedReady'),
      );
      // two members: the restart replaces nacos-1 first, and nacos-0, on the retired password by then,
      // is the pod the ordered update would wait for
      const patch = join(dir, 'manifests/overlays/kind/patches/nacos.yaml');
      const p = readFileSync(patch, 'utf8');
      expect(p).toContain('replicas: 1');
      writeFileSync(patch, p.replace('replicas: 1', 'replicas: 2'));
      catalog = join(dir, 'manifests/stack.yaml');
      sim = await new SimCluster({ images: pinnedImages(REPO) }).start();
      kubeconfig = join(dir, 'kubeconfig');
      writeFileSync(kubeconfig, sim.kubeconfigYaml());
      const lines: string[] = [];
      const out = await deploy(
        {
          catalog: fromFlag('--catalog', catalog),
          profile: fromFlag('--profile', undefined),
          components: fromFlag('--components', 'nacos'),
          sizing: fromFlag('--sizing', 'kind'),
          timeout: fromFlag('--timeout', '150s'),
          verify: fromFlag('--verify', false),
          diagnostics: fromFlag('--diagnostics', join(dir, 'diagnostics')),
          kubeconfig: fromFlag('--kubeconfig', kubeconfig),
          context: fromFlag('--context', undefined),
        },
        { log: (c: string, m: string) => lines.push(`[${c}] ${m.split('\n')[0]}`) },
      );
      if (out.error) throw new Error(`deploy failed: ${out.error.message}\n${lines.slice(-20).join('\n')}`);
    }, 240_000);
    afterAll(async () => {
      await sim?.stop();
    });

    it('nacos-mysql: the unready Nacos pod on the old credential is deleted, comes back on the new one and is ready; rotated, the old password refused', async () => {
      const set = sim.api.get('apps/v1', 'StatefulSet', NS, 'nacos')!;
      expect(set.spec.podManagementPolicy).toBe('OrderedReady');
      const uid = sim.api.get('v1', 'Pod', NS, 'nacos-0')!.metadata.uid;
      const file = join(dir, 'secrets.json');
      const out: string[] = [];
      const results = await rotateStack(
        {
          catalog,
          components: 'nacos-mysql',
          target: 'kube',
          endpoints: [],
          writeSecrets: file,
          timeout: '10s',
          readyTimeout: '60s',
          kubeconfig,
        },
        { log: (l) => out.push(l) },
      );
      expect(
        results.map((r) => [r.key, r.outcome, r.oldRejected]),
        out.join('\n'),
      ).toEqual([['nacos-mysql/nacos-user', 'rotated', true]]);
      console.log(out.join('\n'));
      // (the seed password "nacos" is masked wherever it appears, so the pod reads ***-0)
      expect(out.join('\n')).toMatch(
        /deleted Pod\/\*\*\*-0: not Ready on the credential before the rotation, and its OrderedReady StatefulSet\/\*\*\* would not replace it/,
      );
      for (const name of ['nacos-0', 'nacos-1']) {
        const pod = sim.api.get('v1', 'Pod', NS, name)!;
        expect(pod.status.conditions.find((c: { type: string }) => c.type === 'Ready')?.status).toBe('True');
      }
      expect(sim.api.get('v1', 'Pod', NS, 'nacos-0')!.metadata.uid).not.toBe(uid);
      const fresh = readSecretsFile(file).credentials['nacos-mysql/nacos-user']!.current!;
      expect(out.join('\n')).not.toContain(fresh);
    }, 180_000);
  },
);
