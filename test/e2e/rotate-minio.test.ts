/**
 * `kindling rotate --components minio --target kube` on the simulated cluster (test/sim: a stand-in
 * cluster; MinIO's image model is s3rver behind MinIO's request authentication STAND-IN,
 * test/standins/s3-sigv4.ts, which takes its root credentials from the container's
 * MINIO_ROOT_USER / MINIO_ROOT_PASSWORD at start as MinIO does, minio/minio cmd/common-main.go
 * loadRootCredentials; Milvus is a stand-in too). MinIO, etcd and Milvus deployed by `kindling
 * deploy`'s use case, then the root secret key rotated: minio-secret's MINIO_ROOT_PASSWORD applied
 * by field manager kindling-rotate, `rollout restart` (kubectl objectrestarter.go) of exactly the
 * workloads reading it — MinIO and Milvus; the minio-buckets Job, which objectrestarter.go cannot
 * restart, left Complete — the wait, the new key accepted through a new port-forward, the old one
 * refused (SignatureDoesNotMatch); then `kindling backup` into the in-cluster MinIO, whose s3-copy
 * source reads minio-secret, still works, and the old key is refused by the store.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { deploy } from '../../src/app/deploy.ts';
import { rotateStack } from '../../src/app/rotate.ts';
import { fromFlag } from '../../src/app/settings.ts';
import { RESTARTED_AT } from '../../src/rotate/kube.ts';
import { readSecretsFile } from '../../src/rotate/state.ts';
import { REPO } from '../actions-entry/run-action.ts';
import { SimCluster } from '../sim/cluster.ts';
import { pinnedImages } from '../sim/images.ts';
import { describeWithSim } from './sim-available.ts';

const NS = 'voiceassistant-infra';
const SEED = 'minioadmin123';
let sim: SimCluster;
let dir: string;
let kubeconfig: string;
const lines: string[] = [];

const secretValue = (key: string) =>
  Buffer.from(sim.api.get('v1', 'Secret', NS, 'minio-secret')!.data[key], 'base64').toString();

/** A signed ListBuckets against minio-0 through a fresh port-forward. */
async function login(user: string, password: string): Promise<string> {
  const minio = sim.kubelet.container(NS, 'minio-0', 'minio');
  if (!minio) return 'no running minio-0';
  const port = await minio.sandbox.forward(9000);
  const c = new S3Client({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: user, secretAccessKey: password },
    maxAttempts: 1,
    requestHandler: { requestTimeout: 10_000, connectionTimeout: 5000 },
  });
  try {
    const r = await c.send(new ListBucketsCommand({}));
    return `accepted ${(r.Buckets ?? []).map((b) => b.Name).join(',')}`;
  } catch (err) {
    return (err as { Code?: string }).Code ?? String(err);
  } finally {
    c.destroy();
  }
}

function kindling(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; out: string; stdout: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(REPO, 'bin/kindling.js'), ...args],
      { cwd: REPO, env: { ...process.env, ...env }, timeout: 180_000 },
      (err, stdout, stderr) => {
        const e = err as (Error & { code?: unknown }) | null;
        resolve({
          code: e ? (typeof e.code === 'number' ? e.code : null) : 0,
          out: `${stdout}${stderr}`,
          stdout,
        });
      },
    );
  });
}

