/**
 * The PR pipeline's NetworkPolicy assertion (reusable-validate-deploy.yml, step "NetworkPolicies
 * allow one catalog edge and refuse an unlisted pod (busybox nc)") on the simulated cluster:
 * `node scripts/network-probes.ts --components DEPLOYED` names the connections exactly as the
 * workflow runs it, and one throwaway busybox pod per attempt runs
 * `sh -c "nc -zv -w 3 HOST PORT; echo nc-exit=$?"` as `kubectl run --restart=Never --labels` makes
 * it (3 attempts for an allowed one, as the workflow's loop). Used by test/e2e/netpol.test.ts and
 * the e2e pipeline (pipeline.ts).
 */
import { execFile, execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO } from '../actions-entry/run-action.ts';
import type { SimCluster } from '../sim/cluster.ts';

/** The probe pods' image, as the workflow pins it. */
export const PROBE_IMAGE = 'busybox:1.37.0';

export interface Probe {
  expect: 'allowed' | 'denied';
  as: string;
  labels: string;
  host: string;
  port: number;
  /** Traffic within one component: dial a running pod this selector selects, by IP, on podPort. */
  pod: string;
  podPort: number;
  why: string;
}

export interface ProbeRun {
  /** nc's exit status, or '' when the pod never printed one. */
  result: string;
  /** What nc dialled: the Service, or a pod's IP and container port (a probe with `pod`). */
  host: string;
  port: number;
  ms: number;
  out: string;
}

/** What the workflow's probe step needs on this machine beyond the simulation: `nc` for the busybox model. */
export function probeToolMissing(): string | undefined {
  try {
    execFileSync('sh', ['-c', 'command -v nc'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'needs nc (apt: netcat-openbsd) for the busybox image model';
  }
}

/** The workflow's own command: `node scripts/network-probes.ts --components "$DEPLOYED"`. */
export async function networkProbes(components: readonly string[]): Promise<Probe[]> {
  // async: the simulation's controllers and kubelet run in this process meanwhile
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [join(REPO, 'scripts/network-probes.ts'), '--components', JSON.stringify(components)],
    { cwd: REPO, encoding: 'utf8', timeout: 60_000 },
  );
  return JSON.parse(stdout);
}

/**
 * What `kubectl run NAME --restart=Never --image=busybox:1.37.0 [--labels L] -- sh -c CMD` creates:
 * a Pod with labels `run=NAME` unless --labels replaces them, one container named NAME, the words
 * after `--` as its args (kubernetes/kubectl pkg/cmd/run/run.go: generateService/createGeneratedObject,
 * the BasicPod it builds). Created here through the stand-in's store; the rest is the kubelet's.
 */
function runProbePod(sim: SimCluster, ns: string, name: string, labels: string, command: string): void {
  const parsed = labels
    ? Object.fromEntries(labels.split(',').map((kv) => kv.split('=') as [string, string]))
    : { run: name };
  sim.api.put({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, labels: parsed },
    spec: {
      restartPolicy: 'Never',
      containers: [{ name, image: PROBE_IMAGE, args: ['sh', '-c', command] }],
    },
  });
}

/** Runs one probe like the workflow's loop (3 attempts for an allowed one); each pod removed after (--rm). */
export async function probe(sim: SimCluster, ns: string, p: Probe, n: number): Promise<ProbeRun> {
  let result = '';
  let out = '';
  const t0 = Date.now();
  let host = p.host;
  let port = p.port;
  if (p.pod) {
    // the workflow's `kubectl get pods -l POD --field-selector=status.phase=Running`, probe pods left out
    const want = p.pod.split(',').map((kv) => kv.split('=') as [string, string]);
    const ip = sim.api
      .list('v1', 'Pod', ns)
      .find(
        (o) =>
          o.status?.phase === 'Running' &&
          o.status?.podIP &&
          !o.metadata.name.startsWith('netpol-probe-') &&
          want.every(([k, v]) => o.metadata.labels?.[k] === v),
      )?.status?.podIP;
    if (!ip) return { result: '', host, port, ms: Date.now() - t0, out: `no running pod matches ${p.pod}` };
    host = ip;
    port = p.podPort;
  }
  for (let attempt = 1; attempt <= 3; attempt++) {
    const name = `netpol-probe-${n}-${attempt}`;
    runProbePod(sim, ns, name, p.labels, `nc -zv -w 3 ${host} ${port}; echo nc-exit=$?`);
    const deadline = Date.now() + 30_000;
    let phase = '';
    while (Date.now() < deadline) {
      phase = sim.api.get('v1', 'Pod', ns, name)?.status?.phase ?? '';
      if (phase === 'Succeeded' || phase === 'Failed') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    out = sim.api.logs.get(`${ns}/${name}/${name}/false`) ?? `(no log; phase ${phase || 'none'})`;
    result =
      out
        .match(/nc-exit=(\d+)/g)
        ?.pop()
        ?.slice('nc-exit='.length) ?? '';
    sim.api.remove('v1', 'Pod', ns, name); // --rm
    if (p.expect === 'denied' || result === '0') break;
    await new Promise((r) => setTimeout(r, 500));
  }
  return { result, host, port, ms: Date.now() - t0, out };
}

/** The workflow's verdict on one probe run: undefined when it passes, else its `::error::` text. */
export function probeFailure(p: Probe, r: ProbeRun, n: number): string | undefined {
  if (r.result === '' && p.pod && r.out.startsWith('no running pod')) return `probe ${n} (${p.as}): ${r.out}`;
  if (r.result === '') return `probe ${n} (${p.as} -> ${r.host}:${r.port}) did not run: no nc exit status`;
  if (p.expect === 'allowed' && r.result !== '0')
    return `${p.why}: ${p.as} could not connect to ${r.host}:${r.port} (nc exit ${r.result})`;
  if (p.expect === 'denied' && r.result === '0')
    return `${p.as} connected to ${r.host}:${r.port}, which the NetworkPolicies must refuse (${p.why})`;
  return undefined;
}
