/**
 * Simulation (test infrastructure): the kubelet of the simulated kind node. Per pod bound to the
 * node it does what kubernetes/kubernetes `pkg/kubelet` does, in order:
 * - sandbox and volumes (`kubelet.go` syncPod; `volumemanager`: a missing ConfigMap/Secret volume
 *   keeps the pod ContainerCreating with `FailedMount`; fsGroup ownership as `pkg/volume/volume_linux.go`);
 * - init containers one at a time, then the containers (`kuberuntime/kuberuntime_manager.go` SyncPod);
 * - per container (`kuberuntime/kuberuntime_container.go` startContainer): pull through the registry
 *   (`images/image_manager.go`: ErrImagePull, then ImagePullBackOff while backing off, 10 s doubling
 *   to 5 min), the environment (`kubelet_pods.go`; failure = CreateContainerConfigError with its
 *   message, retried on every sync), then create + start (an executable the image lacks:
 *   StartError / RunContainerError);
 * - exits and restarts by restartPolicy with CrashLoopBackOff (`back-off 10s restarting failed
 *   container=C pod=P_NS(UID)`, 10 s doubling to 5 min) and lastState.terminated;
 * - startup, liveness and readiness probes executed (`prober/worker.go`: startup first, liveness
 *   and readiness after it; a liveness/startup failure threshold kills and restarts the container);
 * - the pod status (`kubelet_pods.go` generateAPIPodStatus / getPhase) and Events.
 * Simulated seconds (probe periods, back-offs) are scaled by the SimClock.
 */
import { type ChildProcess, execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Obj } from './apiserver.ts';
import { condition, mergeConditions, type SimContext } from './context.ts';
import { NODE_NAME } from './controllers/volumes.ts';
import { containerEnv, EnvError, expand } from './env.ts';
import type { ImageModel, ImageRegistry } from './images.ts';
import { runProbe } from './probes.ts';
import type { ContainerSpec, Mount, Sandbox, SimNode } from './runtime.ts';

const HOST_IP = '172.18.0.2';
const MAX_BACKOFF_S = 300;

interface Ctr {
  spec: Obj;
  init: boolean;
  attempt: number;
  restartCount: number;
  proc?: ChildProcess;
  root?: string;
  model?: ImageModel;
  env?: Record<string, string>;
  state: Obj;
  lastState: Obj;
  /** Set while a restart or pull waits out its back-off (real ms since epoch). */
  backoffUntil: number;
  backoffS: number;
  pullBackoffUntil: number;
  pullBackoffS: number;
  pullErrorUntil: number;
  pulled: boolean;
  started: boolean;
  ready: boolean;
  probeTimers: NodeJS.Timeout[];
  killedBy?: string;
  logs: string;
  containerID?: string;
}

export class SimKubelet {
  readonly ctx: SimContext;
  readonly node: SimNode;
  readonly registry: ImageRegistry;
  private readonly workers = new Map<string, PodWorker>();
  /** Where the hosts file of every pod gets its cluster-DNS stand-in lines. */
  dnsLines: () => string[] = () => [];

  constructor(ctx: SimContext, node: SimNode, registry: ImageRegistry) {
    this.ctx = ctx;
    this.node = node;
    this.registry = registry;
  }

  sync(): void {
    const pods = this.ctx.list('v1', 'Pod').filter((p) => p.spec.nodeName === NODE_NAME);
    const live = new Set(pods.map((p) => p.metadata.uid));
    for (const [uid, w] of this.workers)
      if (!live.has(uid)) {
        this.workers.delete(uid);
        void w.kill();
      }
    for (const p of pods) {
      let w = this.workers.get(p.metadata.uid);
      if (!w) {
        w = new PodWorker(this, p);
        this.workers.set(p.metadata.uid, w);
      }
      w.kick();
    }
  }

  /** The running container a `pods/exec` reaches, for the kube-ws stand-in. */
  container(namespace: string, pod: string, container: string) {
    for (const w of this.workers.values())
      if (w.pod.metadata.namespace === namespace && w.pod.metadata.name === pod)
        return w.execTarget(container);
    return undefined;
  }

