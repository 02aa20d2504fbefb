/**
 * The PR pipeline end to end (pr-validation.yml → reusable-validate-deploy.yml) on the simulated
 * cluster (test/sim, a stand-in cluster whose pods are real PostgreSQL, Redis, MariaDB, etcd and
 * s3rver processes and stand-in Nacos/Milvus/MinIO servers), through the action entries as the
 * runner starts them. `npm run e2e` runs the same pipeline and prints its summary.
 *
 * The drill restores into a scratch PostgreSQL with its own password (`drill`): this run found that
 * replaying the globals used to replace it with the cluster's (now kept: src/backup/sources/pg-globals.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type PipelineResult, runPipeline } from './pipeline.ts';
import { describeWithSim } from './sim-available.ts';
import { summarize } from './summary.ts';

const MINIMAL = ['postgres', 'redis', 'nacos-mysql', 'etcd', 'minio', 'nacos', 'milvus'];

describeWithSim(
  'PR pipeline on the simulated cluster: minimal profile (stand-in cluster, real action entries)',
  () => {
    let r: PipelineResult;
    beforeAll(async () => {
      const t0 = Date.now();
      r = await runPipeline({ verifyTimeout: '20s', continueAfterVerify: true });
      console.log(`${summarize(r)}\ntotal ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }, 240_000);
    afterAll(() => r?.cleanup());

    const step = (name: string) => r.steps.find((s) => s.name === name);

    it('validate passes on the real manifests', () => {
      expect(step('validate')?.ok).toBe(true);
    });

    it('deploy brings the minimal profile (with minio) up: every component ready, time-to-ready reported', () => {
      expect(r.deploy?.code).toBe(0);
      expect([...r.components].sort()).toEqual([...MINIMAL].sort());
      const ttr = JSON.parse(r.deploy?.outputs['time-to-ready'] ?? '{}');
      expect(Object.keys(ttr).sort()).toEqual([...MINIMAL].sort());
    });

    it('verify passes; the metrics checks are skipped, naming the Prometheus the minimal profile does not deploy', () => {
      expect(r.verify?.code).toBe(0);
      const report = JSON.parse(readFileSync(join(r.diagnosticsDir, 'verify.json'), 'utf8'));
      const notPassed: { check: string; status: string; message: string }[] = report.results.filter(
        (x: { status: string }) => x.status !== 'pass',
      );
      expect(report.passed).toBeGreaterThanOrEqual(18);
      expect(report.failed).toBe(0);
      expect(notPassed.length).toBeGreaterThan(0);
      for (const x of notPassed)
        expect(`${x.status} ${x.check}: ${x.message}`).toMatch(/^skip metric-[a-z-]+: .*prometheus/);
    });

    it('the NetworkPolicy step: the catalog edge network-probes.ts names connects, the unlabelled pod is refused after nc -w 3; printed in the summary', () => {
      const netpol = step('netpol');
      expect(netpol?.ok, netpol?.detail).toBe(true);
      const [, allowedMs, deniedMs] =
        /^nacos -> nacos-mysql:3306 connected \(nc exit 0, (\d+) ms\); \(unlabelled pod\) -> nacos-mysql:3306 refused \(nc exit 1, (\d+) ms\)$/.exec(
          netpol!.detail,
        ) ?? [];
      expect(Number(allowedMs), netpol!.detail).toBeGreaterThan(0);
      expect(Number(deniedMs)).toBeGreaterThanOrEqual(3000); // dropped, not reset: nc waited its 3 s
      expect(summarize(r)).toMatch(/✓ netpol .* s {2}nacos -> nacos-mysql:3306 connected/);
    });

    it('backup into the in-cluster MinIO writes every component of the selection', () => {
      expect(r.backup?.code).toBe(0);
      expect(r.backup?.outputs['backup-id']).toMatch(/^\d{8}T\d{6}Z-/);
      const bytes = JSON.parse(r.backup?.outputs.bytes ?? '{}');
      expect(Object.keys(bytes).sort()).toEqual([
        'etcd',
        'milvus',
        'minio',
        'nacos-mysql',
        'postgres',
        'redis',
      ]);
    });

    it('drill: every artifact re-hashed, and the PostgreSQL restore into the scratch server passes (its own password survives the globals)', () => {
      const said = `${r.drill?.stdout}\n${r.drill?.stderr}`;
      const [, matched, total] = /(\d+)\/(\d+) artifact\(s\) match the manifest/.exec(said) ?? [];
      expect(Number(total)).toBeGreaterThanOrEqual(11);
      expect(matched).toBe(total);
      expect(said).not.toMatch(/password authentication failed/);
      expect(r.drill?.code, said).toBe(0);
      // the printed summary quotes the drill's own count (it once counted output lines: "1 artifacts")
      expect(summarize(r)).toContain(`, ${total} artifacts re-hashed`);
    });

    it('runs within the budget (3 minutes on 2 cores)', () => {
      const total = r.steps.reduce((n, s) => n + s.ms, 0);
      expect(total).toBeLessThan(180_000);
    });
  },
);

describeWithSim(
  'PR pipeline on the simulated cluster: a selection from changed files (stand-in cluster)',
  () => {
    let r: PipelineResult;
    beforeAll(async () => {
      r = await runPipeline({ changedFiles: ['manifests/base/redis.yaml'], verifyTimeout: '20s' });
      console.log(summarize(r));
    }, 180_000);
    afterAll(() => r?.cleanup());

    it('changed-components.ts maps manifests/base/redis.yaml to redis (+ minio for the pipeline), and deploy brings exactly those up', () => {
      expect(r.steps.find((s) => s.name === 'select')?.detail).toMatch(/components=redis,minio/);
      expect(r.deploy?.code).toBe(0);
      expect([...r.components].sort()).toEqual(['minio', 'redis']);
    });

    it('the whole pipeline passes for that selection: verify, backup into the in-cluster MinIO, every artifact re-hashed', () => {
      expect(r.steps.map((s) => `${s.name}:${s.ok}`)).toEqual([
        'select:true',
        'validate:true',
        'deploy:true',
        'verify:true',
        'netpol:true',
        'minio:true',
        'backup:true',
        'drill:true',
      ]);
      expect(Object.keys(JSON.parse(r.backup?.outputs.bytes ?? '{}')).sort()).toEqual(['minio', 'redis']);
      expect(r.ok).toBe(true);
    });
  },
);
