/**
 * The API server's channel protocol over WebSocket, shared by exec and port-forward: every binary
 * message is one channel byte followed by that channel's bytes. We speak it over `ws` ourselves
 * (client-node's Exec/PortForward ignore backpressure and cannot close stdin on v4); client-node's
 * KubeConfig still supplies the credentials and TLS settings.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { WebSocket } from 'ws';
import { connectionCause, describeApiError } from './errors.ts';

export const CHANNEL = { stdin: 0, stdout: 1, stderr: 2, status: 3, resize: 4, close: 255 } as const;

/** Exec: v5 can close stdin on its own ([255, 0]); v4 is the oldest with a JSON status on channel 3. */
export const EXEC_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];
/** Port-forward: the kubelet speaks v4 and the unversioned protocol (identical framing), not v5. */
export const PORT_FORWARD_PROTOCOLS = ['v4.channel.k8s.io', 'channel.k8s.io'];

/** Above this many unsent bytes we stop reading the source that feeds the socket. */
export const HIGH_WATER = 1 << 20;

export function frame(channel: number, data: Buffer | string): Buffer {
  const body = typeof data === 'string' ? Buffer.from(data) : data;
  const out = Buffer.allocUnsafe(body.length + 1);
  out[0] = channel;
  body.copy(out, 1);
  return out;
}

/** `https://host:6443/prefix` + path → `wss://host:6443/prefix/path` (a server URL may carry a path). */
export function socketUrl(server: string, path: string): string {
  return `${server.replace(/^http/, 'ws').replace(/\/+$/, '')}${path}`;
}

/** One binary message: its channel byte, the bytes after it, and the socket (to pause it). */
export type ChannelHandler = (channel: number, payload: Buffer, ws: WebSocket) => void;

/**
 * Opens a channel socket to `path` with the kubeconfig's credentials. `onMessage` is attached
 * before the handshake completes: frames that arrive with the upgrade response are emitted before
 * a promise continuation could attach a listener. A refused upgrade rejects with the HTTP status
 * and the Status message the API server sent (pod not found, forbidden...).
 */
export async function openChannelSocket(
  kc: KubeConfig,
  path: string,
  protocols: string[],
  onMessage: ChannelHandler,
  signal?: AbortSignal,
): Promise<WebSocket> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const opts: Record<string, unknown> = {};
  await kc.applyToHTTPSOptions(opts);
  signal?.throwIfAborted();
  return new Promise<WebSocket>((resolve, reject) => {
    const ws = new WebSocket(socketUrl(cluster.server, path), protocols, {
      ...opts,
      perMessageDeflate: false,
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary && data.length > 0) onMessage(data[0]!, data.subarray(1), ws);
    });
    const fail = (err: Error) => {
      signal?.removeEventListener('abort', onAbort);
      reject(err);
    };
    const onAbort = () => {
      ws.terminate();
      fail(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    // ws may emit an error after a failed handshake, or before the caller's listeners are on:
    // this listener stays so no error goes unhandled (rejecting twice is a no-op)
    ws.on('error', (err: Error) => {
      // refused, timed out, certificate: say which server and why, as reach.ts does
      const cause = connectionCause(err);
      fail(cause ? new Error(`cannot reach the Kubernetes API server at ${cluster.server}: ${cause}`) : err);
    });
    ws.once('unexpected-response', (req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        if (body.length < 65536) body += c;
      });
      res.on('end', () => {
        fail(new Error(describeApiError({ code: res.statusCode, body: body || res.statusMessage })));
        req.destroy();
      });
      res.on('error', () => {});
    });
    ws.once('open', () => {
      signal?.removeEventListener('abort', onAbort);
      resolve(ws);
    });
  });
}
