/**
 * `kindling rotate --target kube` for every seed default beyond Redis, on the simulated cluster
 * (test/sim, a stand-in cluster; one cluster for the whole file). Real servers where they run here:
 * PostgreSQL 15 and MariaDB (as MySQL 8, docker-library/mysql's entrypoint) are real; Nacos,
 * Milvus and Grafana are STAND-INS (test/sim/images/standin.ts over test/standins/http-services.ts)
 * that keep their accounts where the real servers do: Nacos in its MySQL `users` table, Milvus in
 * etcd (rootcoord initCredentials), Grafana in its data volume (ensureMainOrgAndAdminUser creates
 * the admin from GF_SECURITY_ADMIN_PASSWORD only on an empty database).
 * Each rotation: the new credential accepted, the old refused (checked here independently of the
 * rotator), the consumers found in the objects restarted (`rollout restart`'s restartedAt) and
 * ready again, no credential in any output. PostgreSQL is proven from a non-loopback source (the
 * image trusts loopback, where a port-forward lands): the rotation ends rotated, exit 0.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deploy } from '../../src/app/deploy.ts';
import { rotateStack } from '../../src/app/rotate.ts';
import { fromFlag } from '../../src/app/settings.ts';
import { loadStack } from '../../src/catalog/index.ts';
import { KubeClient } from '../../src/kube/client.ts';
import { KubeCluster } from '../../src/kube/cluster.ts';
import { loadKubeConfig } from '../../src/kube/config.ts';
import { renderSizing } from '../../src/manifests/render.ts';
import { RESTARTED_AT, restartApply, secretKeyApply } from '../../src/rotate/kube.ts';
import { postgresRoleRotator } from '../../src/rotate/postgres-role.ts';
import { readSecretsFile } from '../../src/rotate/state.ts';
import { REPO } from '../actions-entry/run-action.ts';
import { describeWithSim } from '../e2e/sim-available.ts';
import { SimCluster } from '../sim/cluster.ts';
import { pinnedImages } from '../sim/images.ts';

const NS = 'voiceassistant-infra';
const ROOT = new URL('../../', import.meta.url).pathname;
let sim: SimCluster;
let kubeconfig: string;
let dir: string;
const lines: string[] = [];
/** Every line any rotation printed, for the final grep against every credential made. */
const printed: string[] = [];

const request = (components: string, writeSecrets: string) => ({
  catalog: join(REPO, 'manifests/stack.yaml'),
  components,
  target: 'kube',
  endpoints: [],
  writeSecrets,
  timeout: '10s',
  readyTimeout: '120s',
  kubeconfig,
});

const secretValue = (name: string, key: string) =>
  Buffer.from(sim.api.get('v1', 'Secret', NS, name)!.data[key], 'base64').toString();
const restartedAt = (kind: string, name: string): string | undefined =>
  sim.api.get('apps/v1', kind, NS, name)?.spec.template.metadata.annotations?.[RESTARTED_AT];
