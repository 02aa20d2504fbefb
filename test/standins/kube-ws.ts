/**
 * Stand-in for the API server's streaming subresources, `pods/exec` and `pods/portforward`, over
 * WebSocket as the API server and kubelet speak them:
 * - subprotocol chosen as the first of the client's offers the server supports (v5.channel.k8s.io,
 *   v4.channel.k8s.io, channel.k8s.io; port-forward has no v5); none supported → HTTP 400;
 * - every binary message starts with a channel byte: exec 0 stdin, 1 stdout, 2 stderr, 3 status
 *   (v4+: a V1Status JSON; channel.k8s.io: plain text, only on failure), 4 resize; v5's client
 *   sends [255, 0] to close stdin;
 * - port-forward: `ports=N` repeated, channels 2i (data) and 2i+1 (error) per port, the first frame
 *   of each carrying the port as 2 bytes little-endian; a dial failure is reported as text on the
 *   error channel, then the connection closes;
 * - the pod and container are checked before the upgrade (404/400 Status bodies), and closing the
 *   socket does not kill the exec'd process (the kubelet's behaviour).
 * Exec runs the argv as a local process; port-forward dials a local TCP address the test maps.
 * Everything else (GET/LIST of Services, Pods, EndpointSlices) is proxied to a KubeApiStandin.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import { type AddressInfo, connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { KubeConfig } from '@kubernetes/client-node';
import { type WebSocket, WebSocketServer } from 'ws';
import { kindStyleKubeconfig } from './certs.ts';
import type { KubeApiStandin } from './kube-api.ts';

export const V5 = 'v5.channel.k8s.io';
export const V4 = 'v4.channel.k8s.io';
export const V1 = 'channel.k8s.io';

/** How the stand-in plays one exec call. */
export type ExecMode =
  /** run the command, stream its output, send the status, close (the normal case) */
  | 'run'
  /** run the command and stream its output, then close normally without a status */
  | 'close-without-status'
  /** run the command and stream its output, then drop the TCP connection (no close frame) */
  | 'drop'
  /** accept the upgrade and never answer (a wedged kubelet) */
  | 'hang'
  /** without running anything, answer "ok" and Success at once, in the packets of the upgrade response */
  | 'instant';

export interface ExecCall {
  namespace: string;
  pod: string;
  container: string;
  command: string[];
  stdin: boolean;
  protocol: string;
  /** Set when the WebSocket of this call has closed (either side). */
  closed?: boolean;
}

export interface KubeWsOptions {
  /** Subprotocols this server supports for exec, in no particular order (default v5, v4, v1). */
  execProtocols?: string[];
  /** How to play each exec (default 'run'). */
  execMode?: (call: ExecCall) => ExecMode;
  /** Where a pod's port is reached: `namespace/pod:port` → local TCP port. */
  podPorts?: Map<string, number>;
  /**
   * Whether the container's image has the exec'd command (default: whatever this machine has).
   * False plays a distroless image: nothing runs and the status is the runtime's "executable file
   * not found", as the kubelet relays it (see statusOf).
   */
  imageHas?: (call: ExecCall) => boolean;
  /** Extension point: starts the exec'd process inside the pod (test/sim); default a local process. */
  spawnExec?: (call: ExecCall, stdio: ('pipe' | 'ignore')[]) => ChildProcess;
}

const PORT_FORWARD_PROTOCOLS = [V4, V1];

