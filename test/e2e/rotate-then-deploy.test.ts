/**
 * Issue #13 end to end on the simulated cluster (test/sim, a stand-in cluster whose redis pod runs
 * the real Redis 7 with `--requirepass` from the pod's env; its API stand-in does server-side apply
 * and Secret stringData as the API server does, test/standins/kube-ssa.ts): `kindling deploy` of
 * redis, `kindling rotate --target kube` of its password, `kindling deploy` again (the manifests'
 * redis-secret still says the seed's empty password) — the Secret keeps the rotated password, Redis
 * accepts it and refuses the old one, and after the pod is deleted the StatefulSet's new pod starts
 * from the Secret with the rotated password still. Without deploy keeping the key
 * (src/kube/secret-keep.ts), the second deploy wrote the empty password back and the restarted
 * Redis came up without AUTH.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { deploy } from '../../src/app/deploy.ts';
import { rotateStack } from '../../src/app/rotate.ts';
import { fromFlag } from '../../src/app/settings.ts';
import { KubeClient } from '../../src/kube/client.ts';
import { KubeCluster } from '../../src/kube/cluster.ts';
import { loadKubeConfig } from '../../src/kube/config.ts';
import { ROTATE_FIELD_MANAGER } from '../../src/rotate/kube.ts';
import { readSecretsFile } from '../../src/rotate/state.ts';
import { REPO } from '../actions-entry/run-action.ts';
import { runCli } from '../harness/cli.ts';
import { SimCluster } from '../sim/cluster.ts';
import { pinnedImages } from '../sim/images.ts';
import { describeWithSim } from './sim-available.ts';

const NS = 'voiceassistant-infra';
let sim: SimCluster;
let kubeconfig: string;
let dir: string;
const lines: string[] = [];
const T0 = Date.now();
const log = (c: string, m: string) =>
  lines.push(`${((Date.now() - T0) / 1000).toFixed(1)}s [${c}] ${m.split('\n')[0]!.slice(0, 200)}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const deployRedis = () =>
  deploy(
    {
      catalog: fromFlag('--catalog', join(REPO, 'manifests/stack.yaml')),
      profile: fromFlag('--profile', undefined),
      components: fromFlag('--components', 'redis'),
      sizing: fromFlag('--sizing', 'kind'),
      timeout: fromFlag('--timeout', '90s'),
      verify: fromFlag('--verify', false),
      diagnostics: fromFlag('--diagnostics', join(dir, 'diagnostics')),
      kubeconfig: fromFlag('--kubeconfig', kubeconfig),
      context: fromFlag('--context', undefined),
    },
    { log },
  );

const secretValue = () =>
  Buffer.from(sim.api.get('v1', 'Secret', NS, 'redis-secret')!.data.REDIS_PASSWORD, 'base64').toString();

/** redis-cli (the real client) PING through a fresh port-forward; the password in REDISCLI_AUTH, not argv. */
async function redisLogin(password: string): Promise<'accepted' | 'rejected'> {
  const fwd = await new KubeCluster(loadKubeConfig({ path: kubeconfig })).portForward(NS, 'redis', 6379);
  try {
    const r = await new Promise<{ out: string; error?: Error }>((done) =>
      execFile(
        'redis-cli',
        ['-h', '127.0.0.1', '-p', String(fwd.localPort), 'ping'],
        {
          encoding: 'utf8',
          timeout: 10_000,
          env: { ...process.env, ...(password ? { REDISCLI_AUTH: password } : {}) },
        },
        (error, stdout, stderr) => done({ out: `${stdout}${stderr}`.trim(), ...(error ? { error } : {}) }),
      ),
    );
    if (r.out === 'PONG') return 'accepted';
    if (/NOAUTH|WRONGPASS|invalid username-password/.test(r.out)) return 'rejected';
    throw new Error(`redis-cli ping: ${r.out || r.error}`);
  } finally {
    await fwd.close();
  }
}

