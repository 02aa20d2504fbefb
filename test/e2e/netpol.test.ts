/**
 * The PR pipeline's NetworkPolicy assertion (reusable-validate-deploy.yml, step "NetworkPolicies
 * allow one catalog edge and refuse an unlisted pod (busybox nc)") offline, on the simulated cluster
 * (test/sim, a stand-in cluster): kindling deploys postgres and redis with the generated policies,
 * `node scripts/network-probes.ts` names the allowed and the forbidden connection exactly as the
 * workflow runs it, and a throwaway busybox pod per probe runs
 * `sh -c "nc -zv -w 3 HOST PORT; echo nc-exit=$?"` as `kubectl run --restart=Never --labels` makes it.
 * The verdict is kindling's evaluator (src/security/evaluate.ts), enforced by real nftables rules in
 * the destination pod's network namespace (test/sim/netpol.ts) — evaluated, then kernel-enforced,
 * not kindnetd itself.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { deploy } from '../../src/app/deploy.ts';
import { fromFlag } from '../../src/app/settings.ts';
import { REPO } from '../actions-entry/run-action.ts';
import { SimCluster } from '../sim/cluster.ts';
import { pinnedImages } from '../sim/images.ts';
import { networkProbes, PROBE_IMAGE, type Probe, probe, probeToolMissing } from './netpol-probe.ts';
import { describeWithSim } from './sim-available.ts';

const NS = 'voiceassistant-infra';
const DEPLOYED = ['postgres', 'redis'];

let sim: SimCluster;
const lines: string[] = [];
const log = (c: string, m: string) => lines.push(`[${c}] ${m.split('\n')[0]!.slice(0, 200)}`);

describeWithSim(
  'PR pipeline NetworkPolicy assertion on the simulated cluster (stand-in cluster, nft-enforced)',
  () => {
    let probes: Probe[];
    beforeAll(async () => {
      const noNc = probeToolMissing();
      if (noNc) throw new Error(noNc);
      sim = await new SimCluster({ images: [...pinnedImages(REPO), PROBE_IMAGE] }).start();
      const dir = mkdtempSync(join(tmpdir(), 'kindling-netpol-e2e-'));
      const kubeconfig = join(dir, 'kubeconfig');
      writeFileSync(kubeconfig, sim.kubeconfigYaml());
      const out = await deploy(
        {
          catalog: fromFlag('--catalog', join(REPO, 'manifests/stack.yaml')),
          profile: fromFlag('--profile', undefined),
          components: fromFlag('--components', DEPLOYED.join(',')),
          sizing: fromFlag('--sizing', 'kind'),
          timeout: fromFlag('--timeout', '90s'),
          verify: fromFlag('--verify', false),
          diagnostics: fromFlag('--diagnostics', join(dir, 'diagnostics')),
          kubeconfig: fromFlag('--kubeconfig', kubeconfig),
          context: fromFlag('--context', undefined),
        },
        { log },
      );
      if (out.error)
        throw new Error(`deploy failed on the simulation: ${out.error.message}\n${lines.join('\n')}`);
      // the workflow's own command: node scripts/network-probes.ts --components "$DEPLOYED"
      probes = await networkProbes(DEPLOYED);
    }, 150_000);
    afterAll(async () => {
      await sim?.stop();
    });

    it('the generated NetworkPolicies are on the cluster, and network-probes names one allowed and one denied connection', () => {
      const names = sim.api.list('networking.k8s.io/v1', 'NetworkPolicy', NS).map((p) => p.metadata.name);
      expect(names).toContain('default-deny-ingress');
      expect(probes.map((p) => p.expect)).toEqual(['allowed', 'denied']);
    });

    it('the catalog edge connects (nc-exit=0) and the unlabelled busybox pod is refused (nc times out after -w 3)', async () => {
      const [allowed, denied] = probes as [Probe, Probe];
      const a = await probe(sim, NS, allowed, 1);
      expect(a.result, `${allowed.why}: ${a.out}`).toBe('0');
      const d = await probe(sim, NS, denied, 2);
      expect(d.result, `${denied.why}: ${d.out}`).toBe('1');
      // dropped, not reset: nc waited its 3 s (kindnetd drops what the policies refuse)
      expect(d.ms).toBeGreaterThanOrEqual(3000);
      console.log(
        `netpol: ${allowed.as} -> ${a.host}:${a.port} connected in ${a.ms} ms; unlabelled pod refused after ${d.ms} ms`,
      );
    }, 120_000);
  },
);