  /** Rewrites every pod's hosts file (service endpoints changed). */
  refreshHosts(): void {
    for (const w of this.workers.values()) w.writeHosts();
  }

  async stop(): Promise<void> {
    await Promise.all([...this.workers.values()].map((w) => w.kill()));
    this.workers.clear();
  }
}

class PodWorker {
  readonly k: SimKubelet;
  pod: Obj;
  private sandbox?: Sandbox;
  private mounts?: Map<string, string>;
  private readonly ctrs: Ctr[];
  private busy = false;
  private again = false;
  private dead = false;
  private startTime = new Date().toISOString();

  constructor(k: SimKubelet, pod: Obj) {
    this.k = k;
    this.pod = pod;
    const mk = (spec: Obj, init: boolean): Ctr => ({
      spec,
      init,
      attempt: 0,
      restartCount: 0,
      state: { waiting: { reason: init ? 'PodInitializing' : 'ContainerCreating' } },
      lastState: {},
      backoffUntil: 0,
      backoffS: 0,
      pullBackoffUntil: 0,
      pullBackoffS: 0,
      pullErrorUntil: 0,
      pulled: false,
      started: false,
      ready: false,
      probeTimers: [],
      logs: '',
    });
    this.ctrs = [
      ...(pod.spec.initContainers ?? []).map((c: Obj) => mk(c, true)),
      ...(pod.spec.containers ?? []).map((c: Obj) => mk(c, false)),
    ];
    for (const c of this.ctrs)
      if (!c.init)
        c.state = { waiting: { reason: this.hasInit() ? 'PodInitializing' : 'ContainerCreating' } };
  }

  private get ctx() {
    return this.k.ctx;
  }

  private hasInit() {
    return this.ctrs.some((c) => c.init);
  }