const podUid = (name: string): string | undefined => sim.api.get('v1', 'Pod', NS, name)?.metadata.uid;
const podReady = (name: string) =>
  sim.api
    .get('v1', 'Pod', NS, name)
    ?.status?.conditions?.some(
      (c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True',
    ) === true;

/** The pods of StatefulSet nacos (the kind sizing may run fewer than the base's 3). */
const nacosMembers = (): string[] =>
  sim.api
    .list('v1', 'Pod', NS)
    .map((p) => p.metadata.name as string)
    .filter((n) => /^nacos-\d+$/.test(n))
    .sort();

/** `f` with a fresh port-forward to service/NAME:PORT (the old ones die with restarted pods). */
async function forwarded<T>(service: string, port: number, f: (localPort: number) => Promise<T>): Promise<T> {
  const cluster = new KubeCluster(loadKubeConfig({ path: kubeconfig }));
  const fwd = await cluster.portForward(NS, service, port);
  try {
    return await f(fwd.localPort);
  } finally {
    await fwd.close();
  }
}

/** A MySQL login as nacos (mysql2, the real protocol) through a port-forward. */
const mysqlLogin = (password: string) =>
  forwarded('nacos-mysql', 3306, async (port) => {
    try {
      const c = await mysql.createConnection({
        host: '127.0.0.1',
        port,
        user: 'nacos',
        password,
        database: 'nacos_config',
        connectTimeout: 5000,
      });
      await c.query('SELECT 1');
      await c.end();
      return 'accepted';
    } catch (err) {
      if ((err as { errno?: number }).errno === 1045) return 'rejected';
      throw err;
    }
  });

/** Nacos' login (POST /nacos/v1/auth/login) through a port-forward: 200 with a token, or 403. */
const nacosLogin = (password: string) =>
  forwarded('nacos', 8848, async (port) => {
    const r = await fetch(`http://127.0.0.1:${port}/nacos/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: 'nacos', password }).toString(),
      signal: AbortSignal.timeout(5000),
    });
    return r.status === 200 ? 'accepted' : r.status === 403 ? 'rejected' : `HTTP ${r.status}`;
  });

/** Milvus' RESTful v2 describe of root through the gRPC port's forward. */
const milvusLogin = (password: string) =>
  forwarded('milvus', 19530, async (port) => {
    const r = await fetch(`http://127.0.0.1:${port}/v2/vectordb/users/describe`, {
      method: 'POST',
      headers: { authorization: `Bearer root:${password}`, 'content-type': 'application/json' },
      body: JSON.stringify({ userName: 'root' }),
      signal: AbortSignal.timeout(5000),
    });
    const code = ((await r.json()) as { code?: number }).code;
    return r.status === 200 && code === 0 ? 'accepted' : r.status === 401 ? 'rejected' : `HTTP ${r.status}`;
  });