export class KubeWsStandin {
  readonly api: KubeApiStandin;
  readonly opts: KubeWsOptions;
  readonly execCalls: ExecCall[] = [];
  /** Each port-forward connection: the pod, the ports asked for and the protocol agreed. */
  readonly forwards: {
    namespace: string;
    pod: string;
    ports: number[];
    protocol: string;
    closed?: boolean;
  }[] = [];
  /** Processes started by exec that are still running (closing the socket does not stop them). */
  readonly running = new Set<ChildProcess>();
  private server: Server | undefined;
  /** Answers each handshake with the subprotocol `upgrade` chose for that request. */
  private readonly agreed = new WeakMap<IncomingMessage, string>();
  private readonly wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    handleProtocols: (_offered, req) => this.agreed.get(req) ?? false,
  });
  port = 0;

  constructor(api: KubeApiStandin, opts: KubeWsOptions = {}) {
    this.api = api;
    this.opts = opts;
  }

  get url(): string {
    return `${this.api.opts.tls ? 'https' : 'http'}://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    // https with client-certificate authentication when the API stand-in has a PKI (certs.ts)
    const tls = this.api.opts.tls;
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      // plain API calls go to the HTTP stand-in unchanged; over TLS the client certificate ends
      // here, so an authenticated request is passed on with the stand-in's own client certificate
      const viaTls = tls
        ? {
            ca: [tls.ca],
            ...(this.api.authenticated(req) ? { cert: tls.clientCert, key: tls.clientKey } : {}),
          }
        : {};
      const upstream = (tls ? httpsRequest : request)(
        `${this.api.url}${req.url}`,
        { method: req.method, headers: req.headers, ...viaTls },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          // headers at once, as the API server sends them (a watch's body may start much later)
          res.flushHeaders();
          up.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      // a client that goes away (an aborted watch) ends the upstream request too, as a proxy does
      res.on('close', () => upstream.destroy());
      req.pipe(upstream);
    };
    this.server = tls
      ? createHttpsServer(
          {
            key: tls.serverKey,
            cert: tls.serverCert,
            ca: [tls.ca],
            requestCert: true,
            rejectUnauthorized: false,
          },
          handler,
        )
      : createServer(handler);
    this.server.on('upgrade', (req, socket, head) => this.upgrade(req, socket, head));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    for (const child of this.running) child.kill('SIGKILL');
    for (const client of this.wss.clients) client.terminate();
    this.server?.closeAllConnections();
    await new Promise<void>((r) => this.server?.close(() => r()) ?? r());
  }

  kubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    if (this.api.opts.tls) {
      kc.loadFromString(kindStyleKubeconfig(this.url, this.api.opts.tls));
      return kc;
    }
    kc.loadFromOptions({
      clusters: [{ name: 'standin', server: this.url, skipTLSVerify: true }],
      users: [{ name: 'standin', token: 'standin-token' }],
      contexts: [{ name: 'standin', cluster: 'standin', user: 'standin' }],
      currentContext: 'standin',
    });
    return kc;
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
    const url = new URL(req.url ?? '/', this.url);
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/(exec|portforward)$/.exec(url.pathname);
    if (!this.api.authenticated(req)) return refuse(socket, 401, 'Unauthorized', 'Unauthorized');
    if (!m) return refuse(socket, 404, 'NotFound', 'the server could not find the requested resource');
    const [, ns, name, sub] = m as unknown as [string, string, string, 'exec' | 'portforward'];
    const namespace = decodeURIComponent(ns);
    const podName = decodeURIComponent(name);
    // authorized before the pod is looked up; WebSocket upgrades of pods/exec and pods/portforward
    // need `create` on the subresource since 1.35 (kubernetes/kubernetes#134577, feature gate
    // AuthorizePodWebsocketUpgradeCreatePermission, beta and on by default; KEP-4006)
    const denied = this.api.authorize({
      verb: 'create',
      group: '',
      resource: `pods/${sub}`,
      namespace,
      name: podName,
    });
    if (denied) return refuse(socket, 403, 'Forbidden', denied.message);
    const pod = this.api.get('v1', 'Pod', namespace, podName);
    if (!pod) return refuse(socket, 404, 'NotFound', `pods "${podName}" not found`);
    const offered = String(req.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean);
    const supported = sub === 'exec' ? (this.opts.execProtocols ?? [V5, V4, V1]) : PORT_FORWARD_PROTOCOLS;
    // like wsstream: the first of the client's offers that the server supports; none offered → v1
    const protocol = offered.length ? offered.find((p) => supported.includes(p)) : V1;
    if (!protocol)
      return refuse(
        socket,
        400,
        'BadRequest',
        `requested protocol(s) are not supported: [${offered.join(' ')}]; supports [${supported.join(' ')}]`,
      );
    this.agreed.set(req, protocol);

    if (sub === 'exec') {
      const containers: string[] = (pod.spec?.containers ?? []).map((c: { name: string }) => c.name);
      const container = url.searchParams.get('container') ?? '';
      if (!container && containers.length !== 1)
        return refuse(
          socket,
          400,
          'BadRequest',
          `a container name must be specified for pod ${podName}, choose one of: [${containers.join(' ')}]`,
        );
      const chosen = container || containers[0]!;
      if (!containers.includes(chosen))
        return refuse(socket, 400, 'BadRequest', `container ${chosen} is not valid for pod ${podName}`);
      const command = url.searchParams.getAll('command');
      const flags = ['stdin', 'stdout', 'stderr'].map((f) => url.searchParams.get(f) === 'true');
      if (!flags.some(Boolean))
        return refuse(socket, 400, 'BadRequest', 'you must specify at least 1 of stdin, stdout, stderr');
      const call: ExecCall = {
        namespace,
        pod: podName,
        container: chosen,
        command,
        stdin: flags[0]!,
        protocol,
      };
      this.execCalls.push(call);
      this.wss.handleUpgrade(req, socket, head, (ws) => this.exec(ws, call));
      return;
    }
    const ports = url.searchParams.getAll('ports').map(Number);
    if (!ports.length || ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65535))
      return refuse(socket, 400, 'BadRequest', 'query parameter "port" is required');
    const record: (typeof this.forwards)[number] = { namespace, pod: podName, ports, protocol };
    this.forwards.push(record);
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      ws.once('close', () => {
        record.closed = true;
      });
      this.portForward(ws, namespace, podName, ports);
    });
  }

  private exec(ws: WebSocket, call: ExecCall): void {
    ws.once('close', () => {
      call.closed = true;
    });
    const mode = this.opts.execMode?.(call) ?? 'run';
    if (mode === 'hang') return;
    const send = (channel: number, data: Buffer | string) =>
      ws.send(Buffer.concat([Buffer.from([channel]), Buffer.from(data)]));
    if (mode === 'instant') {
      send(1, 'ok\n');
      send(3, JSON.stringify({ metadata: {}, status: 'Success' }));
      ws.close(1000);
      return;
    }
    if (this.opts.imageHas && !this.opts.imageHas(call)) {
      send(3, JSON.stringify(statusOf(call, null, null, new Error('not in the image'))));
      ws.close(1000);
      return;
    }
    const stdio: ('pipe' | 'ignore')[] = [call.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'];
    const child =
      this.opts.spawnExec?.(call, stdio) ?? spawn(call.command[0] ?? '', call.command.slice(1), { stdio });
    this.running.add(child);
    // the remote side keeps running when the client goes away; it just loses its stdio
    child.stdin?.on('error', () => {});
    ws.on('message', (data: Buffer, isBinary) => {
      if (!isBinary || data.length === 0) return;
      if (data[0] === 0 && child.stdin) {
        // ws.pause() holds further frames until the pipe drains: TCP backpressure to the client
        if (!child.stdin.write(data.subarray(1))) {
          ws.pause();
          child.stdin.once('drain', () => ws.resume());
        }
      } else if (data[0] === 255 && data[1] === 0 && call.protocol === V5) child.stdin?.end();
    });
    for (const [stream, channel] of [
      [child.stdout!, 1],
      [child.stderr!, 2],
    ] as const) {
      stream.on('data', (chunk: Buffer) => {
        if (ws.readyState !== ws.OPEN) return;
        send(channel, chunk);
        // stop reading the process while the client is not reading us
        if (ws.bufferedAmount > 1 << 20) {
          stream.pause();
          const wait = setInterval(() => {
            if (ws.readyState !== ws.OPEN || ws.bufferedAmount < 1 << 18) {
              clearInterval(wait);
              stream.resume();
            }
          }, 5);
        }
      });
    }
    let spawnError: Error | undefined;
    child.on('error', (err) => {
      spawnError = err;
    });
    child.on('close', (code, signal) => {
      this.running.delete(child);
      if (ws.readyState !== ws.OPEN) return;
      if (mode === 'drop') {
        // wait for queued output to reach the client, then cut the connection without a close frame
        const cut = () =>
          ws.bufferedAmount === 0
            ? (ws as unknown as { _socket: Socket })._socket.destroy()
            : setTimeout(cut, 5);
        return cut();
      }
      if (mode === 'run') {
        const status = statusOf(call, code, signal, spawnError);
        if (call.protocol === V1) {
          if (status.status !== 'Success') send(3, status.message as string);
        } else send(3, JSON.stringify(status));
      }
      ws.close(1000);
    });
  }

  private portForward(ws: WebSocket, namespace: string, pod: string, ports: number[]): void {
    const streams = ports.map((port, i) => {
      const prefix = Buffer.alloc(2);
      prefix.writeUInt16LE(port);
      ws.send(Buffer.concat([Buffer.from([2 * i]), prefix]));
      ws.send(Buffer.concat([Buffer.from([2 * i + 1]), prefix]));
      const target = this.opts.podPorts?.get(`${namespace}/${pod}:${port}`);
      const tcp = connect(target ?? 1, '127.0.0.1');
      let open = true;
      tcp.on('data', (chunk) => {
        ws.send(Buffer.concat([Buffer.from([2 * i]), chunk]));
        if (ws.bufferedAmount > 1 << 20) {
          tcp.pause();
          const wait = setInterval(() => {
            if (ws.readyState !== ws.OPEN || ws.bufferedAmount < 1 << 18) {
              clearInterval(wait);
              tcp.resume();
            }
          }, 5);
        }
      });
      tcp.on('error', (err: NodeJS.ErrnoException) => {
        if (!open) return;
        open = false;
        const why = err.code === 'ECONNREFUSED' ? 'connect: connection refused' : err.message;
        ws.send(
          Buffer.concat([
            Buffer.from([2 * i + 1]),
            Buffer.from(
              `error forwarding port ${port} to pod ${pod}, uid : dial tcp4 127.0.0.1:${port}: ${why}`,
            ),
          ]),
        );
        ws.close(1000);
      });
      tcp.on('end', () => {
        open = false;
        ws.close(1000);
      });
      return tcp;
    });
    ws.on('message', (data: Buffer, isBinary) => {
      if (!isBinary || data.length === 0 || data[0]! % 2 !== 0) return;
      const tcp = streams[data[0]! / 2];
      if (tcp && !tcp.destroyed && !tcp.write(data.subarray(1))) {
        ws.pause();
        tcp.once('drain', () => ws.resume());
      }
    });
    ws.on('close', () => {
      for (const tcp of streams) tcp.end();
    });
  }
}

/** The V1Status the kubelet sends on channel 3 for a finished command. */
function statusOf(
  call: ExecCall,
  code: number | null,
  signal: NodeJS.Signals | null,
  spawnError: Error | undefined,
): Record<string, unknown> {
  if (spawnError) {
    const message = `Internal error occurred: error executing command in container: failed to exec in container: OCI runtime exec failed: exec failed: unable to start container process: exec: "${call.command[0]}": executable file not found in $PATH: unknown`;
    return {
      metadata: {},
      status: 'Failure',
      message,
      reason: 'InternalError',
      details: { causes: [{ message }] },
      code: 500,
    };
  }
  if (code === 0) return { metadata: {}, status: 'Success' };
  const exit = code ?? 128 + (signal === 'SIGKILL' ? 9 : 15);
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${call.command.join(' ')}], exit code ${exit}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(exit) }] },
  };
}

/** An HTTP error answer to an upgrade request, with a Status body as the API server writes it. */
function refuse(socket: Duplex, code: number, reason: string, message: string): void {
  const body = JSON.stringify({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    code,
  });
  socket.end(
    `HTTP/1.1 ${code} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