  kick(): void {
    if (this.dead) return;
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    this.step()
      .catch((err) => {
        console.error(`[sim kubelet] pod ${this.pod.metadata.name}: ${(err as Error).stack}`);
      })
      .finally(() => {
        this.busy = false;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  private fresh(): Obj | undefined {
    return this.ctx.get('v1', 'Pod', this.pod.metadata.namespace, this.pod.metadata.name);
  }

  private async step(): Promise<void> {
    const current = this.fresh();
    if (!current || current.metadata.uid !== this.pod.metadata.uid || this.dead) return;
    this.pod = current;
    if (!this.sandbox) {
      this.sandbox = await this.k.node.createSandbox(this.pod.metadata.uid);
      this.writeHosts();
    }
    if (!this.mounts && !this.prepareVolumes()) return this.writeStatus();
    const terminal = this.podTerminal();
    if (!terminal) {
      const inits = this.ctrs.filter((c) => c.init);
      let initDone = true;
      for (const c of inits) {
        if (c.state.terminated?.exitCode === 0) continue;
        initDone = false;
        this.drive(c);
        break;
      }
      if (initDone) for (const c of this.ctrs.filter((x) => !x.init)) this.drive(c);
    }
    this.writeStatus();
  }

  private restartPolicy(): string {
    return this.pod.spec.restartPolicy ?? 'Always';
  }

  private podTerminal(): boolean {
    const main = this.ctrs.filter((c) => !c.init);
    const policy = this.restartPolicy();
    if (policy === 'Always') return false;
    if (main.every((c) => c.state.terminated && (c.state.terminated.exitCode === 0 || policy === 'Never')))
      return true;
    return this.ctrs.some(
      (c) => c.init && c.state.terminated && c.state.terminated.exitCode !== 0 && policy === 'Never',
    );
  }

  /** Advances one container: start it when due, or report why it waits. */
  private drive(c: Ctr): void {
    if (c.proc) return;
    const policy = this.restartPolicy();
    const t = c.state.terminated;
    if (t) {
      const restart =
        policy === 'Always' ||
        (policy === 'OnFailure' && t.exitCode !== 0) ||
        (c.init && t.exitCode !== 0 && policy !== 'Never');
      if (!restart) return;
      if (Date.now() < c.backoffUntil) {
        const pod = `${this.pod.metadata.name}_${this.pod.metadata.namespace}(${this.pod.metadata.uid})`;
        c.lastState = { terminated: t };
        c.state = {
          waiting: {
            reason: 'CrashLoopBackOff',
            message: `back-off ${c.backoffS}s restarting failed container=${c.spec.name} pod=${pod}`,
          },
        };
        this.event(
          'Warning',
          'BackOff',
          `Back-off restarting failed container ${c.spec.name} in pod ${pod}`,
          c,
        );
        return;
      }
    } else if (c.state.waiting?.reason === 'CrashLoopBackOff') {
      if (Date.now() < c.backoffUntil) return;
    }
    this.start(c);
  }

  private start(c: Ctr): void {
    const image = c.spec.image as string;
    // 1. image
    if (!c.pulled) {
      // the failed sync's pod is re-synced a little later (pod_workers.go requeue after an error):
      // ErrImagePull stays visible until then, ImagePullBackOff for the rest of the back-off
      if (Date.now() < c.pullErrorUntil) return;
      if (Date.now() < c.pullBackoffUntil) {
        c.state = { waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}"` } };
        this.event('Normal', 'BackOff', `Back-off pulling image "${image}"`, c);
        this.event('Warning', 'Failed', 'Error: ImagePullBackOff', c);
        return;
      }
      this.event('Normal', 'Pulling', `Pulling image "${image}"`, c);
      const pulled = this.k.registry.pull(image);
      if ('error' in pulled) {
        c.pullBackoffS = c.pullBackoffS ? Math.min(MAX_BACKOFF_S, c.pullBackoffS * 2) : 10;
        c.pullBackoffUntil = Date.now() + this.ctx.ms(c.pullBackoffS);
        c.pullErrorUntil = Date.now() + this.ctx.ms(Math.min(3, c.pullBackoffS / 2));
        c.state = { waiting: { reason: 'ErrImagePull', message: pulled.error } };
        this.event('Warning', 'Failed', `Failed to pull image "${image}": ${pulled.error}`, c);
        this.event('Warning', 'Failed', 'Error: ErrImagePull', c);
        return;
      }
      c.model = pulled.model;
      c.pulled = true;
      this.event('Normal', 'Pulled', `Container image "${image}" already present on machine`, c);
    }
    // 2. environment
    let env: Record<string, string>;
    try {
      env = this.envOf(c.spec);
    } catch (err) {
      if (!(err instanceof EnvError)) throw err;
      c.state = { waiting: { reason: 'CreateContainerConfigError', message: err.message } };
      this.event('Warning', 'Failed', `Error: ${err.message}`, c);
      return;
    }
    // 3. create + start
    const model = c.model!;
    const lookup = (n: string) => env[n];
    const command = (c.spec.command ?? model.entrypoint).map((a: string) => expand(a, lookup));
    const args = (c.spec.args ?? (c.spec.command ? [] : model.cmd)).map((a: string) => expand(a, lookup));
    let argv = [...command, ...args];
    argv = model.process?.(argv) ?? argv;
    const sc = { ...(this.pod.spec.securityContext ?? {}), ...(c.spec.securityContext ?? {}) };
    const spec: ContainerSpec = {
      name: c.spec.name,
      argv,
      env: {
        HOSTNAME: this.pod.spec.hostname ?? this.pod.metadata.name,
        ...(model.process ? {} : {}),
        SIM_DEFAULT_CMD: model.cmd[0] ?? '',
        ...env,
      },
      mounts: this.containerMounts(c.spec),
      ...this.userOf(c),
      passwd: model.passwd ?? [],
      ...(c.spec.workingDir ? { workingDir: c.spec.workingDir } : {}),
    };
    const lacking = missingExecutable(model, argv[0]!);
    if (lacking) {
      const message = `failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "${argv[0]}": executable file not found in $PATH: unknown`;
      this.terminated(c, { exitCode: 128, reason: 'StartError', message });
      this.event('Warning', 'Failed', `Error: ${message}`, c);
      return;
    }
    const base = join(this.sandbox!.dir, 'containers', `${c.spec.name}-${c.attempt}`);
    addImageFiles(join(base, 'upper'), model);
    c.root = this.sandbox!.prepare(spec, c.attempt);
    if (sc.readOnlyRootFilesystem)
      execFileSync('nsenter', [
        '-t',
        String(this.sandbox!.pid),
        '-m',
        'mount',
        '-o',
        'remount,bind,ro',
        c.root,
      ]);
    c.env = spec.env;
    if (c.attempt > 0) {
      c.restartCount++;
      this.ctx.api.logs.set(this.logKey(c, true), c.logs);
    }
    c.logs = '';
    c.attempt++;
    c.containerID = `containerd://${this.pod.metadata.uid.replace(/[^a-z0-9]/g, '')}${c.spec.name}${c.attempt}`;
    this.event('Normal', 'Created', `Created container ${c.spec.name}`, c);
    const proc = this.sandbox!.spawn(spec, c.root);
    c.proc = proc;
    // the termination this start replaces is what lastState reports from now on
    if (c.state.terminated) c.lastState = { terminated: c.state.terminated };
    const startedAt = new Date().toISOString();
    c.state = { running: { startedAt } };
    c.started = !c.spec.startupProbe;
    c.ready = false;
    c.killedBy = undefined;
    this.event('Normal', 'Started', `Started container ${c.spec.name}`, c);
    const onData = (d: Buffer) => {
      c.logs += d.toString();
      if (c.logs.length > 200_000) c.logs = c.logs.slice(-100_000);
      this.ctx.api.logs.set(this.logKey(c, false), c.logs);
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    proc.on('close', (code, signal) => {
      c.proc = undefined;
      for (const t of c.probeTimers) clearTimeout(t);
      c.probeTimers = [];
      if (this.dead) return;
      const exitCode = code ?? (signal === 'SIGKILL' ? 137 : 143);
      this.terminated(c, { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', startedAt });
      this.kick();
    });
    if (!c.init) this.startProbes(c);
  }

  private terminated(
    c: Ctr,
    t: { exitCode: number; reason: string; message?: string; startedAt?: string },
  ): void {
    c.ready = false;
    c.started = false;
    const finishedAt = new Date().toISOString();
    c.state = {
      terminated: {
        exitCode: t.exitCode,
        reason: t.reason,
        ...(t.message ? { message: t.message } : {}),
        startedAt: t.startedAt ?? finishedAt,
        finishedAt,
        ...(c.containerID ? { containerID: c.containerID } : {}),
      },
    };
    if (t.exitCode !== 0 || this.restartPolicy() === 'Always') {
      // the first restart is immediate; later ones back off 10 s, doubling (kubelet backOff.Next)
      c.backoffUntil = c.backoffS ? Date.now() + this.ctx.ms(c.backoffS) : 0;
      c.backoffS = c.backoffS ? Math.min(MAX_BACKOFF_S, c.backoffS * 2) : 10;
    }
  }

  private startProbes(c: Ctr): void {
    const schedule = (kind: 'startup' | 'liveness' | 'readiness') => {
      const probe = c.spec[`${kind}Probe`];
      if (!probe) {
        if (kind === 'readiness') c.ready = c.started;
        return;
      }
      let failures = 0;
      let successes = 0;
      const tick = async () => {
        if (!c.proc || this.dead) return;
        if (kind !== 'startup' && !c.started) return again();
        const r = await runProbe(probe, c.spec, this.sandbox!, (argv, timeoutMs) =>
          this.execCapture(c, argv, timeoutMs),
        );
        if (!c.proc || this.dead) return;
        if (r.ok) {
          failures = 0;
          successes++;
          if (kind === 'startup') {
            c.started = true;
            if (!c.spec.readinessProbe) c.ready = true;
            this.kick();
            return; // the startup probe stops once it succeeded
          }
          if (kind === 'readiness' && successes >= (probe.successThreshold ?? 1) && !c.ready) {
            c.ready = true;
            this.kick();
          }
        } else {
          successes = 0;
          failures++;
          const label = kind[0]!.toUpperCase() + kind.slice(1);
          this.event('Warning', 'Unhealthy', `${label} probe failed: ${r.message}`, c);
          if (kind === 'readiness' && c.ready) {
            c.ready = false;
            this.kick();
          }
          if (kind !== 'readiness' && failures >= (probe.failureThreshold ?? 3)) {
            this.event(
              'Normal',
              'Killing',
              `Container ${c.spec.name} failed ${kind} probe, will be restarted`,
              c,
            );
            c.killedBy = kind;
            this.sandbox!.kill(c.proc);
            return;
          }
        }
        again();
      };
      const again = () => {
        c.probeTimers.push(setTimeout(tick, this.ctx.ms(probe.periodSeconds ?? 10)));
      };
      c.probeTimers.push(setTimeout(tick, this.ctx.ms(probe.initialDelaySeconds ?? 0)));
    };
    schedule('startup');
    schedule('liveness');
    schedule('readiness');
    if (!c.spec.startupProbe && !c.spec.readinessProbe) c.ready = true;
  }

  /** Runs argv in the container like an exec probe (exit code and combined output). */
  private execCapture(c: Ctr, argv: string[], timeoutMs: number): Promise<{ code: number; output: string }> {
    return new Promise((resolve) => {
      if (missingExecutable(c.model!, argv[0]!))
        return resolve({ code: 126, output: `exec: "${argv[0]}": executable file not found in $PATH` });
      const child = this.sandbox!.enter(this.userOf(c), c.root!, argv, c.env ?? {}, [
        'ignore',
        'pipe',
        'pipe',
      ]);
      let output = '';
      child.stdout?.on('data', (d) => (output += d));
      child.stderr?.on('data', (d) => (output += d));
      const timer = setTimeout(() => {
        this.sandbox!.kill(child);
        resolve({ code: -1, output });
      }, timeoutMs);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code: code ?? 137, output });
      });
    });
  }

  private userOf(c: Ctr) {
    const sc = { ...(this.pod.spec.securityContext ?? {}), ...(c.spec.securityContext ?? {}) };
    const groups = [
      this.pod.spec.securityContext?.fsGroup,
      ...(this.pod.spec.securityContext?.supplementalGroups ?? []),
    ].filter((g) => g !== undefined);
    return sc.runAsUser !== undefined
      ? { uid: sc.runAsUser, gid: sc.runAsGroup ?? sc.runAsUser, groups }
      : {};
  }

  /** What `pods/exec` reaches: the container's root, user and environment, or why it cannot. */
  execTarget(container: string) {
    const c = this.ctrs.find((x) => x.spec.name === container && !x.init);
    if (!c?.proc || !c.root || !this.sandbox) return undefined;
    return { sandbox: this.sandbox, root: c.root, env: c.env ?? {}, user: this.userOf(c), model: c.model! };
  }

  private envOf(spec: Obj): Record<string, string> {
    const ns = this.pod.metadata.namespace;
    return containerEnv(spec, {
      pod: { ...this.pod, status: { ...(this.pod.status ?? {}), podIP: this.sandbox?.ip, hostIP: HOST_IP } },
      configMap: (n) => this.ctx.get('v1', 'ConfigMap', ns, n),
      secret: (n) => this.ctx.get('v1', 'Secret', ns, n),
      services: this.ctx.list('v1', 'Service', ns),
      master: {
        metadata: { name: 'kubernetes' },
        spec: { clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443, protocol: 'TCP' }] },
      },
    });
  }

