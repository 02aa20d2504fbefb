// An unreachable API server: one bounded GET /version names the server URL and the cause
// (ECONNREFUSED, timeout, certificate — the last in kube-tls.test.ts), so verify/backup on target
// kube fail once and at once instead of every check retrying to its deadline (measured before the
// preflight: 20 s for a 10 s check deadline, 60 s for 30 s, on the minimal profile).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { KubeClient } from '../../src/kube/client.ts';
import { connectKubeCluster, KubeCluster } from '../../src/kube/cluster.ts';
import { deployPlan } from '../../src/kube/deploy.ts';
import { checkApiReachable } from '../../src/kube/reach.ts';
import { ExitCode, exitCodeOf } from '../../src/util/errors.ts';
import { runCli } from '../harness/cli.ts';

const servers: Server[] = [];
const sockets: Socket[] = [];
afterAll(() => {
  for (const s of sockets) s.destroy();
  for (const s of servers) s.close();
});
const kubeconfig = (server: string) => {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
};
/** A port nothing listens on any more (the server is fully closed before it is used). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}
async function listen(onSocket?: (s: Socket) => void): Promise<number> {
  const srv = createServer((s) => {
    sockets.push(s);
    onSocket?.(s);
  });
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return (srv.address() as AddressInfo).port;
}

describe('API server reachability (src/kube/reach.ts)', () => {
  it('refused: names the server URL and ECONNREFUSED, exit 1, within a second', async () => {
    const port = await closedPort();
    const t0 = performance.now();
    const err = await connectKubeCluster(kubeconfig(`https://127.0.0.1:${port}`)).catch((e: unknown) => e);
    const ms = performance.now() - t0;
    expect((err as Error).message).toBe(
      `cannot reach the Kubernetes API server at https://127.0.0.1:${port}/: connection refused (ECONNREFUSED)`,
    );
    expect(exitCodeOf(err)).toBe(ExitCode.Failed);
    expect(ms).toBeLessThan(1000);
    console.log(`unreachable API server reported after ${Math.round(ms)} ms`);
  });

  it('a server that accepts and never answers: timed out after the bound, not hanging', async () => {
    const port = await listen(); // TCP accepted, TLS handshake never answered
    const t0 = performance.now();
    const err = await checkApiReachable(kubeconfig(`https://127.0.0.1:${port}`), 400).catch(
      (e: unknown) => e,
    );
    const ms = performance.now() - t0;
    expect((err as Error).message).toMatch(
      new RegExp(`cannot reach the Kubernetes API server at https://127\\.0\\.0\\.1:${port}/: timed out`),
    );
    expect(ms).toBeGreaterThanOrEqual(350);
    expect(ms).toBeLessThan(2000);
  });

  it("any HTTP answer counts as reachable (authorisation is each request's business)", async () => {
    const port = await listen((s) =>
      s.once('data', () =>
        s.end('HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}'),
      ),
    );
    const kc = kubeconfig(`http://127.0.0.1:${port}`);
    kc.clusters[0] = { ...kc.clusters[0]!, skipTLSVerify: true };
    await expect(checkApiReachable(kc, 2000)).resolves.toBe('unknown');
  });

  it('deploy: the first apply to an unreachable server names the server and the cause (exit 1)', async () => {
    const port = await closedPort();
    const plan = {
      namespace: 'ns',
      shared: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns' } }],
      waves: [],
      warnings: [],
    };
    const err = await deployPlan(plan, new KubeClient(kubeconfig(`https://127.0.0.1:${port}`)), {
      timeoutMs: 1000,
    }).catch((e: unknown) => e);
    expect((err as Error).message).toBe(
      `cannot reach the Kubernetes API server at https://127.0.0.1:${port}/: connection refused (ECONNREFUSED)`,
    );
    expect(exitCodeOf(err)).toBe(ExitCode.Failed);
  });

  it("deploy against a server that accepts and never answers: one bounded wait, not every request's timeout", async () => {
    const port = await listen();
    const plan = {
      namespace: 'ns',
      shared: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns' } }],
      waves: [],
      warnings: [],
    };
    const t0 = performance.now();
    const err = await deployPlan(plan, new KubeClient(kubeconfig(`https://127.0.0.1:${port}`)), {
      timeoutMs: 1000,
    }).catch((e: unknown) => e);
    const ms = performance.now() - t0;
    expect((err as Error).message).toMatch(/cannot reach the Kubernetes API server at .*: timed out/);
    expect(ms).toBeLessThan(8000); // the 5 s preflight bound, not 15 s per access review + 30 s per apply
  });

  it('kindling verify --target kube against an unreachable server: one error, exit 1, no check retried to its deadline', async () => {
    const port = await closedPort();
    const file = join(mkdtempSync(join(tmpdir(), 'kindling-kc-')), 'kubeconfig');
    writeFileSync(
      file,
      `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:${port}"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n`,
    );
    const t0 = performance.now();
    const r = await runCli(['verify', '--target', 'kube', '--kubeconfig', file, '--timeout', '2m']);
    const ms = performance.now() - t0;
    expect(r.code).toBe(1);
    expect(r.err).toContain(
      `cannot reach the Kubernetes API server at https://127.0.0.1:${port}/: connection refused`,
    );
    expect(ms).toBeLessThan(15_000); // before: every check ran to its 2 min deadline (issue #11 measured 4 min)
    console.log(`kindling verify on an unreachable API server: exit 1 after ${Math.round(ms)} ms`);
  });

  it('every read of the Cluster contract is bounded: a wedged server is an error naming it, not a hang', async () => {
    const port = await listen(); // accepts, never answers
    const cluster = new KubeCluster(kubeconfig(`https://127.0.0.1:${port}`), { requestTimeoutMs: 300 });
    const t0 = performance.now();
    const results = await Promise.allSettled([
      cluster.readSecret('ns', 's', 'k'),
      cluster.listPods('ns'),
      cluster.listEndpointSlices('ns'),
    ]);
    expect(performance.now() - t0).toBeLessThan(2000);
    for (const r of results) {
      expect(r.status).toBe('rejected');
      expect(((r as PromiseRejectedResult).reason as Error).message).toMatch(
        new RegExp(
          `no answer from the Kubernetes API server at https://127\\.0\\.0\\.1:${port} within 300ms`,
        ),
      );
    }
  });
});
