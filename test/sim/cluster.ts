/**
 * Simulation (test infrastructure): a simulated kind cluster on this machine — the API stand-in
 * (test/standins/kube-api.ts, with its exec/port-forward front kube-ws.ts) plus the API server's
 * defaulting, the controllers (StatefulSet, Deployment/ReplicaSet, Job, EndpointSlice, scheduler + local-path volumes,
 * Events) and a kubelet whose containers are real processes in per-pod namespaces. Controllers run
 * in-process against the stand-in's store, like informers would see it, on every change and on a
 * 100 ms tick. Named a simulation everywhere: it is not a cluster, see test/sim/README.md for what
 * it does not do.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { KubeApiStandin } from '../standins/kube-api.ts';
import { KubeWsStandin } from '../standins/kube-ws.ts';
import { installDefaulting, type Obj } from './apiserver.ts';
import { type SimClock, SimContext } from './context.ts';
import { syncDeployment, syncReplicaSet } from './controllers/deployment.ts';
import { syncEndpointSlices } from './controllers/endpointslice.ts';
import { syncJob } from './controllers/job.ts';
import { syncStatefulSet } from './controllers/statefulset.ts';
import { NODE_NAME, STANDARD_CLASS, schedulePod, syncClaim } from './controllers/volumes.ts';
import { ImageRegistry, pinnedImages } from './images.ts';
import { missingExecutable, SimKubelet } from './kubelet.ts';
import { podFilters, TABLE } from './netpol.ts';
import { SimNode, simBaseDir } from './runtime.ts';

const REPO = resolve(import.meta.dirname, '../..');

export interface SimOptions {
  clock?: Partial<SimClock>;
  /** Image references the registry holds (default: the tags pinned by the stack). */
  images?: string[];
  /** Enforce NetworkPolicies in the pods' network namespaces (netpol.ts; default true, as kind ≥ 0.24). */
  networkPolicies?: boolean;
}

export class SimCluster {
  readonly api: KubeApiStandin;
  readonly ws: KubeWsStandin;
  readonly ctx: SimContext;
  readonly node: SimNode;
  readonly kubelet: SimKubelet;
  readonly registry: ImageRegistry;
  readonly dir: string;
  private readonly podPorts = new Map<string, number>();
  private readonly forwarded = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private scheduled = false;
  private dns = '';
  private stopped = false;
  private readonly enforce: boolean;
  /** The nftables ruleset applied in each sandbox (by pod uid; '' none). */
  private readonly filters = new Map<string, string>();

  constructor(opts: SimOptions = {}) {
    this.dir = mkdtempSync(join(simBaseDir(), 'kindling-sim-'));
    this.enforce = opts.networkPolicies ?? true;
    const msPerSecond = opts.clock?.msPerSecond ?? 100;
    // the apiserver's watch deadlines and bookmarks on the simulated clock: --min-request-timeout
    // 1800 s (a watch closes after 1800–3600 s) and a bookmark every minute (test/standins/kube-api.ts)
    this.api = new KubeApiStandin({
      minRequestTimeoutMs: 1800 * msPerSecond,
      bookmarkEveryMs: 60 * msPerSecond,
    });
    this.ctx = new SimContext(this.api, { msPerSecond, ...(opts.clock ?? {}) });
    this.registry = new ImageRegistry(opts.images ?? pinnedImages(REPO));
    this.node = new SimNode(join(this.dir, 'node'));
    this.kubelet = new SimKubelet(this.ctx, this.node, this.registry);
    this.kubelet.dnsLines = () => this.dnsLines();
    this.ws = new KubeWsStandin(this.api, {
      podPorts: this.podPorts,
      imageHas: (call) => {
        const t = this.kubelet.container(call.namespace, call.pod, call.container);
        return !t || !missingExecutable(t.model, call.command[0] ?? '');
      },
      spawnExec: (call, stdio) => {
        const t = this.kubelet.container(call.namespace, call.pod, call.container);
        if (!t) return this.notRunning(call.command[0] ?? '');
        return t.sandbox.enter(t.user, t.root, call.command, t.env, stdio);
      },
    });
  }