  /** Volumes on the node: emptyDir, configMap, secret, persistentVolumeClaim. False while one is missing. */
  private prepareVolumes(): boolean {
    const ns = this.pod.metadata.namespace;
    const dir = join(this.sandbox!.dir, 'volumes');
    const fsGroup = this.pod.spec.securityContext?.fsGroup;
    const out = new Map<string, string>();
    for (const v of this.pod.spec.volumes ?? []) {
      const path = join(dir, v.name);
      const fail = (message: string) => {
        this.event('Warning', 'FailedMount', `MountVolume.SetUp failed for volume "${v.name}" : ${message}`);
        return false;
      };
      if (v.emptyDir) {
        mkdirSync(path, { recursive: true });
        chmodSync(path, 0o777);
      } else if (v.configMap || v.secret) {
        const isCm = !!v.configMap;
        const ref = v.configMap ?? v.secret;
        const name = isCm ? ref.name : ref.secretName;
        const obj = this.ctx.get('v1', isCm ? 'ConfigMap' : 'Secret', ns, name);
        if (!obj && !ref.optional) return fail(`${isCm ? 'configmap' : 'secret'} "${name}" not found`);
        mkdirSync(path, { recursive: true });
        const data: Record<string, string> = {};
        for (const [k, val] of Object.entries<string>(obj?.data ?? {}))
          data[k] = isCm ? val : Buffer.from(val, 'base64').toString();
        const items: Obj[] = ref.items ?? Object.keys(data).map((key) => ({ key, path: key }));
        for (const it of items) {
          if (data[it.key] === undefined) {
            if (ref.optional) continue;
            return fail(`configmap references non-existent config key: ${it.key}`);
          }
          const file = join(path, it.path);
          mkdirSync(dirname(file), { recursive: true });
          writeFileSync(file, data[it.key]!, { mode: it.mode ?? ref.defaultMode ?? 0o644 });
        }
      } else if (v.persistentVolumeClaim) {
        const pvc = this.ctx.get('v1', 'PersistentVolumeClaim', ns, v.persistentVolumeClaim.claimName);
        const pv = pvc?.spec?.volumeName
          ? this.ctx.get('v1', 'PersistentVolume', undefined, pvc.spec.volumeName)
          : undefined;
        if (!pv) return fail(`persistentvolumeclaim "${v.persistentVolumeClaim.claimName}" is not bound`);
        out.set(v.name, pv.spec.hostPath.path);
        if (fsGroup !== undefined) setOwnership(pv.spec.hostPath.path, fsGroup);
        continue;
      } else {
        mkdirSync(path, { recursive: true });
      }
      if (fsGroup !== undefined && (v.emptyDir || v.configMap || v.secret)) setOwnership(path, fsGroup);
      out.set(v.name, path);
    }
    this.mounts = out;
    return true;
  }