describeWithSim(
  'rotate MinIO root on target kube, on the simulated cluster (stand-in cluster; MinIO = SigV4 stand-in over s3rver, Milvus stand-in)',
  () => {
    beforeAll(async () => {
      sim = await new SimCluster({ images: pinnedImages(REPO) }).start();
      dir = mkdtempSync(join(tmpdir(), 'kindling-rotate-minio-'));
      kubeconfig = join(dir, 'kubeconfig');
      writeFileSync(kubeconfig, sim.kubeconfigYaml());
      const out = await deploy(
        {
          catalog: fromFlag('--catalog', join(REPO, 'manifests/stack.yaml')),
          profile: fromFlag('--profile', undefined),
          components: fromFlag('--components', 'milvus'),
          sizing: fromFlag('--sizing', 'kind'),
          timeout: fromFlag('--timeout', '120s'),
          verify: fromFlag('--verify', false),
          diagnostics: fromFlag('--diagnostics', join(dir, 'diagnostics')),
          kubeconfig: fromFlag('--kubeconfig', kubeconfig),
          context: fromFlag('--context', undefined),
        },
        { log: (c, m) => lines.push(`[${c}] ${m.split('\n')[0]!.slice(0, 200)}`) },
      );
      if (out.error) throw new Error(`deploy of milvus failed: ${out.error.message}\n${lines.join('\n')}`);
    }, 200_000);
    afterAll(async () => {
      await sim?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('the deployed MinIO serves the seed key and refuses a wrong one (its signatures are checked)', async () => {
      expect(await login('minioadmin', SEED)).toMatch(/^accepted .*backups/);
      expect(await login('minioadmin', 'not-the-key')).toBe('SignatureDoesNotMatch');
      expect(await login('someone', SEED)).toBe('InvalidAccessKeyId');
    }, 60_000);

    it('rotates the root secret key: Secret applied, MinIO and Milvus restarted and ready, the Job left Complete, new key accepted, old refused; a backup into the in-cluster MinIO still works', async () => {
      const uid = (pod: string) => sim.api.get('v1', 'Pod', NS, pod)?.metadata.uid;
      const before = { minio: uid('minio-0'), milvus: uid('milvus-0'), etcd: uid('etcd-0') };
      const jobBefore = sim.api.get('batch/v1', 'Job', NS, 'minio-buckets')!;
      expect(jobBefore.status?.succeeded).toBe(1);
      const secrets = join(dir, 'rotated-minio.json');
      const out: string[] = [];
      const t0 = Date.now();
      const results = await rotateStack(
        {
          catalog: join(REPO, 'manifests/stack.yaml'),
          components: 'minio',
          target: 'kube',
          endpoints: [],
          writeSecrets: secrets,
          timeout: '10s',
          readyTimeout: '120s',
          kubeconfig,
        },
        { log: (l) => out.push(l) },
      );
      const seconds = ((Date.now() - t0) / 1000).toFixed(1);
      console.log(`[rotate-minio] minio root rotated on the simulated cluster in ${seconds} s`);
      const text = out.join('\n');
      expect(
        results.map((r) => [r.key, r.outcome, r.oldRejected]),
        text,
      ).toEqual([['minio/root', 'rotated', true]]);
      const fresh = readSecretsFile(secrets).credentials['minio/root']!;
      expect(fresh).toMatchObject({ user: 'minioadmin', previous: SEED, step: 'finishSecret' });
      const key = fresh.current!;
      expect(text).not.toContain(key);
      expect(text).not.toContain(SEED);
      expect(text).toContain('minio: restarted StatefulSet/minio, StatefulSet/milvus');

      // the Secret: only the password changed, and kindling-rotate owns just that key
      expect(secretValue('MINIO_ROOT_PASSWORD')).toBe(key);
      expect(secretValue('MINIO_ROOT_USER')).toBe('minioadmin');
      // the readers were replaced (their new pods read the new value); etcd does not read it
      for (const sts of ['minio', 'milvus'])
        expect(
          sim.api.get('apps/v1', 'StatefulSet', NS, sts)!.spec.template.metadata.annotations?.[RESTARTED_AT],
        ).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(uid('minio-0')).not.toBe(before.minio);
      expect(uid('milvus-0')).not.toBe(before.milvus);
      expect(uid('etcd-0')).toBe(before.etcd);
      expect(sim.kubelet.container(NS, 'milvus-0', 'milvus')?.env.MINIO_SECRET_ACCESS_KEY).toBe(key);
      // a Job has no rollout restart (objectrestarter.go): untouched, still Complete
      const job = sim.api.get('batch/v1', 'Job', NS, 'minio-buckets')!;
      expect(job.metadata.uid).toBe(jobBefore.metadata.uid);
      expect(job.spec.template.metadata.annotations?.[RESTARTED_AT]).toBeUndefined();
      expect(job.status?.succeeded).toBe(1);

      // the restarted MinIO kept its data and serves the new key only
      expect(await login('minioadmin', key)).toMatch(/^accepted .*backups/);
      expect(await login('minioadmin', SEED)).toBe('SignatureDoesNotMatch');

      // a backup into the in-cluster MinIO with the stack's (rotated) Secret, its source reading it too
      const minio = sim.kubelet.container(NS, 'minio-0', 'minio')!;
      const endpoint = `http://127.0.0.1:${await minio.sandbox.forward(9000)}`;
      const backupArgs = [
        'backup',
        '--target',
        'kube',
        '--kubeconfig',
        kubeconfig,
        '--components',
        'minio',
        '--store',
        's3://backups/after-rotation',
        '--s3-endpoint',
        endpoint,
        '--json',
      ];
      const ok = await kindling(backupArgs, { AWS_ACCESS_KEY_ID: 'minioadmin', AWS_SECRET_ACCESS_KEY: key });
      expect(ok.code, ok.out).toBe(0);
      expect(ok.out).not.toContain(key);
      const stale = await kindling(backupArgs, {
        AWS_ACCESS_KEY_ID: 'minioadmin',
        AWS_SECRET_ACCESS_KEY: SEED,
      });
      expect(stale.code, stale.out).toBe(2);
      expect(stale.out).toMatch(/rejected the credentials \(SignatureDoesNotMatch\)/);
      expect(stale.out).not.toContain(SEED);
    }, 300_000);

    it('a crash right after setSecret (Secret applied, MinIO restarted on the pending key) resumes: the next run tests and finishes it, the previous key refused', async () => {
      const previous = secretValue('MINIO_ROOT_PASSWORD');
      const secrets = join(dir, 'rotated-minio-crash.json');
      const req = {
        catalog: join(REPO, 'manifests/stack.yaml'),
        components: 'minio',
        target: 'kube',
        endpoints: [],
        writeSecrets: secrets,
        timeout: '10s',
        readyTimeout: '120s',
        kubeconfig,
      };
      await expect(
        rotateStack(req, {
          afterStep: (step) => {
            if (step === 'setSecret') throw new Error('injected crash after setSecret');
          },
        }),
      ).rejects.toThrow(/injected crash after setSecret/);
      const state = readSecretsFile(secrets).credentials['minio/root']!;
      expect(state).toMatchObject({ step: 'setSecret', current: previous });
      const pending = state.pending!;
      expect(secretValue('MINIO_ROOT_PASSWORD')).toBe(pending);
      // in between, MinIO takes the key the file holds as pending
      expect(await login('minioadmin', pending)).toMatch(/^accepted/);
      const out: string[] = [];
      const results = await rotateStack(req, { log: (l) => out.push(l) });
      expect(
        results.map((r) => [r.outcome, r.resumed, r.steps, r.oldRejected]),
        out.join('\n'),
      ).toEqual([['rotated', true, ['testSecret', 'finishSecret'], true]]);
      expect(await login('minioadmin', previous)).toBe('SignatureDoesNotMatch');
      for (const v of [pending, previous]) expect(out.join('\n')).not.toContain(v);
    }, 300_000);
  },
);
