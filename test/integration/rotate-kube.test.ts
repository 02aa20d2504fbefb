/**
 * `kindling rotate --target kube` on the simulated cluster (test/sim, a stand-in cluster whose pods
 * run the real Redis 7 and PostgreSQL 15 from the pods' own env; its API stand-in does server-side
 * apply field ownership, test/standins/kube-ssa.ts): the rendered postgres and redis StatefulSets
 * deployed by `kindling deploy`'s use case, then rotated through the real edges — the current
 * password from the stack's Secret, the change through a port-forward, the Secret key applied by
 * field manager kindling-rotate, `rollout restart` of exactly the workloads that read the key (the
 * pod-template annotation kubectl pkg/polymorphichelpers/objectrestarter.go sets), the wait by
 * kindling's readiness rules, the new password tested through a new port-forward, the old refused.
 * PostgreSQL, Nacos' MySQL, Nacos, Milvus and Grafana are rotated in rotate-kube-stack.test.ts.
 * The consumers of every catalog rotation are found in the rendered manifests, not named.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deploy } from '../../src/app/deploy.ts';
import { rotateStack } from '../../src/app/rotate.ts';
import { fromFlag } from '../../src/app/settings.ts';
import { loadStack } from '../../src/catalog/index.ts';
import { KubeCluster } from '../../src/kube/cluster.ts';
import { loadKubeConfig } from '../../src/kube/config.ts';
import { renderSizing } from '../../src/manifests/render.ts';
import { consumersOf, RESTARTED_AT, restartApply, secretKeyApply } from '../../src/rotate/kube.ts';
import { readSecretsFile } from '../../src/rotate/state.ts';
import { REPO } from '../actions-entry/run-action.ts';
import { describeWithSim } from '../e2e/sim-available.ts';
import { SimCluster } from '../sim/cluster.ts';
import { pinnedImages } from '../sim/images.ts';

const NS = 'voiceassistant-infra';
const stack = loadStack(join(REPO, 'manifests/stack.yaml'));

describe('rotation on target kube: decisions (pure)', () => {
  it('the readers of each rotated Secret key are the workloads whose pod templates reference it, in the rendered manifests', async () => {
    const objects = await renderSizing(stack, 'kind');
    const readers = Object.values(stack.components).flatMap((c) =>
      (c.rotation ?? []).map((r) => [
        `${c.name}/${r.name}`,
        consumersOf(objects, r.secret!).map((w) => `${w.kind}/${w.metadata.name}`),
      ]),
    );
    expect(Object.fromEntries(readers)).toEqual({
      'postgres/superuser': ['StatefulSet/postgres'],
      'redis/default-user': ['StatefulSet/redis'],
      // nacos reads the MySQL password as MYSQL_SERVICE_PASSWORD: a consumer in another component
      'nacos-mysql/nacos-user': ['StatefulSet/nacos', 'StatefulSet/nacos-mysql'],
      'nacos/nacos-user': [],
      'milvus/root': ['StatefulSet/milvus'],
      // MinIO itself (envFrom) and its S3 clients; the minio-buckets Job reads it too, but a Job is
      // not rollout-restarted (kubectl objectrestarter.go): its next pod reads the Secret as it starts
      'minio/root': ['StatefulSet/elasticsearch', 'StatefulSet/milvus', 'StatefulSet/minio'],
      'grafana/admin': ['Deployment/grafana'],
    });
  }, 60_000);

  it('a restart is the restartedAt annotation only, RFC 3339; a paused Deployment is refused as kubectl refuses it; a Secret apply carries the one key', () => {
    const d = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'g', namespace: NS }, spec: {} };
    expect(restartApply(d, new Date('2026-12-01T16:50:07.123Z'))).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'g', namespace: NS },
      spec: { template: { metadata: { annotations: { [RESTARTED_AT]: '2026-12-01T16:50:07Z' } } } },
    });
    expect(() => restartApply({ ...d, spec: { paused: true } }, new Date())).toThrow(
      "can't restart paused deployment g (run rollout resume first)",
    );
    expect(secretKeyApply(NS, { secret: 's', key: 'K' }, 'pw').data).toEqual({ K: 'cHc=' });
  });
});

let sim: SimCluster;
let kubeconfig: string;
let dir: string;
const lines: string[] = [];
const log = (c: string, m: string) => lines.push(`[${c}] ${m.split('\n')[0]!.slice(0, 200)}`);

const request = (components: string, writeSecrets: string) => ({
  catalog: join(REPO, 'manifests/stack.yaml'),
  components,
  target: 'kube',
  endpoints: [],
  writeSecrets,
  timeout: '10s',
  readyTimeout: '90s',
  kubeconfig,
});

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

/** redis-cli (the real client) through a port-forward; the password in REDISCLI_AUTH, not in argv. */
const redisLogin = (password: string) =>
  forwarded('redis', 6379, async (port) => {
    // async: the port-forward runs in this process
    const r = await new Promise<{ stdout: string; stderr: string; error?: Error }>((done) =>
      execFile(
        'redis-cli',
        ['-h', '127.0.0.1', '-p', String(port), 'ping'],
        {
          encoding: 'utf8',
          timeout: 10_000,
          env: { ...process.env, ...(password ? { REDISCLI_AUTH: password } : {}) },
        },
        (error, stdout, stderr) => done({ stdout, stderr, ...(error ? { error } : {}) }),
      ),
    );
    const reply = `${r.stdout}${r.stderr}`.trim();
    if (reply === 'PONG') return 'accepted' as const;
    if (/NOAUTH|WRONGPASS|invalid username-password/.test(reply)) return 'rejected' as const;
    throw new Error(`redis-cli ping: ${reply || r.error}`);
  });

