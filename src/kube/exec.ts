/**
 * Exec in a pod over the channel protocol. Settles on the first of: the status on channel 3, the
 * socket closing, a socket error, the deadline. Closed without a status is a failure, never exit 0.
 * Output is written with backpressure (the socket is paused while the caller's stream is full), so
 * large output is never held whole; stdin is streamed the same way and closed with v5's signal.
 * The caller's streams are left open: the caller ends them.
 */
import type { Readable, Writable } from 'node:stream';
import type { KubeConfig } from '@kubernetes/client-node';
import type { WebSocket } from 'ws';
import { formatDuration } from '../util/duration.ts';
import { redact } from '../util/redact.ts';
import {
  CHANNEL,
  type ChannelHandler,
  EXEC_PROTOCOLS,
  frame,
  HIGH_WATER,
  openChannelSocket,
} from './channel.ts';
import { execOutcome, parseStatus } from './exec-status.ts';
import type { ExecRequest, ExecResult } from './types.ts';

/** `/api/v1/namespaces/NS/pods/POD/exec?command=..&container=..&stdin=..&stdout=true&stderr=true&tty=false` */
export function execPath(req: ExecRequest, container: string): string {
  const q = new URLSearchParams();
  for (const arg of req.command) q.append('command', arg);
  q.set('container', container);
  q.set('stdin', String(Boolean(req.stdin)));
  q.set('stdout', 'true');
  q.set('stderr', 'true');
  q.set('tty', 'false');
  return `/api/v1/namespaces/${encodeURIComponent(req.namespace)}/pods/${encodeURIComponent(req.pod)}/exec?${q}`;
}

/** "exec in pod ns/pod (sh -c ...)" for error messages; the command is redacted and clipped. */
export function describeExec(req: ExecRequest): string {
  const cmd = redact(req.command.join(' '));
  return `exec in pod ${req.namespace}/${req.pod} (${cmd.length > 120 ? `${cmd.slice(0, 117)}...` : cmd})`;
}

