/**
 * Simulation (test infrastructure): the container runtime of the simulated kind node. No Docker or
 * containerd can run here, but Linux namespaces can, so a pod is what a CRI runtime makes of it:
 * - a sandbox ("pause") process holding the pod's own network namespace (loopback up, eth0 on the
 *   node's bridge with the pod IP — containerd's CNI setup, kind's kindnet/ptp in spirit) and mount
 *   namespace, as containerd's `pkg/cri/server/sandbox_run.go` creates one per pod;
 * - each container a real process in that sandbox, chrooted into its own copy-on-write root
 *   (overlayfs over this machine's root, since the image's binaries are this machine's), with the
 *   pod's volumes bind-mounted at their mountPaths (`pkg/kubelet/kubelet_pods.go` makeMounts) and
 *   the kubelet-managed /etc/hosts (`makeHostsMount`), as runAsUser/runAsGroup;
 * - exec and port-forward enter the sandbox like the CRI streaming server does (containerd
 *   `sandbox_portforward_linux.go` dials localhost:PORT inside the pod's network namespace).
 * Requires root (this machine's tests run as root); everything dies with its sandbox process.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';

export interface Mount {
  /** Host directory or file. */
  source: string;
  /** Path inside the container. */
  target: string;
  readOnly?: boolean;
}

export interface ContainerSpec {
  name: string;
  argv: string[];
  env: Record<string, string>;
  mounts: Mount[];
  uid?: number;
  gid?: number;
  /** Supplementary groups (fsGroup, supplementalGroups). */
  groups?: number[];
  /** Lines added to the container's /etc/passwd (the image's own users). */
  passwd?: string[];
  workingDir?: string;
}

const SH = (script: string, args: string[] = []) => ['sh', '-c', script, 'sim', ...args];
/**
 * Every long-lived process of the simulation gets SIGKILL when the process that started it dies
 * (prctl PR_SET_PDEATHSIG via util-linux setpriv, set after chroot's user switch, which clears it):
 * a killed test leaves no pods behind.
 */
const DIES_WITH_US = ['--pdeathsig', 'KILL'];
/** This checkout's root (test/sim/ is two levels down). */
const REPO = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');

function run(argv: string[]): string {
  return execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The kind node: a network namespace with the pod bridge (10.244.0.1/24). */
export class SimNode {
  readonly name = 'kind-control-plane';
  readonly dir: string;
  private holder: ChildProcess | undefined;
  private nextIp = 2;
  readonly sandboxes = new Set<Sandbox>();

  constructor(dir: string) {
    this.dir = dir;
    mkdirSync(dir, { recursive: true });
  }

  get pid(): number {
    return this.holder!.pid!;
  }

  async start(): Promise<void> {
    this.holder = spawn('setpriv', [...DIES_WITH_US, 'unshare', '-n', 'sleep', 'infinity'], {
      stdio: 'ignore',
    });
    await ownNamespaces(this.holder.pid!, ['net']);
    run([
      'nsenter',
      '-t',
      String(this.pid),
      '-n',
      ...SH(
        'ip link set lo up && ip link add br0 type bridge && ip addr add 10.244.0.1/24 dev br0 && ip link set br0 up',
      ),
    ]);
  }

  allocateIp(): string {
    if (this.nextIp > 254) throw new Error('simulated node: pod CIDR 10.244.0.0/24 exhausted');
    return `10.244.0.${this.nextIp++}`;
  }

  async createSandbox(uid: string): Promise<Sandbox> {
    const sb = new Sandbox(this, uid, join(this.dir, 'pods', uid), this.allocateIp());
    this.sandboxes.add(sb);
    try {
      await sb.start();
    } catch (err) {
      await sb.stop();
      throw err;
    }
    return sb;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.sandboxes].map((s) => s.stop()));
    this.holder?.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 50));
    try {
      rmSync(this.dir, { recursive: true, force: true });
    } catch {
      // a process still exiting holds a file
    }
  }
}

let vethSeq = 0;

/** One pod sandbox: its network + mount namespaces, held by a sleeping "pause" process. */
export class Sandbox {
  readonly node: SimNode;
  readonly uid: string;
  readonly dir: string;
  readonly ip: string;
  readonly hostsFile: string;
  private pause: ChildProcess | undefined;
  readonly processes = new Set<ChildProcess>();
  private readonly forwarders = new Set<Server>();
  private readonly dials = new Set<ChildProcess>();
  stopped = false;

  constructor(node: SimNode, uid: string, dir: string, ip: string) {
    this.node = node;
    this.uid = uid;
    this.dir = dir;
    this.ip = ip;
    this.hostsFile = join(dir, 'etc-hosts');
  }

  get pid(): number {
    return this.pause!.pid!;
  }