/** Grafana's GET /api/user with basic auth through a port-forward. */
const grafanaLogin = (password: string) =>
  forwarded('grafana', 3000, async (port) => {
    const r = await fetch(`http://127.0.0.1:${port}/api/user`, {
      headers: { authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}` },
      signal: AbortSignal.timeout(5000),
    });
    return r.status === 200 ? 'accepted' : r.status === 401 ? 'rejected' : `HTTP ${r.status}`;
  });

/**
 * A PostgreSQL login from a throwaway client pod (the postgres image's psql) to service postgres:
 * the source is that pod's IP, not loopback, so the image's appended `host all all all
 * scram-sha-256` line applies and the password is checked. The password goes on stdin.
 */
async function postgresLogin(password: string): Promise<string> {
  const cluster = new KubeCluster(loadKubeConfig({ path: kubeconfig }));
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(c: Buffer, _e, cb) {
      chunks.push(c);
      cb();
    },
  });
  const { exitCode } = await cluster.exec({
    namespace: 'voiceassistant',
    pod: 'pg-client',
    command: [
      'sh',
      '-c',
      'IFS= read -r PGPASSWORD; export PGPASSWORD; psql -X -w -h "$1" -U postgres -d postgres -tAc "SELECT 1" 2>&1',
      'sh',
      sim.api.get('v1', 'Pod', NS, 'postgres-0')!.status.podIP,
    ],
    stdin: Readable.from([Buffer.from(`${password}\n`)]),
    stdout: sink,
    timeoutMs: 15_000,
  });
  const out = Buffer.concat(chunks).toString();
  if (exitCode === 0 && out.trim() === '1') return 'accepted';
  if (/password authentication failed/.test(out)) return 'rejected';
  throw new Error(`psql in pg-client: exit ${exitCode}: ${out}`);
}

async function waitFor(what: string, ok: () => boolean | Promise<boolean>, ms = 120_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}\n${lines.slice(-20).join('\n')}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function rotateOk(components: string, file: string, extra: { namespace?: string } = {}) {
  const out: string[] = [];
  const t0 = Date.now();
  let results: Awaited<ReturnType<typeof rotateStack>>;
  try {
    results = await rotateStack({ ...request(components, file), ...extra }, { log: (l) => out.push(l) });
  } catch (err) {
    // what the pods said, to tell a model's fault from the rotator's
    const pods = sim.api
      .list('v1', 'Pod', NS)
      .map(
        (p) =>
          `${p.metadata.name}: ${p.status?.phase} ${JSON.stringify(p.status?.containerStatuses?.map((c: { state: unknown; restartCount: number }) => [c.state, c.restartCount]))}`,
      );
    const logs = [...sim.api.logs.entries()]
      .filter(([k]) => /nacos/.test(k))
      .map(([k, v]) => `--- ${k}\n${v.slice(-1500)}`);
    throw new Error(`${(err as Error).message}\n${pods.join('\n')}\n${logs.join('\n')}`);
  } finally {
    printed.push(...out);
  }
  if (!results) throw new Error(out.join('\n'));
  console.log(`[rotate-kube-stack] ${components} rotated in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return { results, out: out.join('\n') };
}

describe('postgres-role on target kube: the in-pod login (pure, a recorded exec)', () => {
  const ctxWith = (answer: { exitCode: number; stdout: string; stderr: string }) => {
    const calls: { command: readonly string[]; stdin: string }[] = [];
    const ctx = {
      url: new URL('postgresql://127.0.0.1:1/postgres'),
      user: 'postgres',
      spec: { name: 'superuser', type: 'postgres-role' },
      timeoutMs: 5000,
      inPod: {
        resolve: async () => ({
          podIP: '10.244.0.7',
          port: 5432,
          run: async (command: readonly string[], stdin: string) => {
            calls.push({ command, stdin });
            return answer;
          },
        }),
      },
    };
    return { ctx, calls };
  };
  it('psql to the pod’s own IP; the password only on stdin, never in argv; exit 0 + "1" accepted, libpq’s refusals rejected, anything else an error', async () => {
    const ok = ctxWith({ exitCode: 0, stdout: '1\n', stderr: '' });
    expect(await postgresRoleRotator.login(ok.ctx, 's3cret-Pw')).toBe('accepted');
    const [call] = ok.calls;
    expect(call!.stdin).toBe('s3cret-Pw\n');
    expect(call!.command.join(' ')).not.toContain('s3cret-Pw');
    expect(call!.command.slice(-4)).toEqual(['10.244.0.7', '5432', 'postgres', 'postgres']);
    const bad = ctxWith({
      exitCode: 2,
      stdout: '',
      stderr:
        'psql: error: connection to server at "10.244.0.7", port 5432 failed: FATAL:  password authentication failed for user "postgres"\n',
    });
    expect(await postgresRoleRotator.login(bad.ctx, 'x')).toBe('rejected');
    const none = ctxWith({
      exitCode: 2,
      stdout: '',
      stderr: 'psql: error: fe_sendauth: no password supplied\n',
    });
    expect(await postgresRoleRotator.login(none.ctx, '')).toBe('rejected');
    const down = ctxWith({ exitCode: 2, stdout: '', stderr: 'psql: error: connection refused\n' });
    await expect(postgresRoleRotator.login(down.ctx, 'x')).rejects.toThrow(
      /psql in the pod \(to 10.244.0.7:5432\) exited 2: psql: error: connection refused/,
    );
  });
});

describe('rotate --namespace (usage, no cluster needed)', () => {
  it('a name that is not an RFC 1123 label, or --namespace on target local, is a usage error naming the flag (exit 2)', async () => {
    const base = {
      ...request('postgres', join(tmpdir(), 'kindling-ns-unused.json')),
      kubeconfig: '/nonexistent',
    };
    await expect(rotateStack({ ...base, namespace: 'Bad_NS' })).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringMatching(/"Bad_NS" is not a namespace name/),
    });
    await expect(rotateStack({ ...base, target: 'local', namespace: 'ok' })).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringMatching(/is for target kube/),
    });
  });
});

