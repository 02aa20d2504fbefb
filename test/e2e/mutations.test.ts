/**
 * Mutation tests of the e2e deploy on the simulated cluster (test/sim, a stand-in cluster): each
 * breaks the real manifests in one way a PR could, runs the deploy action exactly as the pipeline
 * does, and checks that it fails fast with the kubelet's or controller's own reason in the result
 * and in the diagnostics directory.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { type PipelineOptions, type PipelineResult, runPipeline } from './pipeline.ts';
import { describeWithSim } from './sim-available.ts';

const results: PipelineResult[] = [];
afterAll(() => {
  for (const r of results) r.cleanup();
});

function edit(dir: string, file: string, from: string | RegExp, to: string): void {
  const path = join(dir, file);
  const text = readFileSync(path, 'utf8');
  const next = text.replace(from, to);
  if (next === text) throw new Error(`mutation did not apply to ${file}: ${from}`);
  writeFileSync(path, next);
}

/** Every file under the diagnostics directory, concatenated (what a user downloads). */
function diagnostics(r: PipelineResult): string {
  const out: string[] = [];
  const walk = (d: string) => {
    if (!existsSync(d)) return;
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(readFileSync(p, 'utf8'));
    }
  };
  walk(r.diagnosticsDir);
  // the deploy action's own directory (its `diagnostics-dir` output, under RUNNER_TEMP)
  const deployDir = r.deploy?.outputs['diagnostics-dir'];
  if (deployDir && !deployDir.startsWith(r.diagnosticsDir)) walk(deployDir);
  return out.join('\n');
}

async function deploy(opts: PipelineOptions): Promise<PipelineResult> {
  const r = await runPipeline({ skipValidate: true, deployOnly: true, ...opts });
  results.push(r);
  console.log(
    `[mutation] deploy exit ${r.deploy?.code} after ${secs(r).toFixed(1)} s: ${errors(r).split('\n').at(-1)}`,
  );
  return r;
}

const errors = (r: PipelineResult) =>
  r.deploy?.stdout
    .split('\n')
    .filter((l) => l.startsWith('::error'))
    .join('\n') ?? '';
const secs = (r: PipelineResult) => (r.deploy?.ms ?? 0) / 1000;
/** Seconds into the deploy step when its output first matched `re` (the verdict, not the exit). */
const firstSaid = (r: PipelineResult, re: RegExp): number => {
  let text = '';
  for (const c of r.deploy?.timeline ?? []) {
    text += c.text;
    if (re.test(text)) return c.ms / 1000;
  }
  return Number.POSITIVE_INFINITY;
};

describeWithSim(
  'e2e deploy mutations on the simulated cluster (stand-in cluster, real deploy action)',
  () => {
    it('an unknown image tag fails at once with ErrImagePull/ImagePullBackOff naming the registry\'s "not found" (kubelet images/image_manager.go)', async () => {
      const r = await deploy({
        components: 'redis',
        mutate: (d) =>
          edit(d, 'base/kustomization.yaml', /(- name: redis\n\s+newTag: )7\.4\.1-alpine/, '$17.4.99-alpine'),
      });
      expect(r.deploy?.code).toBe(1);
      expect(errors(r)).toMatch(/redis.*(ErrImagePull|ImagePullBackOff)/);
      expect(errors(r)).toMatch(/docker\.io\/library\/redis:7\.4\.99-alpine: not found/);
      // fail fast: the verdict is out within seconds of the pull error, not at the 150 s deadline
      expect(firstSaid(r, /redis: .*(ErrImagePull|ImagePullBackOff)/)).toBeLessThan(20);
      expect(secs(r)).toBeLessThan(30);
      expect(diagnostics(r)).toMatch(/Failed to pull image "redis:7\.4\.99-alpine"/);
    }, 120_000);

    it("a misspelled ConfigMap key is refused before anything is applied, naming file:line and the key (validate's reference rule; the kubelet's CreateContainerConfigError for it is in test/sim/kubelet.test.ts)", async () => {
      const r = await deploy({
        components: 'minio',
        mutate: (d) =>
          edit(
            d,
            'base/minio-standalone.yaml',
            'configMapKeyRef: { name: minio-buckets, key: BUCKETS }',
            'configMapKeyRef: { name: minio-buckets, key: BUCKETZ }',
          ),
      });
      expect(r.deploy?.code).toBe(1);
      expect(errors(r)).toMatch(/nothing was planned or applied/);
      expect(errors(r)).toMatch(
        /minio-standalone\.yaml:\d+: error: .*"BUCKETZ" of ConfigMap minio-buckets, which has no such key \[missing-reference\]/,
      );
    }, 120_000);

    it("a Secret moved to a later component is refused before anything is applied, naming the ownership rule and file:line (issue #11 item 1; the kubelet's CreateContainerConfigError for it is in test/sim/kubelet.test.ts)", async () => {
      const r = await deploy({
        components: 'postgres,milvus',
        mutate: (d) => {
          const pg = readFileSync(join(d, 'base/postgres.yaml'), 'utf8');
          const docs = pg.split(/^---$/m);
          const i = docs.findIndex((doc) => /kind: Secret/.test(doc) && /name: postgres-secret/.test(doc));
          if (i < 0) throw new Error('no Secret/postgres-secret in base/postgres.yaml');
          const [secret] = docs.splice(i, 1);
          writeFileSync(join(d, 'base/postgres.yaml'), docs.join('---'));
          const milvus = readFileSync(join(d, 'base/milvus.yaml'), 'utf8').trimEnd();
          const moved = secret!
            .trim()
            .replace('app.kubernetes.io/name: postgres', 'app.kubernetes.io/name: milvus');
          writeFileSync(join(d, 'base/milvus.yaml'), `${milvus}\n---\n${moved}\n`);
        },
      });
      expect(r.deploy?.code).toBe(1);
      expect(errors(r)).toMatch(/nothing was planned or applied/);
      expect(errors(r)).toMatch(
        /postgres\.yaml:\d+: error: StatefulSet postgres .*uses Secret postgres-secret, which belongs to component milvus.*\[ownership\]/,
      );
    }, 120_000);

    it('a failing readiness probe fails at the deadline, the kubelet\'s "Readiness probe failed: HTTP probe failed with statuscode: 404" in the diagnostics (pkg/probe/http)', async () => {
      const r = await deploy({
        components: 'etcd',
        timeout: '25s',
        mutate: (d) =>
          edit(
            d,
            'base/milvus.yaml',
            'httpGet: { path: /health, port: client }\n            periodSeconds: 10',
            'httpGet: { path: /not-health, port: client }\n            periodSeconds: 10',
          ),
      });
      expect(r.deploy?.code).toBe(1);
      expect(errors(r)).toMatch(/etcd/);
      expect(diagnostics(r)).toMatch(/Readiness probe failed: HTTP probe failed with statuscode: 404/);
      expect(secs(r)).toBeLessThan(60);
    }, 120_000);

    it("a Job that keeps failing fails with the Job controller's BackoffLimitExceeded (job_controller.go), not at its first restart", async () => {
      const r = await deploy({
        components: 'minio',
        mutate: (d) =>
          edit(
            d,
            'base/minio-standalone.yaml',
            /set -eu\n/,
            'set -eu\n    echo "simulated failure" >&2; exit 3\n',
          ),
      });
      expect(r.deploy?.code).toBe(1);
      expect(errors(r)).toMatch(/minio/);
      expect(`${errors(r)}\n${diagnostics(r)}`).toMatch(/BackoffLimitExceeded|backoff limit/);
      expect(secs(r)).toBeLessThan(90);
    }, 150_000);
  },
);