  private containerMounts(spec: Obj): Mount[] {
    return (spec.volumeMounts ?? []).map((m: Obj) => ({
      source: m.subPath ? join(this.mounts!.get(m.name)!, m.subPath) : this.mounts!.get(m.name)!,
      target: m.mountPath,
      readOnly: !!m.readOnly,
    }));
  }

  writeHosts(): void {
    if (!this.sandbox) return;
    const p = this.pod;
    const lines = [
      '# Kubernetes-managed hosts file.',
      '127.0.0.1\tlocalhost',
      '::1\tlocalhost ip6-localhost ip6-loopback',
    ];
    const host = p.spec.hostname ?? p.metadata.name;
    const fqdn = p.spec.subdomain
      ? `${host}.${p.spec.subdomain}.${p.metadata.namespace}.svc.cluster.local\t`
      : '';
    lines.push(`${this.sandbox.ip}\t${fqdn}${host}`);
    lines.push(
      '# simulation: cluster DNS (CoreDNS) + kube-proxy stand-in, service names to endpoint pod IPs',
    );
    lines.push(...this.k.dnsLines().filter((l) => !l.startsWith(`${this.sandbox!.ip}\t${fqdn}`)));
    try {
      writeFileSync(this.sandbox.hostsFile, `${lines.join('\n')}\n`);
    } catch {
      // the sandbox is gone
    }
  }