export function execInPod(
  kc: KubeConfig,
  req: ExecRequest,
  defaultContainer: () => Promise<string>,
): Promise<ExecResult> {
  const what = describeExec(req);
  return new Promise<ExecResult>((resolve, reject) => {
    const abort = new AbortController();
    let ws: WebSocket | undefined;
    let detachStdin = () => {};
    let done = false;
    // created before the socket: frames can arrive before the handshake promise settles
    const channels = receiver(req, what, (outcome) => finish(outcome));
    const finish = (outcome: { exitCode: number } | Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      detachStdin();
      abort.abort(new Error(`${what}: cancelled`));
      if (outcome instanceof Error) {
        // the remote process may keep running: the API has no way to stop it
        ws?.terminate();
        reject(outcome);
      } else {
        ws?.resume(); // a paused socket could not finish the close handshake
        ws?.close();
        resolve(outcome);
      }
    };
    const timer = req.timeoutMs
      ? setTimeout(
          () =>
            finish(
              new Error(
                `${what} did not finish within ${formatDuration(req.timeoutMs!)} (the remote process may still be running)`,
              ),
            ),
          req.timeoutMs,
        )
      : undefined;

    const start = async () => {
      const container = req.container ?? (await defaultContainer());
      const socket = await openChannelSocket(
        kc,
        execPath(req, container),
        EXEC_PROTOCOLS,
        (channel, payload, from) => {
          if (!done) channels.onMessage(channel, payload, from);
        },
        abort.signal,
      );
      if (done) return void socket.terminate();
      ws = socket;
      if (req.stdin && socket.protocol !== 'v5.channel.k8s.io')
        return finish(
          new Error(
            `${what}: the API server speaks ${socket.protocol || 'channel.k8s.io'}, which cannot close stdin; streaming stdin needs v5.channel.k8s.io (Kubernetes 1.30+)`,
          ),
        );
      channels.watch(socket);
      if (req.stdin)
        detachStdin = sendStdin(socket, req.stdin, (err) =>
          finish(new Error(`${what}: reading stdin: ${err.message}`)),
        );
    };
    start().catch((err: unknown) =>
      finish(new Error(`${what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err })),
    );
  });
}

/**
 * The runtime's message for a command the image does not have, said plainly first. The kubelet
 * wraps the CRI error as an InternalError Status ("error executing command in container: …",
 * kubernetes `staging/src/k8s.io/kubelet/pkg/cri/streaming/remotecommand/exec.go`); containerd
 * passes runc's text through: `exec: "sh": executable file not found in $PATH` for a bare name,
 * `exec: "/bin/sh": stat /bin/sh: no such file or directory` for a path (containerd/containerd#3597).
 * Distroless images (etcd's, `gcr.io/distroless/static`) have no shell at all.
 */
export function explainExecError(message: string): string {
  const m =
    /exec: \\?"([^"\\]+)\\?": (?:executable file not found in \$PATH|stat [^:]+: no such file or directory)/.exec(
      message,
    );
  return m ? `"${m[1]}" is not in the container's image (runtime: ${message})` : message;
}

/** Routes channels 1-3 of one exec socket and watches it close; settles through `finish`. */
function receiver(
  req: ExecRequest,
  what: string,
  finish: (outcome: { exitCode: number } | Error) => void,
): { onMessage: ChannelHandler; watch(ws: WebSocket): void } {
  const full = new Set<Writable>();
  const write = (ws: WebSocket, sink: Writable | undefined, data: Buffer) => {
    if (!sink || sink.destroyed) return;
    if (!sink.write(data) && !full.has(sink)) {
      // hold the socket (TCP backpressure to the server) until the caller's stream drains
      full.add(sink);
      ws.pause();
      sink.once('drain', () => {
        full.delete(sink);
        if (full.size === 0) ws.resume();
      });
    }
  };
  for (const sink of [req.stdout, req.stderr])
    sink?.once('error', (err) => finish(new Error(`${what}: writing output: ${err.message}`)));
  let statusText = '';
  return {
    onMessage: (channel, payload, ws) => {
      switch (channel) {
        case CHANNEL.stdout:
          return write(ws, req.stdout, payload);
        case CHANNEL.stderr:
          return write(ws, req.stderr, payload);
        case CHANNEL.status: {
          statusText += payload.toString('utf8');
          const status = parseStatus(statusText);
          if (!status) return;
          const outcome = execOutcome(status);
          return finish(
            'exitCode' in outcome ? outcome : new Error(`${what}: ${explainExecError(outcome.error)}`),
          );
        }
      }
    },
    watch: (ws) => {
      ws.on('error', (err) => finish(new Error(`${what}: ${err.message}`)));
      ws.on('close', (code, reason) => {
        const why = statusText ? `an unreadable status: ${statusText.slice(0, 200)}` : 'an exit status';
        finish(
          new Error(
            `${what}: the connection closed without ${why} (close code ${code}${reason.length ? `, ${reason}` : ''})`,
          ),
        );
      });
    },
  };
}

/** Streams `stdin` into channel 0 with backpressure, then v5's close signal. Returns a detacher. */
function sendStdin(ws: WebSocket, stdin: Readable, onError: (err: Error) => void): () => void {
  let attached = true;
  let held = false;
  const onData = (chunk: Buffer | string) => {
    ws.send(frame(CHANNEL.stdin, chunk), () => {
      if (attached && held && ws.bufferedAmount < HIGH_WATER / 4) {
        held = false;
        stdin.resume();
      }
    });
    if (ws.bufferedAmount > HIGH_WATER && !held) {
      held = true;
      stdin.pause();
    }
  };
  const onEnd = () => ws.send(Buffer.from([CHANNEL.close, CHANNEL.stdin]));
  stdin.on('data', onData);
  stdin.once('end', onEnd);
  stdin.once('error', onError);
  return () => {
    attached = false;
    stdin.off('data', onData);
    stdin.off('end', onEnd);
    stdin.off('error', onError);
    // unread input stays in the caller's stream instead of flowing to nobody
    stdin.pause();
  };
}