// biome-ignore lint/suspicious/noExplicitAny: API objects are open JSON
const ready = (pod: any) =>
  pod?.status?.conditions?.some(
    (c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True',
  );

describeWithSim(
  'rotate then deploy: the rotated Redis password survives a deploy and a restart (simulated cluster, real Redis pod)',
  () => {
    beforeAll(async () => {
      sim = await new SimCluster({ images: pinnedImages(REPO) }).start();
      dir = mkdtempSync(join(tmpdir(), 'kindling-rotate-deploy-'));
      kubeconfig = join(dir, 'kubeconfig');
      writeFileSync(kubeconfig, sim.kubeconfigYaml());
      const out = await deployRedis();
      if (out.error) throw new Error(`deploy of redis failed: ${out.error.message}\n${lines.join('\n')}`);
    }, 150_000);
    afterAll(async () => {
      await sim?.stop();
    });

    it('deploy → rotate → deploy: the Secret keeps the rotated password (noted, never printed), Redis accepts it and refuses the old; the redis pod deleted comes back with it', async () => {
      expect(await redisLogin('')).toBe('accepted'); // the seed's default: no AUTH
      const secrets = join(dir, 'rotated-redis.json');
      const rotated = await rotateStack(
        {
          catalog: join(REPO, 'manifests/stack.yaml'),
          components: 'redis',
          target: 'kube',
          endpoints: [],
          writeSecrets: secrets,
          timeout: '10s',
          readyTimeout: '90s',
          kubeconfig,
        },
        { log: (l) => lines.push(l) },
      );
      expect(rotated.map((r) => [r.key, r.outcome])).toEqual([['redis/default-user', 'rotated']]);
      const fresh = readSecretsFile(secrets).credentials['redis/default-user']!.current!;
      expect(secretValue()).toBe(fresh);
      const rotatedAt = sim.api
        .get('v1', 'Secret', NS, 'redis-secret')!
        .metadata.managedFields.find((m: { manager: string }) => m.manager === ROTATE_FIELD_MANAGER).time;
      const note = `Secret redis-secret: kept REDIS_PASSWORD (rotated by kindling-rotate at ${rotatedAt})`;

      // the CLI's dry run says what the deploy will keep, changes nothing, prints no password
      const dry = await runCli([
        'deploy',
        '--catalog',
        join(REPO, 'manifests/stack.yaml'),
        '--components',
        'redis',
        '--kubeconfig',
        kubeconfig,
        '--dry-run',
      ]);
      expect(dry.code, dry.err).toBe(0);
      expect(dry.out).toContain(note);
      expect(`${dry.out}${dry.err}`).not.toContain(fresh);

      const t0 = Date.now();
      const again = await deployRedis();
      console.log(
        `[rotate-then-deploy] second deploy of redis in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
      );
      expect(again.error, lines.join('\n')).toBeUndefined();
      expect(again.result.components.find((c) => c.name === 'redis')!.notes).toContain(note);
      expect(lines.join('\n')).not.toContain(fresh);
      expect(secretValue()).toBe(fresh);
      expect(await redisLogin(fresh)).toBe('accepted');
      expect(await redisLogin('')).toBe('rejected');

      // a restart: the pod deleted, the StatefulSet controller starts redis-0 again from the Secret
      const before = sim.api.get('v1', 'Pod', NS, 'redis-0')!.metadata.uid;
      const client = new KubeClient(loadKubeConfig({ path: kubeconfig }));
      await client.delete({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'redis-0', namespace: NS } });
      const t1 = Date.now();
      for (;;) {
        const pod = sim.api.get('v1', 'Pod', NS, 'redis-0');
        if (pod && pod.metadata.uid !== before && ready(pod)) break;
        if (Date.now() - t1 > 90_000)
          throw new Error(`redis-0 not ready again within 90 s\n${lines.join('\n')}`);
        await sleep(200);
      }
      console.log(
        `[rotate-then-deploy] redis-0 deleted and ready again in ${((Date.now() - t1) / 1000).toFixed(1)} s`,
      );
      expect(await redisLogin(fresh)).toBe('accepted');
      expect(await redisLogin('')).toBe('rejected');
    }, 300_000);
  },
);