  private logKey(c: Ctr, previous: boolean): string {
    return `${this.pod.metadata.namespace}/${this.pod.metadata.name}/${c.spec.name}/${previous}`;
  }

  private event(type: 'Normal' | 'Warning', reason: string, message: string, c?: Ctr): void {
    const fieldPath = c ? `spec.${c.init ? 'initContainers' : 'containers'}{${c.spec.name}}` : undefined;
    this.ctx.event(this.pod, type, reason, message, 'kubelet', fieldPath);
  }

  private writeStatus(): void {
    const pod = this.fresh();
    if (!pod || pod.metadata.uid !== this.pod.metadata.uid || this.dead) return;
    const inits = this.ctrs.filter((c) => c.init);
    const main = this.ctrs.filter((c) => !c.init);
    const initialized = inits.every((c) => c.state.terminated?.exitCode === 0);
    const allReady = main.every((c) => c.ready && c.proc);
    const policy = this.restartPolicy();
    let phase = 'Pending';
    if (main.every((c) => c.state.terminated) && policy !== 'Always') {
      phase = main.every((c) => c.state.terminated.exitCode === 0)
        ? 'Succeeded'
        : policy === 'Never'
          ? 'Failed'
          : 'Running';
    } else if (
      policy === 'Never' &&
      inits.some((c) => c.state.terminated && c.state.terminated.exitCode !== 0)
    )
      phase = 'Failed';
    else if (initialized && main.some((c) => c.proc || c.restartCount > 0 || c.state.terminated))
      phase = 'Running';
    const status = (c: Ctr) => ({
      name: c.spec.name,
      image: c.spec.image,
      imageID: c.pulled ? `${c.spec.image}@sha256:simulated` : '',
      ...(c.containerID ? { containerID: c.containerID } : {}),
      ready: !!(c.ready && c.proc),
      started: !!(c.proc && c.started),
      restartCount: c.restartCount,
      state: c.state,
      lastState: c.lastState,
    });
    const cond = mergeConditions(pod.status?.conditions, [
      condition('PodReadyToStartContainers', !!this.sandbox),
      condition(
        'Initialized',
        initialized,
        initialized
          ? {}
          : {
              reason: 'ContainersNotInitialized',
              message: `containers with incomplete status: [${inits
                .filter((c) => c.state.terminated?.exitCode !== 0)
                .map((c) => c.spec.name)
                .join(' ')}]`,
            },
      ),
      condition(
        'Ready',
        allReady && phase === 'Running',
        allReady
          ? {}
          : {
              reason: 'ContainersNotReady',
              message: `containers with unready status: [${main
                .filter((c) => !(c.ready && c.proc))
                .map((c) => c.spec.name)
                .join(' ')}]`,
            },
      ),
      condition(
        'ContainersReady',
        allReady,
        allReady
          ? {}
          : {
              reason: 'ContainersNotReady',
              message: `containers with unready status: [${main
                .filter((c) => !(c.ready && c.proc))
                .map((c) => c.spec.name)
                .join(' ')}]`,
            },
      ),
      condition('PodScheduled', true),
    ]);
    this.ctx.setStatus(pod, {
      phase,
      conditions: cond,
      hostIP: HOST_IP,
      hostIPs: [{ ip: HOST_IP }],
      ...(this.sandbox ? { podIP: this.sandbox.ip, podIPs: [{ ip: this.sandbox.ip }] } : {}),
      startTime: this.startTime,
      ...(inits.length ? { initContainerStatuses: inits.map(status) } : {}),
      containerStatuses: main.map(status),
      qosClass: 'Burstable',
    });
  }