  async start(): Promise<this> {
    await this.api.start();
    await this.ws.start();
    await this.node.start();
    installDefaulting(this.api);
    for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease', 'local-path-storage'])
      this.api.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name }, status: { phase: 'Active' } });
    this.api.put(structuredClone(STANDARD_CLASS));
    this.api.put({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: NODE_NAME,
        labels: { 'kubernetes.io/hostname': NODE_NAME, 'node-role.kubernetes.io/control-plane': '' },
      },
      status: {
        conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }],
        addresses: [{ type: 'InternalIP', address: '172.18.0.2' }],
      },
    });
    this.api.listeners.add(() => this.schedule());
    this.timer = setInterval(() => this.reconcile(), 100);
    return this;
  }

  /** A kubeconfig for kindling (the exec/port-forward front, which proxies everything else). */
  kubeconfigYaml(): string {
    return this.api.kubeconfigYaml().replace(this.api.url, this.ws.url);
  }

  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.reconcile();
    });
  }

  /** One pass of every controller, the scheduler and the kubelet. */
  reconcile(): void {
    if (this.stopped) return;
    const ctx = this.ctx;
    for (const pvc of ctx.list('v1', 'PersistentVolumeClaim'))
      syncClaim(ctx, pvc, join(this.dir, 'local-path-provisioner'));
    for (const set of ctx.list('apps/v1', 'StatefulSet')) syncStatefulSet(ctx, set);
    for (const d of ctx.list('apps/v1', 'Deployment')) syncDeployment(ctx, d);
    for (const rs of ctx.list('apps/v1', 'ReplicaSet')) syncReplicaSet(ctx, rs);
    for (const job of ctx.list('batch/v1', 'Job')) syncJob(ctx, job);
    for (const pod of ctx.list('v1', 'Pod')) schedulePod(ctx, pod);
    this.kubelet.sync();
    for (const svc of ctx.list('v1', 'Service')) syncEndpointSlices(ctx, svc);
    if (this.enforce) this.enforcePolicies();
    const dns = this.dnsLines().join('\n');
    if (dns !== this.dns) {
      this.dns = dns;
      this.kubelet.refreshHosts();
    }
    void this.forwardPorts();
  }

  /**
   * Cluster DNS + kube-proxy stand-in for the pods' hosts files: a Service name resolves to its
   * first ready endpoint's pod IP (so service port = target port is assumed), a headless Service's
   * `<hostname>.<service>` to each endpoint (CoreDNS `kubernetes` plugin records).
   */
  private dnsLines(): string[] {
    const lines: string[] = [];
    for (const slice of this.ctx.list('discovery.k8s.io/v1', 'EndpointSlice')) {
      const svc = slice.metadata.labels?.['kubernetes.io/service-name'];
      const ns = slice.metadata.namespace;
      const ready = (slice.endpoints ?? []).filter((e: Obj) => e.conditions?.ready);
      if (ready[0])
        lines.push(
          `${ready[0].addresses[0]}\t${svc}.${ns}.svc.cluster.local ${svc}.${ns}.svc ${svc}.${ns} ${svc}`,
        );
      for (const e of slice.endpoints ?? [])
        if (e.hostname)
          lines.push(
            `${e.addresses[0]}\t${e.hostname}.${svc}.${ns}.svc.cluster.local ${e.hostname}.${svc}.${ns}.svc`,
          );
    }
    return lines.sort();
  }

  /** The NetworkPolicies as nftables rules in each pod's network namespace (netpol.ts decides). */
  private enforcePolicies(): void {
    const ctx = this.ctx;
    const wanted = podFilters(
      ctx.list('v1', 'Pod'),
      ctx.list('networking.k8s.io/v1', 'NetworkPolicy'),
      ctx.list('v1', 'Namespace'),
    );
    for (const sb of this.node.sandboxes) {
      const rules = wanted.get(sb.uid) ?? '';
      if ((this.filters.get(sb.uid) ?? '') === rules) continue;
      // create-then-delete makes the replacement idempotent, in one nft transaction
      const script = `table inet ${TABLE} {}\ndelete table inet ${TABLE}\n${rules}`;
      try {
        execFileSync('nsenter', ['-t', String(sb.pid), '-n', 'nft', '-f', '-'], {
          input: script,
          stdio: ['pipe', 'ignore', 'pipe'],
        });
        this.filters.set(sb.uid, rules);
      } catch (err) {
        if (!sb.stopped) throw new Error(`simulated node: nft in pod ${sb.uid}: ${(err as Error).message}`);
      }
    }
  }

  /** Declared container ports of running pods, reachable for the kube-ws port-forward. */
  private async forwardPorts(): Promise<void> {
    for (const pod of this.ctx.list('v1', 'Pod')) {
      if (!pod.status?.podIP) continue;
      for (const c of pod.spec.containers ?? [])
        for (const p of c.ports ?? []) {
          const key = `${pod.metadata.namespace}/${pod.metadata.name}:${p.containerPort}`;
          const id = `${pod.metadata.uid}:${p.containerPort}`;
          if (this.forwarded.has(id)) continue;
          const t = this.kubelet.container(pod.metadata.namespace, pod.metadata.name, c.name);
          if (!t) continue;
          this.forwarded.add(id);
          this.podPorts.set(key, await t.sandbox.forward(p.containerPort));
        }
    }
  }

  /** A container that is not running: the exec cannot start (the stand-in reports the spawn error). */
  private notRunning(bin: string) {
    return spawn(`/nonexistent/container-not-running/${bin}`, [], { stdio: 'ignore' });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.kubelet.stop();
    await this.ws.stop();
    await this.api.stop();
    await this.node.stop();
    try {
      rmSync(this.dir, { recursive: true, force: true });
    } catch {
      // a process still exiting holds a file: the OS temp cleaner gets the rest
    }
  }
}