  async start(): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(this.hostsFile, '127.0.0.1 localhost\n');
    this.pause = spawn(
      'setpriv',
      [...DIES_WITH_US, 'unshare', '-m', '-n', '--propagation', 'private', 'sleep', 'infinity'],
      {
        stdio: 'ignore',
      },
    );
    await ownNamespaces(this.pid, ['net', 'mnt']);
    const veth = `sim${process.pid % 1000}v${vethSeq++}`;
    run([
      'nsenter',
      '-t',
      String(this.node.pid),
      '-n',
      ...SH(
        `ip link add ${veth} type veth peer name eth0 netns ${this.pid} && ip link set ${veth} master br0 up`,
      ),
    ]);
    run([
      'nsenter',
      '-t',
      String(this.pid),
      '-n',
      ...SH(
        `ip link set lo up && ip addr add ${this.ip}/24 dev eth0 && ip link set eth0 up && ip route add default via 10.244.0.1`,
      ),
    ]);
  }

  /** Prepares a container's root (overlay + volumes + hosts) inside the pod's mount namespace. */
  prepare(c: ContainerSpec, attempt: number): string {
    const base = join(this.dir, 'containers', `${c.name}-${attempt}`);
    const root = join(base, 'root');
    for (const d of ['upper', 'work', 'root', 'tmp']) mkdirSync(join(base, d), { recursive: true });
    const lines = [
      'set -e',
      `mount -t overlay overlay -o lowerdir=/,upperdir=${base}/upper,workdir=${base}/work ${root}`,
      `mount -t proc proc ${root}/proc`,
      `mount --rbind /dev ${root}/dev`,
      `mount --bind ${base}/tmp ${root}/tmp && chmod 1777 ${root}/tmp`,
      `mount --bind ${this.hostsFile} ${root}/etc/hosts`,
    ];
    for (const line of c.passwd ?? []) lines.push(`echo '${line}' >> ${root}/etc/passwd`);
    for (const m of c.mounts) {
      // resolve the mount point inside the container's root (e.g. /var/run -> /run in the image)
      lines.push(`t="$(chroot ${root} realpath -m '${m.target}')"`);
      const target = `${root}$t`;
      lines.push(
        `if [ -d '${m.source}' ]; then mkdir -p "${target}"; else mkdir -p "$(dirname "${target}")"; [ -e "${target}" ] || touch "${target}"; fi`,
        `mount --bind '${m.source}' "${target}"`,
      );
      if (m.readOnly) lines.push(`mount -o remount,bind,ro "${target}"`);
    }
    // The stand-in images run this checkout's binaries (node_modules/node, s3rver). A checkout under
    // /tmp (CI clones anywhere) is hidden by the container's own /tmp, or by a volume mounted there
    // as MinIO's is: bind it back on top of everything, read-only.
    lines.push(
      `mkdir -p ${root}${REPO}`,
      `mount --bind ${REPO} ${root}${REPO}`,
      `mount -o remount,bind,ro ${root}${REPO}`,
    );
    run(['nsenter', '-t', String(this.pid), '-m', ...SH(lines.join('\n'))]);
    return root;
  }

  /** Starts a prepared container's process (the runtime's StartContainer). */
  spawn(c: ContainerSpec, root: string): ChildProcess {
    return this.enter(c, root, c.argv, c.env, ['ignore', 'pipe', 'pipe']);
  }

  /** A process inside a container (exec, exec probes): same root, namespaces, user and env. */
  enter(
    c: Pick<ContainerSpec, 'uid' | 'gid' | 'groups' | 'workingDir'>,
    root: string,
    argv: string[],
    env: Record<string, string>,
    stdio: ('ignore' | 'pipe')[],
  ): ChildProcess {
    const user = c.uid !== undefined ? [`--userspec=${c.uid}:${c.gid ?? c.uid}`] : [];
    if (c.uid !== undefined) user.push(`--groups=${[c.gid ?? c.uid, ...(c.groups ?? [])].join(',')}`);
    const cwd = c.workingDir ? ['sh', '-c', `cd "$1" && shift && exec "$@"`, 'sim', c.workingDir] : [];
    const child = spawn(
      'nsenter',
      [
        '-t',
        String(this.pid),
        '-m',
        '-n',
        '--',
        'chroot',
        ...user,
        root,
        'setpriv',
        ...DIES_WITH_US,
        ...cwd,
        ...argv,
      ],
      // its own process group: stopping a container stops every process it started (a cgroup does)
      {
        env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', ...env },
        stdio,
        detached: true,
      },
    );
    this.processes.add(child);
    child.on('close', () => this.processes.delete(child));
    child.on('error', () => {});
    return child;
  }

  /** SIGKILL to a container (or exec) process and everything it started. */
  kill(child: ChildProcess): void {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    } catch {
      child.kill('SIGKILL');
    }
  }

  /** A TCP connection to PORT on the pod's loopback (what kubelet probes and port-forward reach). */
  dial(port: number): Duplex {
    const child = spawn(
      'nsenter',
      [
        '-t',
        String(this.pid),
        '-n',
        '--',
        'setpriv',
        ...DIES_WITH_US,
        'socat',
        'STDIO',
        `TCP:127.0.0.1:${port},connect-timeout=2`,
      ],
      { stdio: ['pipe', 'pipe', 'ignore'] },
    );
    this.dials.add(child);
    child.on('close', () => this.dials.delete(child));
    return duplexOf(child);
  }

  /** Whether PORT on the pod's loopback accepts a TCP connection (a tcpSocket probe). */
  tcpCheck(port: number, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const child = spawn(
        'nsenter',
        [
          '-t',
          String(this.pid),
          '-n',
          '--',
          'setpriv',
          ...DIES_WITH_US,
          'socat',
          '-u',
          'OPEN:/dev/null',
          `TCP:127.0.0.1:${port},connect-timeout=${timeoutMs / 1000}`,
        ],
        { stdio: 'ignore' },
      );
      this.dials.add(child);
      child.on('close', (code) => {
        this.dials.delete(child);
        resolve(code === 0);
      });
      child.on('error', () => resolve(false));
    });
  }

  /** A host loopback port forwarding to the pod's PORT (the kube-ws stand-in's port-forward target). */
  async forward(port: number): Promise<number> {
    const server = createServer((inbound) => {
      const out = this.dial(port);
      inbound.pipe(out).pipe(inbound);
      inbound.on('error', () => out.destroy());
      out.on('error', () => inbound.destroy());
      inbound.on('close', () => out.destroy());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    this.forwarders.add(server);
    const addr = server.address();
    return typeof addr === 'object' && addr ? addr.port : 0;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const s of this.forwarders) s.close();
    for (const p of this.processes) this.kill(p);
    for (const p of this.dials) p.kill('SIGKILL');
    this.pause?.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 20));
    this.node.sandboxes.delete(this);
  }
}

