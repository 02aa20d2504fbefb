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
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { deploy } from '../../src/app/deploy.ts';
import { fromFlag } from '../../src/app/settings.ts';
import { REPO } from '../actions-entry/run-action.ts';
import { SimCluster } from '../sim/cluster.ts';
import { pinnedImages } from '../sim/images.ts';
import { describeWithSim } from './sim-available.ts';

const NS = 'voiceassistant-infra';
const DEPLOYED = ['postgres', 'redis'];

interface Probe {
  expect: 'allowed' | 'denied';
  as: string;
  labels: string;
  host: string;
  port: number;
  why: string;
}

let sim: SimCluster;
const lines: string[] = [];
const log = (c: string, m: string) => lines.push(`[${c}] ${m.split('\n')[0]!.slice(0, 200)}`);

/**
 * What `kubectl run NAME --restart=Never --image=busybox:1.37.0 [--labels L] -- sh -c CMD` creates:
 * a Pod with labels `run=NAME` unless --labels replaces them, one container named NAME, the words
 * after `--` as its args (kubernetes/kubectl pkg/cmd/run/run.go: generateService/createGeneratedObject,
 * the BasicPod it builds). Created here through the stand-in's store; the rest is the kubelet's.
 */
function runProbePod(name: string, labels: string, command: string): void {
  const parsed = labels
    ? Object.fromEntries(labels.split(',').map((kv) => kv.split('=') as [string, string]))
    : { run: name };
  sim.api.put({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, labels: parsed },
    spec: {
      restartPolicy: 'Never',
      containers: [{ name, image: 'busybox:1.37.0', args: ['sh', '-c', command] }],
    },
  });
}

/** Runs one probe like the workflow's loop (3 attempts for an allowed one); nc's exit status, or ''. */
async function probe(p: Probe, n: number): Promise<{ result: string; ms: number; out: string }> {
  let result = '';
  let out = '';
  const t0 = Date.now();
  for (let attempt = 1; attempt <= 3; attempt++) {
    const name = `netpol-probe-${n}-${attempt}`;
    runProbePod(name, p.labels, `nc -zv -w 3 ${p.host} ${p.port}; echo nc-exit=$?`);
    const deadline = Date.now() + 30_000;
    let phase = '';
    while (Date.now() < deadline) {
      phase = sim.api.get('v1', 'Pod', NS, name)?.status?.phase ?? '';
      if (phase === 'Succeeded' || phase === 'Failed') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    out = sim.api.logs.get(`${NS}/${name}/${name}/false`) ?? `(no log; phase ${phase || 'none'})`;
    result =
      out
        .match(/nc-exit=(\d+)/g)
        ?.pop()
        ?.slice('nc-exit='.length) ?? '';
    sim.api.remove('v1', 'Pod', NS, name); // --rm
    if (p.expect === 'denied' || result === '0') break;
    await new Promise((r) => setTimeout(r, 500));
  }
  return { result, ms: Date.now() - t0, out };
}

describeWithSim(
  'PR pipeline NetworkPolicy assertion on the simulated cluster (stand-in cluster, nft-enforced)',
  () => {
    let probes: Probe[];
    beforeAll(async () => {
      try {
        execFileSync('sh', ['-c', 'command -v nc'], { stdio: 'ignore' });
      } catch {
        throw new Error('needs nc (apt: netcat-openbsd) for the busybox image model');
      }
      sim = await new SimCluster({ images: [...pinnedImages(REPO), 'busybox:1.37.0'] }).start();
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
      probes = JSON.parse(
        execFileSync(
          process.execPath,
          [join(REPO, 'scripts/network-probes.ts'), '--components', JSON.stringify(DEPLOYED)],
          { cwd: REPO, encoding: 'utf8', timeout: 60_000 },
        ),
      );
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
      const a = await probe(allowed, 1);
      expect(a.result, `${allowed.why}: ${a.out}`).toBe('0');
      const d = await probe(denied, 2);
      expect(d.result, `${denied.why}: ${d.out}`).toBe('1');
      // dropped, not reset: nc waited its 3 s (kindnetd drops what the policies refuse)
      expect(d.ms).toBeGreaterThanOrEqual(3000);
      console.log(
        `netpol: ${allowed.as} -> ${allowed.host}:${allowed.port} connected in ${a.ms} ms; unlabelled pod refused after ${d.ms} ms`,
      );
    }, 120_000);
  },
);