describeWithSim(
  'rotation on target kube, on the simulated cluster (stand-in cluster, real Redis and PostgreSQL pods)',
  () => {
    beforeAll(async () => {
      sim = await new SimCluster({ images: pinnedImages(REPO) }).start();
      dir = mkdtempSync(join(tmpdir(), 'kindling-rotate-kube-'));
      kubeconfig = join(dir, 'kubeconfig');
      writeFileSync(kubeconfig, sim.kubeconfigYaml());
      const out = await deploy(
        {
          catalog: fromFlag('--catalog', join(REPO, 'manifests/stack.yaml')),
          profile: fromFlag('--profile', undefined),
          components: fromFlag('--components', 'postgres,redis'),
          sizing: fromFlag('--sizing', 'kind'),
          timeout: fromFlag('--timeout', '90s'),
          verify: fromFlag('--verify', false),
          diagnostics: fromFlag('--diagnostics', join(dir, 'diagnostics')),
          kubeconfig: fromFlag('--kubeconfig', kubeconfig),
          context: fromFlag('--context', undefined),
        },
        { log },
      );
      if (out.error) throw new Error(`deploy of postgres failed: ${out.error.message}\n${lines.join('\n')}`);
    }, 150_000);
    afterAll(async () => {
      await sim?.stop();
    });

    it('rotates redis: Secret key applied by kindling-rotate (deploy’s fields survive), StatefulSet/redis restarted and ready, the new password accepted through a new port-forward, the old (the seed’s empty one) refused', async () => {
      const before = sim.api.get('v1', 'Pod', NS, 'redis-0')!.metadata.uid;
      expect(await redisLogin('')).toBe('accepted');
      const secrets = join(dir, 'rotated-redis.json');
      const out: string[] = [];
      const t0 = Date.now();
      const results = await rotateStack(request('redis', secrets), { log: (l) => out.push(l) });
      console.log(
        `[rotate-kube] redis rotated on the simulated cluster in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
      );
      expect(
        results.map((r) => [r.key, r.outcome, r.oldRejected]),
        out.join('\n'),
      ).toEqual([['redis/default-user', 'rotated', true]]);
      const fresh = readSecretsFile(secrets).credentials['redis/default-user']!.current!;
      expect(fresh.length).toBeGreaterThanOrEqual(24);
      expect(out.join('\n')).not.toContain(fresh);
      expect(out.join('\n')).toContain('redis: restarted StatefulSet/redis');

      const secret = sim.api.get('v1', 'Secret', NS, 'redis-secret')!;
      expect(Buffer.from(secret.data.REDIS_PASSWORD, 'base64').toString()).toBe(fresh);
      expect(secret.metadata.labels['app.kubernetes.io/name']).toBe('redis');
      expect(secret.metadata.managedFields.map((m: { manager: string }) => m.manager).sort()).toEqual([
        'kindling',
        'kindling-rotate',
      ]);
      const sts = sim.api.get('apps/v1', 'StatefulSet', NS, 'redis')!;
      expect(sts.spec.template.metadata.annotations[RESTARTED_AT]).toMatch(
        /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
      );
      expect(sts.spec.template.spec.containers.map((c: { name: string }) => c.name)).toEqual([
        'redis',
        'redis-exporter',
      ]);
      // the pod was replaced: the restarted server took the password from the Secret (--requirepass)
      expect(sim.api.get('v1', 'Pod', NS, 'redis-0')!.metadata.uid).not.toBe(before);
      // postgres does not read redis-secret: not restarted
      expect(
        sim.api.get('apps/v1', 'StatefulSet', NS, 'postgres')!.spec.template.metadata.annotations?.[
          RESTARTED_AT
        ],
      ).toBeUndefined();
      expect(await redisLogin(fresh)).toBe('accepted');
      expect(await redisLogin('')).toBe('rejected');
      expect(readFileSync(secrets, 'utf8')).toContain('"step": "finishSecret"');
    }, 180_000);

    it('a crash right after setSecret (service changed, Secret applied, workloads restarted) resumes: the next run finds the pending credential, tests and finishes it; the old one refused', async () => {
      const secrets = join(dir, 'rotated-redis-crash.json');
      const before = Buffer.from(
        sim.api.get('v1', 'Secret', NS, 'redis-secret')!.data.REDIS_PASSWORD,
        'base64',
      ).toString();
      const crash = rotateStack(request('redis', secrets), {
        afterStep: (step) => {
          if (step === 'setSecret') throw new Error('injected crash after setSecret');
        },
      });
      await expect(crash).rejects.toThrow(/injected crash after setSecret/);
      const state = readSecretsFile(secrets).credentials['redis/default-user']!;
      expect(state.step).toBe('setSecret');
      const pending = state.pending!;
      expect(
        Buffer.from(
          sim.api.get('v1', 'Secret', NS, 'redis-secret')!.data.REDIS_PASSWORD,
          'base64',
        ).toString(),
      ).toBe(pending);
      // in between, the pending credential works and nothing is lost
      expect(await redisLogin(pending)).toBe('accepted');
      const out: string[] = [];
      const results = await rotateStack(request('redis', secrets), { log: (l) => out.push(l) });
      expect(results.map((r) => [r.outcome, r.resumed, r.steps, r.oldRejected])).toEqual([
        ['rotated', true, ['testSecret', 'finishSecret'], true],
      ]);
      expect(readSecretsFile(secrets).credentials['redis/default-user']!.current).toBe(pending);
      expect(await redisLogin(pending)).toBe('accepted');
      expect(await redisLogin(before)).toBe('rejected');
    }, 180_000);
  },
);