/**
 * Waits until process PID has left this process's namespaces (unshare has run): configuring a
 * "pod" before that would configure this machine's own network.
 */
async function ownNamespaces(pid: number, kinds: ('net' | 'mnt')[]): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    try {
      if (kinds.every((k) => readlinkSync(`/proc/${pid}/ns/${k}`) !== readlinkSync(`/proc/self/ns/${k}`)))
        return;
    } catch {
      // not there yet
    }
    if (Date.now() > deadline)
      throw new Error(`simulated node: process ${pid} did not enter its own ${kinds.join('+')} namespace`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** stdin/stdout of a child process as one Duplex (socat's STDIO). */
function duplexOf(child: ChildProcess): Duplex {
  const d = new Duplex({
    write(chunk, _enc, cb) {
      if (!child.stdin!.write(chunk)) child.stdin!.once('drain', cb);
      else cb();
    },
    final(cb) {
      child.stdin!.end();
      cb();
    },
    read() {
      child.stdout!.resume();
    },
    destroy(err, cb) {
      child.kill('SIGKILL');
      cb(err);
    },
  });
  child.stdin!.on('error', () => {});
  child.stdout!.on('data', (b: Buffer) => {
    if (!d.push(b)) child.stdout!.pause();
  });
  child.stdout!.on('end', () => d.push(null));
  child.on('error', (e) => d.destroy(e));
  return d;
}

/** Where the simulation keeps its node, pods and volumes (an overlayfs upper dir must not be on overlayfs). */
export function simBaseDir(): string {
  return process.env.KINDLING_SIM_DIR || tmpdir();
}

let probed: string | undefined | null = null;

/**
 * Why this machine cannot run the simulated node, or undefined when it can: root, the tools, and a
 * real try of what a sandbox does (a private mount + network namespace, an overlay of / in the
 * simulation's directory). An unprivileged container fails the try; the message says what it needs.
 */
export function runtimeAvailable(): string | undefined {
  if (probed !== null) return probed;
  probed = probe();
  return probed;
}

function probe(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (namespaces and mounts)';
  for (const bin of ['unshare', 'nsenter', 'setpriv', 'socat', 'ip', 'chroot', 'nft']) {
    try {
      execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    } catch {
      return `needs ${bin} on PATH`;
    }
  }
  let dir: string;
  try {
    dir = mkdtempSync(join(simBaseDir(), 'kindling-sim-probe-'));
  } catch (err) {
    return `cannot write the simulation's directory ${simBaseDir()} (KINDLING_SIM_DIR): ${(err as Error).message}`;
  }
  try {
    for (const d of ['u', 'w', 'r']) mkdirSync(join(dir, d));
    execFileSync(
      'unshare',
      [
        '-m',
        '-n',
        '--propagation',
        'private',
        'sh',
        '-c',
        `ip link set lo up && mount -t overlay overlay -o lowerdir=/,upperdir=${dir}/u,workdir=${dir}/w ${dir}/r`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' },
    );
    return undefined;
  } catch (err) {
    const why = String((err as { stderr?: string }).stderr || (err as Error).message)
      .trim()
      .split('\n')[0];
    return `cannot create a pod sandbox here (${why}): needs CAP_SYS_ADMIN and CAP_NET_ADMIN (a container: --privileged) and KINDLING_SIM_DIR on a non-overlay filesystem`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
