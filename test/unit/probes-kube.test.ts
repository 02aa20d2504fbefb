import { createServer, type Server } from 'node:http';
import type { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyStack } from '../../src/app/verify.ts';
import { loadStack } from '../../src/catalog/index.ts';
import type { Cluster, ExecRequest } from '../../src/kube/types.ts';
import { toJson } from '../../src/report/verify-files.ts';
import { provisionedDashboards } from '../standins/metrics-standins.ts';

// No API server can run here: target kube is exercised through a stand-in Cluster (the contract of
// src/kube/types.ts) whose port-forwards reach local HTTP servers and whose exec answers like a pod.
describe('target kube through a stand-in Cluster', () => {
  let http: Server;
  let port = 0;
  const seen: { auth?: string; path?: string }[] = [];
  beforeAll(async () => {
    http = createServer((req, res) => {
      seen.push({ auth: req.headers.authorization, path: req.url });
      res.writeHead(200, { 'content-type': 'application/json' });
      // Grafana's /api/search lists the dashboards the stack provisions (grafana/seed-dashboards)
      if (req.url?.startsWith('/api/search')) {
        res.end(JSON.stringify(provisionedDashboards().map((d) => ({ ...d, type: 'dash-db' }))));
        return;
      }
      res.end(
        JSON.stringify({
          commit: 'x',
          database: 'ok',
          version: '10.4.2',
          type: 'prometheus',
          name: 'Prometheus',
        }),
      );
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    port = (http.address() as { port: number }).port;
  });
  afterAll(() => http.close());

  function standInCluster(overrides: Partial<Cluster> = {}) {
    const calls = { forwards: [] as string[], execs: [] as ExecRequest[], closed: 0 };
    const cluster: Cluster = {
      portForward: async (ns, service, p) => {
        calls.forwards.push(`${ns}/${service}:${p}`);
        return { localPort: port, close: async () => void calls.closed++ };
      },
      readSecret: async (_ns, name, key) =>
        (
          ({
            'grafana-secret/GF_SECURITY_ADMIN_USER': 'admin',
            'grafana-secret/GF_SECURITY_ADMIN_PASSWORD': 'Kube-Secret-77',
          }) as Record<string, string>
        )[`${name}/${key}`],
      exec: async (req) => {
        calls.execs.push(req);
        (req.stdout as Writable).write('PostgreSQL 16.4 on x86_64\n');
        return { exitCode: 0 };
      },
      listPods: async () => [
        {
          metadata: { name: 'grafana-1' },
          status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
        },
      ],
      listServices: async () => [
        { metadata: { name: 'grafana' }, spec: { selector: { app: 'grafana' }, ports: [{ port: 3000 }] } },
      ],
      listEndpointSlices: async () => [
        {
          metadata: { labels: { 'kubernetes.io/service-name': 'grafana' } },
          addressType: 'IPv4',
          endpoints: [{ addresses: ['10.1.1.1'], conditions: { ready: true } }],
          ports: [{ port: 3000 }],
        },
      ],
      listPersistentVolumeClaims: async () => [
        { metadata: { name: 'data-postgres-0' }, status: { phase: 'Bound' } },
      ],
      ...overrides,
    } as Cluster;
    return { cluster, calls };
  }

  const stack = loadStack('manifests/stack.yaml');

  it('port-forwards to the service port once per endpoint, reads credentials from the Secret, runs exec checks and the namespace checks', async () => {
    const { cluster, calls } = standInCluster();
    const components = [
      stack.components.grafana!,
      {
        ...stack.components.postgres!,
        checks: stack.components.postgres!.checks.filter((c) => c.type === 'exec'),
      },
    ];
    const report = await verifyStack({ stack, components, target: 'kube', cluster, timeoutMs: 2000 });
    expect(report.results.filter((r) => r.status !== 'pass')).toEqual([]);
    expect(calls.forwards).toEqual(['voiceassistant-infra/grafana:3000']);
    expect(calls.closed).toBe(1);
    const auth = seen.find((s) => s.path === '/api/datasources/name/Prometheus')?.auth;
    expect(Buffer.from(auth!.slice(6), 'base64').toString()).toBe('admin:Kube-Secret-77');
    expect(calls.execs[0]).toMatchObject({
      namespace: 'voiceassistant-infra',
      pod: 'postgres-0',
      command: ['psql', '-U', 'postgres', '-tAc', 'SELECT version();'],
    });
    expect(report.results.filter((r) => r.component === 'namespace').map((r) => r.check)).toEqual([
      'pods-ready',
      'services-endpoints',
      'pvcs-bound',
    ]);
    expect(toJson(report)).not.toContain('Kube-Secret-77');
  });

  it('retries a port-forward that fails while no pod is ready, and passes once one is', async () => {
    let tries = 0;
    const { cluster } = standInCluster({
      portForward: async () => {
        if (++tries < 3) throw new Error('no ready pod behind service/grafana');
        return { localPort: port, close: async () => {} };
      },
    });
    const report = await verifyStack({
      stack,
      components: [stack.components.grafana!],
      target: 'kube',
      cluster,
      timeoutMs: 5000,
      namespaceChecks: false,
      initialBackoffMs: 10,
    });
    expect(report.ok).toBe(true);
    expect(report.results[0]!.attempts).toBeGreaterThan(1);
  });

  it('a CrashLoopBackOff pod fails pods-ready at once; a Pending PVC waits until the deadline', async () => {
    const { cluster } = standInCluster({
      listPods: async () =>
        [
          {
            metadata: { name: 'redis-0' },
            status: {
              phase: 'Running',
              containerStatuses: [{ name: 'redis', state: { waiting: { reason: 'CrashLoopBackOff' } } }],
            },
          },
        ] as never,
      listPersistentVolumeClaims: async () =>
        [{ metadata: { name: 'data-redis-0' }, status: { phase: 'Pending' } }] as never,
    });
    const report = await verifyStack({
      stack,
      components: [],
      target: 'kube',
      cluster,
      timeoutMs: 600,
      initialBackoffMs: 50,
    });
    const pods = report.results.find((r) => r.check === 'pods-ready')!;
    const pvcs = report.results.find((r) => r.check === 'pvcs-bound')!;
    expect(pods).toMatchObject({ status: 'fail', attempts: 1 });
    expect(pods.message).toContain('pod/redis-0 container redis CrashLoopBackOff');
    expect(pvcs).toMatchObject({ status: 'fail', reason: 'deadline' });
    expect(pvcs.durationMs).toBeGreaterThanOrEqual(540);
  });

  it('exec a non-zero exit is reported with expected vs actual', async () => {
    const { cluster } = standInCluster({
      exec: async (req) => {
        (req.stderr as Writable).write('Error while executing topic command\n');
        return { exitCode: 1 };
      },
    });
    const kafka = {
      ...stack.components.kafka!,
      checks: stack.components.kafka!.checks.filter((c) => c.type === 'exec'),
    };
    const report = await verifyStack({
      stack,
      components: [kafka],
      target: 'kube',
      cluster,
      timeoutMs: 2000,
      namespaceChecks: false,
    });
    expect(report.results[0]).toMatchObject({
      status: 'fail',
      reason: 'wrong-value',
      message: 'expected exit code 0, got 1',
    });
    expect(report.results[0]!.actual).toContain('Error while executing topic command');
  });
});
