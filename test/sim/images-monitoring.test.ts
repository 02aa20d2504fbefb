/**
 * Image models of the full profile on the simulated cluster (test/sim, a stand-in cluster): the
 * Alertmanager component deployed by kindling's deploy use case from the real rendered manifests
 * (its Secret-mounted config, `--cluster.listen-address=`, nobody, a read-only root) runs this
 * machine's real Alertmanager (Debian 0.25 for the pinned v0.27.0), ready by its executed probes and
 * verified by the catalog's `ready` check through a port-forward.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { deploy } from '../../src/app/deploy.ts';
import { fromFlag } from '../../src/app/settings.ts';
import { REPO } from '../actions-entry/run-action.ts';
import { describeWithSim } from '../e2e/sim-available.ts';
import { SimCluster } from './cluster.ts';

let sim: SimCluster;
const lines: string[] = [];

describeWithSim(
  'simulated cluster (stand-in): the Alertmanager image model runs the real Alertmanager',
  () => {
    beforeAll(async () => {
      sim = await new SimCluster().start();
    }, 30_000);
    afterAll(async () => {
      await sim?.stop();
    });

    it('kindling deploys alertmanager (StatefulSet ready) and its catalog check passes against the real process', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'kindling-sim-am-'));
      const kubeconfig = join(dir, 'kubeconfig');
      writeFileSync(kubeconfig, sim.kubeconfigYaml());
      const t0 = Date.now();
      const out = await deploy(
        {
          catalog: fromFlag('--catalog', join(REPO, 'manifests/stack.yaml')),
          profile: fromFlag('--profile', undefined),
          components: fromFlag('--components', 'alertmanager'),
          sizing: fromFlag('--sizing', 'kind'),
          timeout: fromFlag('--timeout', '60s'),
          verify: fromFlag('--verify', true),
          diagnostics: fromFlag('--diagnostics', join(dir, 'diagnostics')),
          kubeconfig: fromFlag('--kubeconfig', kubeconfig),
          context: fromFlag('--context', undefined),
        },
        { log: (c: string, m: string) => lines.push(`[${c}] ${m.split('\n')[0]}`) },
      );
      expect(out.error?.message, lines.join('\n')).toBeUndefined();
      const checks = (out.verified?.results ?? []).map((r) => `${r.component}/${r.check}:${r.status}`);
      expect(checks).toEqual([
        'alertmanager/ready:pass',
        'namespace/pods-ready:pass',
        'namespace/services-endpoints:pass',
        'namespace/pvcs-bound:pass',
      ]);
      const ps = sim.api.get('v1', 'Pod', 'voiceassistant-infra', 'alertmanager-0');
      expect(ps?.status?.containerStatuses?.[0]?.ready).toBe(true);
      console.log(`alertmanager deployed and verified on the simulation in ${Date.now() - t0} ms`);
    }, 90_000);
  },
);
