/**
 * The dump-restore upgrade end to end on the simulated cluster (test/sim, a stand-in cluster; its
 * postgres image runs this machine's PostgreSQL 15 for any tag the registry holds, so "17.2" is a
 * name here, not a major): the real PostgreSQL StatefulSet deployed, then `kindling upgrade --set
 * postgres=postgres:17.2-alpine --store …` with s3rver as the store — green StatefulSet and its own
 * Services, a kindling backup of blue (pg_dump in blue's pod), the restore into green's pod, tables,
 * row counts and the roles compared, green's own checks, the Service switched, verify after the
 * switch (the metrics checks ask Prometheus, which this run does not deploy: verify skips them).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { deploy } from '../../src/app/deploy.ts';
import { fromFlag } from '../../src/app/settings.ts';
import { upgrade } from '../../src/app/upgrade.ts';
import { REPO } from '../actions-entry/run-action.ts';
import { type RunningS3, startS3 } from '../harness/services.ts';
import { SimCluster } from '../sim/cluster.ts';
import { pinnedImages } from '../sim/images.ts';
import { describeWithSim } from './sim-available.ts';

const NS = 'voiceassistant-infra';
let sim: SimCluster;
let s3: RunningS3;
let kubeconfig: string;
const lines: string[] = [];
const log = (c: string, m: string) => lines.push(`[${c}] ${m.split('\n')[0]!.slice(0, 300)}`);

describeWithSim('e2e dump-restore upgrade on the simulated cluster (stand-in cluster, s3rver store)', () => {
  beforeAll(async () => {
    [sim, s3] = await Promise.all([
      new SimCluster({ images: [...pinnedImages(REPO), 'postgres:17.2-alpine'] }).start(),
      startS3({ buckets: ['backups'] }),
    ]);
    const dir = mkdtempSync(join(tmpdir(), 'kindling-upgrade-dr-'));
    kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, sim.kubeconfigYaml());
    const out = await deploy(
      {
        catalog: fromFlag('--catalog', join(REPO, 'manifests/stack.yaml')),
        profile: fromFlag('--profile', undefined),
        components: fromFlag('--components', 'postgres'),
        sizing: fromFlag('--sizing', 'kind'),
        timeout: fromFlag('--timeout', '90s'),
        verify: fromFlag('--verify', false),
        diagnostics: fromFlag('--diagnostics', join(dir, 'diagnostics')),
        kubeconfig: fromFlag('--kubeconfig', kubeconfig),
        context: fromFlag('--context', undefined),
      },
      { log },
    );
    if (out.error) throw new Error(`deploy of postgres on the simulation failed: ${out.error.message}`);
  }, 150_000);
  afterAll(async () => {
    await Promise.all([sim?.stop(), s3?.stop()]);
  });

  it('green filled from a backup of blue, compared and verified, the Service switched, blue kept; the write window measured', async () => {
    const t0 = Date.now();
    const out = await upgrade(
      {
        catalog: fromFlag('--catalog', join(REPO, 'manifests/stack.yaml')),
        manifests: fromFlag('--manifests', undefined),
        sets: fromFlag('--set', ['postgres=postgres:17.2-alpine']),
        finish: fromFlag('--finish', []),
        sizing: fromFlag('--sizing', 'kind'),
        timeout: fromFlag('--timeout', '90s'),
        verifyTimeout: fromFlag('--verify-timeout', '5s'),
        keepBlue: fromFlag('--keep-blue', undefined),
        dryRun: fromFlag('--dry-run', false),
        kubeconfig: fromFlag('--kubeconfig', kubeconfig),
        context: fromFlag('--context', undefined),
        store: fromFlag('--store', 's3://backups/upgrade'),
        s3Endpoint: fromFlag('--s3-endpoint', s3.endpoint),
        accessKeyId: fromFlag('--access-key-id', s3.accessKeyId),
        secretAccessKey: fromFlag('--secret-access-key', s3.secretAccessKey),
      },
      { log },
    );
    const ms = Date.now() - t0;
    const u = out.components[0]!;
    console.log(
      `[upgrade e2e] postgres ${u.state} in ${(ms / 1000).toFixed(1)} s (window ${u.windowMs} ms): ${[...u.reasons, ...u.notes].join(' | ').slice(0, 600)}`,
    );
    expect(u.strategy).toBe('dump-restore');
    expect(u.state, `${JSON.stringify(u.reasons)}\n${lines.join('\n')}`).toBe('switched');
    // green's own checks (through postgres-green and in postgres-green-0), then all after the switch
    expect(u.verify!.results.map((r) => [r.check, r.status])).toEqual([
      ['version', 'pass'],
      ['seed-databases', 'pass'],
      ['seed-psql', 'pass'],
    ]);
    expect(u.after!.ok).toBe(true);
    expect(u.timeToReadyMs).toBeGreaterThan(0);
    expect(u.windowMs).toBeGreaterThan(0);
    expect(u.notes[0]).toMatch(/^write window \d+\.\ds \(.+\): writes to blue in it are not in green$/);
    const green = sim.api.get('apps/v1', 'StatefulSet', NS, 'postgres-green')!;
    expect(green.spec.template.spec.containers[0].image).toBe('postgres:17.2-alpine');
    expect(sim.api.get('v1', 'Service', NS, 'postgres')!.spec.selector).toEqual({
      'app.kubernetes.io/name': 'postgres',
      'kindling.dev/slot': 'green',
    });
    // blue is kept, untouched
    expect(
      sim.api.get('apps/v1', 'StatefulSet', NS, 'postgres')!.spec.template.spec.containers[0].image,
    ).not.toBe('postgres:17.2-alpine');
    expect(lines.join('\n')).toContain('switched Service/postgres to green');
    expect(ms).toBeLessThan(120_000);
  }, 180_000);
});
