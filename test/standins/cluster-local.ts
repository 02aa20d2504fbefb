/**
 * Stand-in `Cluster` (src/kube/types.ts) for backup tests where no API server can run: a pod is
 * this machine. `exec` runs the requested command as a LOCAL process — the pod's tools are this
 * machine's pg_dump/psql/redis-cli/etcdctl — with the pod's environment from a per-pod map,
 * stdin/stdout/stderr streamed, and the real exit status. Like the real exec, a stream that closes
 * without a status rejects (simulated on demand with `closeWithoutStatus`). `readSecret` reads a
 * map; `portForward` opens a real TCP forwarder on a fresh local port to the service's local port.
 */
import { spawn } from 'node:child_process';
import { connect, createServer, type Socket } from 'node:net';
import type { V1EndpointSlice, V1PersistentVolumeClaim, V1Pod, V1Service } from '@kubernetes/client-node';
import type { Cluster, ExecRequest, ExecResult, Forwarded } from '../../src/kube/types.ts';

export interface LocalPod {
  /** The pod's environment (on top of this machine's PATH and HOME). */
  env?: Record<string, string>;
}

export interface LocalClusterOptions {
  namespace: string;
  pods: Record<string, LocalPod>;
  /** `secret/key` → value. */
  secrets?: Record<string, string>;
  /** `service:port` → the local port that serves it. */
  services?: Record<string, number>;
}

export class LocalCluster implements Cluster {
  readonly opts: LocalClusterOptions;
  /** Every exec, for assertions: `pod: argv…`. */
  readonly execs: string[] = [];
  /** Execs whose argv matches: the process runs, then the stream "closes" without a status. */
  closeWithoutStatus?: (req: ExecRequest) => boolean;
  private readonly forwards = new Set<() => Promise<void>>();

  constructor(opts: LocalClusterOptions) {
    this.opts = opts;
  }

  exec(req: ExecRequest): Promise<ExecResult> {
    const pod = this.pod(req.namespace, req.pod);
    const [cmd, ...args] = req.command;
    this.execs.push(`${req.pod}: ${req.command.join(' ')}`);
    const broken = this.closeWithoutStatus?.(req) ?? false;
    return new Promise((resolve, reject) => {
      const child = spawn(cmd!, args, {
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/', ...pod.env },
        stdio: [req.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      });
      // the real exec streams into the caller's sinks and never ends them
      if (req.stdout) child.stdout!.pipe(req.stdout, { end: false });
      else child.stdout!.resume();
      if (req.stderr) child.stderr!.pipe(req.stderr, { end: false });
      else child.stderr!.resume();
      if (req.stdin && child.stdin) {
        req.stdin.pipe(child.stdin);
        child.stdin.on('error', () => {});
      }
      child.on('error', (err) => reject(new Error(`exec ${req.pod}: ${err.message}`)));
      child.on('close', (code, signal) => {
        if (broken)
          return reject(
            new Error(
              `exec ${req.pod}: the connection closed without an exit status (close code 1006) [stand-in]`,
            ),
          );
        resolve({ exitCode: code ?? 128 + (signal === 'SIGKILL' ? 9 : 15) });
      });
    });
  }

  async portForward(namespace: string, service: string, port: number): Promise<Forwarded> {
    if (namespace !== this.opts.namespace) throw new Error(`no namespace ${namespace}`);
    const target = this.opts.services?.[`${service}:${port}`];
    if (target === undefined) throw new Error(`service ${namespace}/${service} has no port ${port}`);
    const sockets = new Set<Socket>();
    const server = createServer((inbound) => {
      const outbound = connect(target, '127.0.0.1');
      for (const s of [inbound, outbound]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => {
          inbound.destroy();
          outbound.destroy();
        });
      }
      inbound.pipe(outbound).pipe(inbound);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const address = server.address();
    const localPort = typeof address === 'object' && address ? address.port : 0;
    const close = () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
        this.forwards.delete(close);
      });
    this.forwards.add(close);
    return { localPort, close };
  }

  async readSecret(namespace: string, name: string, key: string): Promise<string | undefined> {
    if (namespace !== this.opts.namespace) return undefined;
    return this.opts.secrets?.[`${name}/${key}`];
  }

  /** Forwards a test forgot to close. */
  async closeAll(): Promise<void> {
    await Promise.all([...this.forwards].map((c) => c()));
  }

  async listPods(): Promise<V1Pod[]> {
    return [];
  }
  async listServices(): Promise<V1Service[]> {
    return [];
  }
  async listEndpointSlices(): Promise<V1EndpointSlice[]> {
    return [];
  }
  async listPersistentVolumeClaims(): Promise<V1PersistentVolumeClaim[]> {
    return [];
  }

  private pod(namespace: string, name: string): LocalPod {
    if (namespace !== this.opts.namespace) throw new Error(`pods "${name}" not found in ${namespace}`);
    const pod = this.opts.pods[name];
    if (!pod) throw new Error(`pods "${name}" not found`);
    return pod;
  }
}