  async kill(): Promise<void> {
    this.dead = true;
    for (const c of this.ctrs) for (const t of c.probeTimers) clearTimeout(t);
    await this.sandbox?.stop();
  }
}

/** An executable the image does not ship (by name or path), or undefined when it does. */
export function missingExecutable(model: ImageModel, bin: string): boolean {
  if (!model.ships) return false;
  return !model.ships.includes(bin) && !model.ships.includes(bin.split('/').pop()!);
}

function addImageFiles(upper: string, model: ImageModel): void {
  for (const [path, content] of Object.entries(model.files ?? {})) {
    const file = join(upper, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content, { mode: content.startsWith('#!') ? 0o755 : 0o644 });
  }
  for (const [path, target] of Object.entries(model.links ?? {})) {
    const file = join(upper, path);
    mkdirSync(dirname(file), { recursive: true });
    try {
      symlinkSync(target, file);
    } catch {
      // already there (a restarted container reuses nothing, but be safe)
    }
  }
}

/** fsGroup: group ownership and group rw (+setgid on directories), `pkg/volume/volume_linux.go`. */
function setOwnership(path: string, gid: number): void {
  execFileSync('sh', [
    '-c',
    'chgrp -R "$1" "$2" && chmod -R g+rwX "$2" && find "$2" -type d -exec chmod g+s {} +',
    'sim',
    String(gid),
    path,
  ]);
}