describeWithSim(
  'rotation on target kube for nacos-mysql, nacos, milvus, grafana and postgres (simulated cluster; real PostgreSQL and MariaDB pods; Nacos, Milvus and Grafana stand-ins)',
  () => {
    beforeAll(async () => {
      sim = await new SimCluster({ images: pinnedImages(REPO) }).start();
      dir = mkdtempSync(join(tmpdir(), 'kindling-rotate-kube-stack-'));
      kubeconfig = join(dir, 'kubeconfig');
      writeFileSync(kubeconfig, sim.kubeconfigYaml());
      const t0 = Date.now();
      const out = await deploy(
        {
          catalog: fromFlag('--catalog', join(REPO, 'manifests/stack.yaml')),
          profile: fromFlag('--profile', undefined),
          components: fromFlag('--components', 'postgres,nacos,milvus'),
          sizing: fromFlag('--sizing', 'kind'),
          timeout: fromFlag('--timeout', '150s'),
          verify: fromFlag('--verify', false),
          diagnostics: fromFlag('--diagnostics', join(dir, 'diagnostics')),
          kubeconfig: fromFlag('--kubeconfig', kubeconfig),
          context: fromFlag('--context', undefined),
        },
        { log: (c: string, m: string) => lines.push(`[${c}] ${m.split('\n')[0]!.slice(0, 200)}`) },
      );
      if (out.error) throw new Error(`deploy failed: ${out.error.message}\n${lines.slice(-30).join('\n')}`);
      // Grafana alone: its dependency Prometheus has no model here (test/sim/README.md), so its
      // rendered objects are applied as deploy applies them (server-side, field manager kindling)
      const client = new KubeClient(loadKubeConfig({ path: kubeconfig }));
      const stack = loadStack(join(REPO, 'manifests/stack.yaml'));
      for (const obj of (await renderSizing(stack, 'kind')).filter(
        (o) => o.metadata?.labels?.['app.kubernetes.io/name'] === 'grafana' && o.kind !== 'NetworkPolicy',
      ))
        await client.apply(obj, { fieldManager: 'kindling' });
      // the throwaway client pod the PostgreSQL test logs in from, in namespace voiceassistant: the
      // app's namespace, which postgres-ingress admits on 5432 (base/network-policies.yaml)
      await client.apply(
        {
          apiVersion: 'v1',
          kind: 'Namespace',
          metadata: { name: 'voiceassistant', labels: { 'kubernetes.io/metadata.name': 'voiceassistant' } },
        },
        { fieldManager: 'kindling-test' },
      );
      await client.apply(
        {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'pg-client', namespace: 'voiceassistant' },
          spec: {
            restartPolicy: 'Never',
            containers: [{ name: 'psql', image: 'postgres:16.6-alpine', command: ['sleep', '3600'] }],
          },
        },
        { fieldManager: 'kindling-test' },
      );
      await waitFor('grafana ready', () =>
        sim.api
          .list('v1', 'Pod', NS)
          .some((p) => p.metadata.name.startsWith('grafana-') && podReady(p.metadata.name)),
      );
      await waitFor(
        'pg-client running',
        () => sim.api.get('v1', 'Pod', 'voiceassistant', 'pg-client')?.status?.phase === 'Running',
      );
      console.log(`[rotate-kube-stack] stack deployed in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }, 240_000);
    afterAll(async () => {
      await sim?.stop();
    });

    it('nacos-mysql: MariaDB takes the new password (SET PASSWORD), nacos-mysql-secret follows; Nacos, which reads it as MYSQL_SERVICE_PASSWORD, is restarted with it and ready again (its datasource logs in); the old MySQL password refused; the Nacos admin, kept in MySQL, still logs in', async () => {
      const members = nacosMembers();
      expect(members.length).toBeGreaterThan(0);
      const nacosBefore = members.map(podUid);
      expect(await mysqlLogin('nacos')).toBe('accepted');
      const file = join(dir, 'nacos-mysql.json');
      const { results, out } = await rotateOk('nacos-mysql', file);
      expect(
        results.map((r) => [r.key, r.outcome, r.oldRejected]),
        out,
      ).toEqual([['nacos-mysql/nacos-user', 'rotated', true]]);
      const fresh = readSecretsFile(file).credentials['nacos-mysql/nacos-user']!.current!;
      expect(secretValue('nacos-mysql-secret', 'MYSQL_PASSWORD')).toBe(fresh);
      // (the seed password "nacos" is a word of these lines, so the redactor masks it as ***)
      expect(out).toMatch(/-mysql: restarted StatefulSet\/\S+-mysql, StatefulSet\/\S+\n/);
      expect(
        restartedAt('StatefulSet', 'nacos'),
        JSON.stringify(sim.api.get('apps/v1', 'StatefulSet', NS, 'nacos')?.spec.template.metadata),
      ).toBeDefined();
      // every Nacos member was replaced and is ready on the new datasource password
      expect(nacosMembers()).toEqual(members);
      const nacosAfter = members.map(podUid);
      for (let i = 0; i < members.length; i++) expect(nacosAfter[i]).not.toBe(nacosBefore[i]);
      expect(members.map(podReady)).toEqual(members.map(() => true));
      // Milvus and PostgreSQL do not read it
      expect(restartedAt('StatefulSet', 'milvus')).toBeUndefined();
      expect(await mysqlLogin(fresh)).toBe('accepted');
      expect(await mysqlLogin('nacos')).toBe('rejected');
      expect(await nacosLogin('nacos')).toBe('accepted');
    }, 240_000);

    it('nacos: the admin password changed through Nacos (PUT /v1/auth/users), nacos-secret follows; no workload reads it (the admin-init Job only creates the admin once), so nothing restarts; the new one accepted, the old refused', async () => {
      const uid = podUid('nacos-0');
      const file = join(dir, 'nacos.json');
      const { results, out } = await rotateOk('nacos', file, { namespace: NS });
      expect(
        results.map((r) => [r.key, r.outcome, r.oldRejected]),
        out,
      ).toEqual([['nacos/nacos-user', 'rotated', true]]);
      const fresh = readSecretsFile(file).credentials['nacos/nacos-user']!.current!;
      expect(secretValue('nacos-secret', 'NACOS_PASSWORD')).toBe(fresh);
      expect(out).toMatch(/: restarted nothing \(no workload reads the key\)/);
      expect(podUid('nacos-0')).toBe(uid);
      // the accounts are rows in MySQL: every member answers the same (each forward may pick another)
      for (let i = 0; i < nacosMembers().length; i++) {
        expect(await nacosLogin(fresh)).toBe('accepted');
        expect(await nacosLogin('nacos')).toBe('rejected');
      }
    }, 120_000);

    it('milvus: root changed through the RESTful v2 API (update_password, kept in etcd), milvus-secret follows, StatefulSet/milvus restarted (it reads the key as COMMON_SECURITY_DEFAULTROOTPASSWORD) and ready; the new one accepted, the old refused', async () => {
      const uid = podUid('milvus-0');
      const file = join(dir, 'milvus.json');
      const { results, out } = await rotateOk('milvus', file);
      expect(
        results.map((r) => [r.key, r.outcome, r.oldRejected]),
        out,
      ).toEqual([['milvus/root', 'rotated', true]]);
      const fresh = readSecretsFile(file).credentials['milvus/root']!.current!;
      expect(secretValue('milvus-secret', 'MILVUS_PASSWORD')).toBe(fresh);
      expect(out).toContain('milvus: restarted StatefulSet/milvus');
      expect(podUid('milvus-0')).not.toBe(uid);
      expect(podReady('milvus-0')).toBe(true);
      expect(await milvusLogin(fresh)).toBe('accepted');
      expect(await milvusLogin('Milvus')).toBe('rejected');
    }, 180_000);

    it('grafana: the admin password changed through Grafana’s API (PUT /api/user/password), grafana-secret follows, Deployment/grafana restarted and ready; the new one accepted, the old refused; a restart with some other GF_SECURITY_ADMIN_PASSWORD keeps the database’s password (Grafana applies it only to a new admin)', async () => {
      const file = join(dir, 'grafana.json');
      expect(await grafanaLogin('admin')).toBe('accepted');
      const { results, out } = await rotateOk('grafana', file);
      expect(
        results.map((r) => [r.key, r.outcome, r.oldRejected]),
        out,
      ).toEqual([['grafana/admin', 'rotated', true]]);
      const fresh = readSecretsFile(file).credentials['grafana/admin']!.current!;
      expect(secretValue('grafana-secret', 'GF_SECURITY_ADMIN_PASSWORD')).toBe(fresh);
      expect(out).toContain('grafana: restarted Deployment/grafana');
      expect(await grafanaLogin(fresh)).toBe('accepted');
      expect(await grafanaLogin('admin')).toBe('rejected');

      // the model's point: only the API changes a running Grafana's admin; the env var is ignored
      const client = new KubeClient(loadKubeConfig({ path: kubeconfig }));
      await client.apply(
        secretKeyApply(NS, { secret: 'grafana-secret', key: 'GF_SECURITY_ADMIN_PASSWORD' }, 'not-it'),
        {
          fieldManager: 'kindling-rotate',
        },
      );
      const before = sim.api.list('v1', 'Pod', NS).find((p) => p.metadata.name.startsWith('grafana-'))!
        .metadata.uid;
      const d = sim.api.get('apps/v1', 'Deployment', NS, 'grafana')!;
      await client.apply(restartApply(d, new Date(Date.now() + 5000)), { fieldManager: 'kindling-rotate' });
      await waitFor('grafana restarted and ready', () =>
        sim.api
          .list('v1', 'Pod', NS)
          .some(
            (p) =>
              p.metadata.name.startsWith('grafana-') &&
              p.metadata.uid !== before &&
              podReady(p.metadata.name),
          ),
      );
      await waitFor('the old grafana pod gone', () =>
        sim.api
          .list('v1', 'Pod', NS)
          .every((p) => !p.metadata.name.startsWith('grafana-') || p.metadata.uid !== before),
      );
      expect(await grafanaLogin(fresh)).toBe('accepted');
      expect(await grafanaLogin('not-it')).toBe('rejected');
      await client.apply(
        secretKeyApply(NS, { secret: 'grafana-secret', key: 'GF_SECURITY_ADMIN_PASSWORD' }, fresh),
        {
          fieldManager: 'kindling-rotate',
        },
      );
    }, 240_000);

    it('postgres, through the CLI: the login is proven from the pod’s own IP (psql in the pod, the password on stdin), so the rotation ends rotated with the old password refused, exit 0; StatefulSet/postgres restarted with its exporter sidecar, which reads the same key', async () => {
      const file = join(dir, 'postgres.json');
      const t0 = Date.now();
      const r = await new Promise<{ code: number; out: string }>((done) =>
        execFile(
          process.execPath,
          [
            join(ROOT, 'bin/kindling.js'),
            'rotate',
            '--target',
            'kube',
            '--kubeconfig',
            kubeconfig,
            '--components',
            'postgres',
            '--write-secrets',
            file,
            '--timeout',
            '10s',
            '--ready-timeout',
            '120s',
          ],
          { cwd: ROOT, timeout: 180_000 },
          (err, stdout, stderr) =>
            done({
              code: err ? Number((err as { code?: unknown }).code ?? 1) : 0,
              out: `${stdout}${stderr}`,
            }),
        ),
      );
      console.log(`[rotate-kube-stack] postgres rotated (CLI) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      printed.push(r.out);
      expect(r.code, r.out).toBe(0);
      expect(r.out).toMatch(/postgres\/superuser: rotated .*new credential accepted, old one rejected/);
      expect(r.out).toContain('postgres: restarted StatefulSet/postgres');
      const fresh = readSecretsFile(file).credentials['postgres/superuser']!.current!;
      expect(secretValue('postgres-secret', 'POSTGRES_PASSWORD')).toBe(fresh);
      // the exporter sidecar is in the restarted pod template and reads the key as DATA_SOURCE_PASS
      const pod = sim.api.get('v1', 'Pod', NS, 'postgres-0')!;
      expect(
        pod.metadata.annotations?.[RESTARTED_AT] ?? restartedAt('StatefulSet', 'postgres'),
      ).toBeDefined();
      const exporter = pod.spec.containers.find((c: { name: string }) => c.name === 'postgres-exporter');
      expect(
        exporter.env.find((e: { name: string }) => e.name === 'DATA_SOURCE_PASS').valueFrom.secretKeyRef,
      ).toEqual({ name: 'postgres-secret', key: 'POSTGRES_PASSWORD' });
      expect(
        pod.status.containerStatuses.map((c: { name: string; ready: boolean }) => [c.name, c.ready]),
      ).toEqual([
        ['postgres', true],
        ['postgres-exporter', true],
      ]);
      // the image model's pg_hba, as docker-library/postgres writes it: initdb's trust for loopback,
      // then the appended catch-all scram-sha-256 line
      const hba = await (async () => {
        const cluster = new KubeCluster(loadKubeConfig({ path: kubeconfig }));
        const chunks: Buffer[] = [];
        const sink = new Writable({
          write(c: Buffer, _e, cb) {
            chunks.push(c);
            cb();
          },
        });
        await cluster.exec({
          namespace: NS,
          pod: 'postgres-0',
          command: ['sh', '-c', 'grep -v "^#" "$PGDATA/pg_hba.conf" | grep .'],
          stdout: sink,
          timeoutMs: 10_000,
        });
        return Buffer.concat(chunks)
          .toString()
          .trim()
          .split('\n')
          .map((l) => l.split(/\s+/).join(' '));
      })();
      expect(hba).toContain('host all all 127.0.0.1/32 trust');
      expect(hba.at(-1)).toBe('host all all all scram-sha-256');
      // independently of the rotator: a login from another pod
      expect(await postgresLogin(fresh)).toBe('accepted');
      expect(await postgresLogin('changeme')).toBe('rejected');
    }, 240_000);

    it('milvus, a crash right after setSecret (service changed, Secret applied, Milvus restarted): the next run resumes from the secrets file, tests and finishes; the old one refused', async () => {
      const file = join(dir, 'milvus-crash.json');
      const before = secretValue('milvus-secret', 'MILVUS_PASSWORD');
      await expect(
        rotateStack(request('milvus', file), {
          log: (l) => printed.push(l),
          afterStep: (step) => {
            if (step === 'setSecret') throw new Error('injected crash after setSecret');
          },
        }),
      ).rejects.toThrow(/injected crash after setSecret/);
      const state = readSecretsFile(file).credentials['milvus/root']!;
      expect(state.step).toBe('setSecret');
      expect(secretValue('milvus-secret', 'MILVUS_PASSWORD')).toBe(state.pending);
      expect(await milvusLogin(state.pending!)).toBe('accepted');
      const { results } = await rotateOk('milvus', file);
      expect(results.map((r) => [r.outcome, r.resumed, r.steps, r.oldRejected])).toEqual([
        ['rotated', true, ['testSecret', 'finishSecret'], true],
      ]);
      expect(await milvusLogin(state.pending!)).toBe('accepted');
      expect(await milvusLogin(before)).toBe('rejected');
    }, 240_000);

    it('no credential made or replaced appears in any output', () => {
      const all = printed.join('\n');
      const secrets = ['nacos-mysql', 'nacos', 'milvus', 'grafana', 'postgres', 'milvus-crash']
        .map((n) => readSecretsFile(join(dir, `${n}.json`)))
        .flatMap((f) => Object.values(f.credentials).flatMap((c) => [c.current, c.previous]))
        .filter((v): v is string => !!v && v.length >= 20); // the generated ones (the seed defaults are words like "nacos")
      expect(secrets.length).toBeGreaterThanOrEqual(6);
      for (const s of secrets) expect(all).not.toContain(s);
      expect(readFileSync(join(dir, 'postgres.json')).length).toBeGreaterThan(0);
    });
  },
);
