// KubeCluster.portForward against the stand-in of the API server's portforward WebSocket
// subresource, reaching real TCP servers that play the pods' ports.
import { createHash } from 'node:crypto';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeCluster } from '../../src/kube/cluster.ts';
import { chooseForwardTarget } from '../../src/kube/port-forward-target.ts';
import { KubeApiStandin } from '../standins/kube-api.ts';
import { KubeWsStandin, V4 } from '../standins/kube-ws.ts';

const NS = 'demo';

function service(name: string, port: number, targetPort: number | string, portName?: string) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: NS },
    spec: {
      selector: { app: name },
      ports: [{ ...(portName ? { name: portName } : {}), port, targetPort, protocol: 'TCP' }],
    },
  };
}

function pod(name: string, ports: { name: string; containerPort: number }[]) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS },
    spec: { containers: [{ name: 'main', image: 'x', ports }] },
  };
}

function slice(
  svc: string,
  port: { name?: string; port: number },
  endpoints: [string, boolean | undefined][],
) {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${svc}-abc`, namespace: NS, labels: { 'kubernetes.io/service-name': svc } },
    addressType: 'IPv4',
    ports: [{ ...port, protocol: 'TCP' }],
    endpoints: endpoints.map(([p, ready], i) => ({
      addresses: [`10.0.0.${i + 1}`],
      ...(ready === undefined ? {} : { conditions: { ready } }),
      targetRef: { kind: 'Pod', name: p, namespace: NS },
    })),
  };
}

/** A TCP echo server: what the pod's port answers. */
async function echoServer(): Promise<Server> {
  const srv = createServer((s) => s.pipe(s));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return srv;
}

function roundTrip(port: number, payload: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const c = connect(port, '127.0.0.1', () => c.write(payload));
    c.on('data', (d: Buffer) => {
      chunks.push(d);
      got += d.length;
      if (got >= payload.length) {
        c.end();
        resolve(Buffer.concat(chunks));
      }
    });
    c.on('error', reject);
    c.on('close', () => reject(new Error(`closed after ${got} of ${payload.length} bytes`)));
  });
}

describe('KubeCluster.portForward over the stand-in portforward WebSocket API', () => {
  let api: KubeApiStandin;
  let ws: KubeWsStandin;
  let echo: Server;
  const problems: string[] = [];
  let cluster: KubeCluster;
  beforeAll(async () => {
    api = await new KubeApiStandin().start();
    echo = await echoServer();
    api.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    // named targetPort: Service 5432 "pg" → container port "postgres" = 15432
    api.put(service('pg', 5432, 'postgres', 'pg'));
    api.put(pod('pg-0', [{ name: 'postgres', containerPort: 15432 }]));
    api.put(slice('pg', { name: 'pg', port: 15432 }, [['pg-0', true]]));
    // a Service whose only pod is not ready
    api.put(service('cache', 6379, 6379));
    api.put(pod('cache-0', [{ name: 'redis', containerPort: 6379 }]));
    api.put(slice('cache', { port: 6379 }, [['cache-0', false]]));
    // a Service no pod has matched yet
    api.put(service('lonely', 80, 8080));
    // a ready pod whose port nothing listens on
    api.put(service('deaf', 9000, 9000));
    api.put(pod('deaf-0', [{ name: 'http', containerPort: 9000 }]));
    api.put(slice('deaf', { port: 9000 }, [['deaf-0', true]]));
    ws = await new KubeWsStandin(api, {
      podPorts: new Map(
        ['pg-0', 'web-b'].map((p) => [`${NS}/${p}:15432`, (echo.address() as AddressInfo).port]),
      ),
    }).start();
    cluster = new KubeCluster(ws.kubeConfig(), { onForwardProblem: (m) => problems.push(m) });
  });
  afterAll(async () => {
    await ws.stop();
    await api.stop();
    await new Promise((r) => echo.close(r));
  });

  it('a TCP client on the local port reaches the server behind the pod; the named port is mapped', async () => {
    const fwd = await cluster.portForward(NS, 'pg', 5432);
    try {
      expect((await roundTrip(fwd.localPort, Buffer.from('hello'))).toString()).toBe('hello');
      expect(ws.forwards.at(-1)).toMatchObject({ namespace: NS, pod: 'pg-0', ports: [15432], protocol: V4 });
    } finally {
      await fwd.close();
    }
  });

  it('carries 16 MB each way intact, over several connections at once', async () => {
    const fwd = await cluster.portForward(NS, 'pg', 5432);
    try {
      const payloads = [0, 1, 2].map((i) => Buffer.alloc(16 * 1024 * 1024 - i * 1000, i + 1));
      const echoed = await Promise.all(payloads.map((p) => roundTrip(fwd.localPort, p)));
      for (const [i, e] of echoed.entries())
        expect(createHash('sha256').update(e).digest('hex')).toBe(
          createHash('sha256').update(payloads[i]!).digest('hex'),
        );
    } finally {
      await fwd.close();
    }
  }, 60_000);

  it('close() ends open connections instead of waiting for them', async () => {
    const fwd = await cluster.portForward(NS, 'pg', 5432);
    const client: Socket = connect(fwd.localPort, '127.0.0.1');
    await roundTripOn(client, 'ping');
    const closed = new Promise<void>((r) => client.once('close', () => r()));
    const t0 = Date.now();
    await fwd.close();
    await closed;
    expect(Date.now() - t0).toBeLessThan(1000);
    await expect
      .poll(() => ws.forwards.at(-1), { timeout: 5000 })
      .toMatchObject({ pod: 'pg-0', closed: true });
  });

  it('a Service with no ready pod is a clear error, naming the pods that are not ready', async () => {
    await expect(cluster.portForward(NS, 'cache', 6379)).rejects.toThrow(
      'service demo/cache has no ready pod to forward port 6379 to: 1 endpoint(s), none ready (cache-0)',
    );
    await expect(cluster.portForward(NS, 'lonely', 80)).rejects.toThrow(
      'service demo/lonely has no ready pod to forward port 80 to: no pod matches its selector yet',
    );
  });

  it('a missing Service or port is a clear error', async () => {
    await expect(cluster.portForward(NS, 'nope', 80)).rejects.toThrow(
      /cannot read service demo\/nope: services "nope" not found \(HTTP 404/,
    );
    await expect(cluster.portForward(NS, 'pg', 9999)).rejects.toThrow(
      'service demo/pg has no port 9999; it has 5432 (pg)',
    );
  });

  it("the pod's refusal on the error channel ends the local connection and is reported", async () => {
    const fwd = await cluster.portForward(NS, 'deaf', 9000);
    try {
      await expect(roundTrip(fwd.localPort, Buffer.from('x'))).rejects.toThrow();
      await expect
        .poll(() => problems.at(-1))
        .toMatch(
          /port-forward to demo\/deaf-0:9000: error forwarding port 9000 to pod deaf-0.*connection refused/,
        );
    } finally {
      await fwd.close();
    }
  });

  it('a replaced pod: the connection that fails re-resolves the Service for the next one', async () => {
    api.put(service('web', 80, 'http', 'http'));
    api.put(pod('web-a', [{ name: 'http', containerPort: 15432 }]));
    api.put(slice('web', { name: 'http', port: 15432 }, [['web-a', true]]));
    const fwd = await cluster.portForward(NS, 'web', 80);
    try {
      api.remove('v1', 'Pod', NS, 'web-a');
      api.put(pod('web-b', [{ name: 'http', containerPort: 15432 }]));
      api.put(slice('web', { name: 'http', port: 15432 }, [['web-b', true]]));
      await expect(roundTrip(fwd.localPort, Buffer.from('x'))).rejects.toThrow();
      expect(problems.at(-1)).toMatch(/pods "web-a" not found \(HTTP 404/);
      expect((await roundTrip(fwd.localPort, Buffer.from('again'))).toString()).toBe('again');
    } finally {
      await fwd.close();
    }
  });
});

describe('chooseForwardTarget', () => {
  const svc = {
    metadata: { name: 's', namespace: NS },
    spec: { ports: [{ name: 'web', port: 80, targetPort: 'http' as unknown as object }] },
  };
  it('takes the first ready endpoint (unset ready counts as ready) and the slice port number', () => {
    const slices = [
      slice('s', { name: 'web', port: 8080 }, [
        ['a', false],
        ['b', undefined],
      ]),
    ];
    expect(chooseForwardTarget(svc as never, 80, slices as never)).toEqual({ pod: 'b', port: 8080 });
  });
  it('skips slices of other port names and falls back to the targetPort name without a number', () => {
    const slices = [
      slice('s', { name: 'metrics', port: 9090 }, [['a', true]]),
      { ...slice('s', { name: 'web', port: 0 }, [['c', true]]), ports: [{ name: 'web' }] },
    ];
    expect(chooseForwardTarget(svc as never, 80, slices as never)).toEqual({ pod: 'c', port: 'http' });
  });
  it('refuses UDP ports', () => {
    const udp = { ...svc, spec: { ports: [{ port: 53, protocol: 'UDP' }] } };
    expect(() => chooseForwardTarget(udp as never, 53, [])).toThrow(/UDP; port-forward carries TCP only/);
  });
});

function roundTripOn(c: Socket, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    c.once('data', (d) => (d.toString() === text ? resolve() : reject(new Error(`got ${d}`))));
    c.once('error', reject);
    c.write(text);
  });
}
