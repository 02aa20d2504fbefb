/**
 * A local TCP port on 127.0.0.1 forwarded to a pod port: one channel socket per accepted
 * connection (`ports=N`, data on channel 0, errors on channel 1, each opened by the 2-byte
 * little-endian port). Both directions respect backpressure. The pod is resolved again for the next
 * connection when one fails to open (the pod was replaced), and close() ends every open connection.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { KubeConfig } from '@kubernetes/client-node';
import type { WebSocket } from 'ws';
import {
  type ChannelHandler,
  frame,
  HIGH_WATER,
  openChannelSocket,
  PORT_FORWARD_PROTOCOLS,
} from './channel.ts';
import type { Forwarded } from './types.ts';

export interface PodPort {
  namespace: string;
  pod: string;
  port: number;
}

/** The last problem a forwarded connection met, for whoever reports on a failing check. */
export type ForwardProblemSink = (message: string) => void;

export function portForwardPath(t: PodPort): string {
  return `/api/v1/namespaces/${encodeURIComponent(t.namespace)}/pods/${encodeURIComponent(t.pod)}/portforward?ports=${t.port}`;
}

export async function listenForwarded(
  kc: KubeConfig,
  resolve: () => Promise<PodPort>,
  onProblem: ForwardProblemSink = () => {},
): Promise<Forwarded> {
  let target: Promise<PodPort> | undefined = resolve();
  await target; // fail now, not on the first connection, when there is nothing to forward to
  const sockets = new Set<Socket>();
  const channels = new Set<WebSocket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.pause(); // nothing is read until the channel socket is open
    target ??= resolve();
    const current = target;
    current
      .then(async (t) => {
        const link = bridge(socket, t, onProblem);
        const ws = await openChannelSocket(kc, portForwardPath(t), PORT_FORWARD_PROTOCOLS, link.onMessage);
        return { link, ws };
      })
      .then(
        ({ link, ws }) => {
          if (socket.destroyed || !server.listening) return ws.terminate();
          channels.add(ws);
          ws.once('close', () => channels.delete(ws));
          link.attach(ws);
        },
        (err: Error) => {
          if (target === current) target = undefined;
          onProblem(err.message);
          socket.destroy();
        },
      );
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ok());
  });
  const address = server.address();
  return {
    localPort: typeof address === 'object' && address ? address.port : 0,
    close: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        for (const ws of channels) ws.terminate();
        for (const s of sockets) s.destroy();
      }),
  };
}

/** Pipes one local connection through one port-forward channel socket. */
function bridge(
  socket: Socket,
  t: PodPort,
  onProblem: ForwardProblemSink,
): { onMessage: ChannelHandler; attach(ws: WebSocket): void } {
  const prefixPending = [true, true];
  let errorText = '';
  const onMessage: ChannelHandler = (channel, data, ws) => {
    if (channel > 1) return; // one port per connection: channels 0 and 1 only
    let payload = data;
    if (prefixPending[channel]) {
      prefixPending[channel] = false;
      const port = payload.length >= 2 ? payload.readUInt16LE(0) : -1;
      if (port !== t.port) {
        onProblem(`port-forward to ${t.namespace}/${t.pod}: expected port ${t.port} first, got ${port}`);
        ws.terminate();
        return;
      }
      payload = payload.subarray(2);
    }
    if (payload.length === 0) return;
    if (channel === 1) {
      errorText += payload.toString('utf8');
      return;
    }
    if (!socket.write(payload)) {
      ws.pause();
      socket.once('drain', () => ws.resume());
    }
  };
  const attach = (ws: WebSocket) => {
    ws.on('close', () => {
      if (errorText) {
        onProblem(`port-forward to ${t.namespace}/${t.pod}:${t.port}: ${errorText}`);
        socket.destroy();
      } else socket.end();
    });
    ws.on('error', (err) => {
      onProblem(`port-forward to ${t.namespace}/${t.pod}:${t.port}: ${err.message}`);
      socket.destroy();
    });
    let held = false;
    socket.on('data', (chunk: Buffer) => {
      ws.send(frame(0, chunk), () => {
        if (held && ws.bufferedAmount < HIGH_WATER / 4) {
          held = false;
          socket.resume();
        }
      });
      if (!held && ws.bufferedAmount > HIGH_WATER) {
        held = true;
        socket.pause();
      }
    });
    // v4 cannot half-close a channel: the end of the local side ends the forwarded connection
    socket.once('end', () => ws.close());
    socket.once('close', () => {
      if (ws.readyState === ws.OPEN) ws.close();
    });
    socket.resume();
  };
  return { onMessage, attach };
}
