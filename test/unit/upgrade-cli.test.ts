// `kindling upgrade` as a user runs it: the plan printed before anything is applied, --dry-run
// stopping there, usage errors with exit 2, against the API stand-in (test/standins/kube-api.ts)
// through the real kubeconfig/client path; and the summary section (pure).
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KubeClient } from '../../src/kube/client.ts';
import { renderChecked } from '../../src/manifests/validate.ts';
import type { VerifyReport } from '../../src/report/results.ts';
import { upgradeSummary, upgradeTable } from '../../src/report/upgrade-summary.ts';
import type { ComponentUpgrade } from '../../src/upgrade/outcome.ts';
import { runCli } from '../harness/cli.ts';
import { KubeApiStandin } from '../standins/kube-api.ts';

const NS = 'voiceassistant-infra';
let api: KubeApiStandin | undefined;
afterEach(async () => {
  await api?.stop();
  api = undefined;
});

async function cluster(): Promise<string> {
  api = await new KubeApiStandin().start();
  api.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  const client = new KubeClient(api.kubeConfig());
  for (const o of await renderChecked('manifests/stack.yaml', 'kind'))
    if (['Deployment', 'StatefulSet'].includes(o.kind) && ['grafana', 'postgres'].includes(o.metadata.name))
      await client.apply(o);
  const dir = mkdtempSync(join(tmpdir(), 'kindling-upgrade-cli-'));
  const file = join(dir, 'kubeconfig');
  writeFileSync(file, api.kubeconfigYaml());
  return file;
}

describe('kindling upgrade (CLI)', () => {
  it('--dry-run prints the plan per workload (old → new) and changes nothing; the summary says dry run', async () => {
    const kubeconfig = await cluster();
    const before = api!.get('apps/v1', 'Deployment', NS, 'grafana')!.metadata.resourceVersion;
    const summary = join(mkdtempSync(join(tmpdir(), 'kindling-sum-')), 'summary.md');
    const r = await runCli([
      'upgrade',
      '--set',
      'grafana=grafana/grafana:11.4.0',
      '--set',
      'postgres=postgres:17.2-alpine',
      '--dry-run',
      '--kubeconfig',
      kubeconfig,
      '--summary',
      summary,
    ]);
    expect(r.err).not.toMatch(/at .*\.ts:\d+/); // no stack trace
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('postgres (dump-restore):\n  StatefulSet/postgres\n    postgres: postgres:');
    expect(r.out).toMatch(
      /grafana \(blue-green\):\n {2}Deployment\/grafana\n {4}grafana: grafana\/grafana:[\d.]+ → grafana\/grafana:11\.4\.0/,
    );
    expect(api!.get('apps/v1', 'Deployment', NS, 'grafana')!.metadata.resourceVersion).toBe(before);
    expect(api!.get('apps/v1', 'Deployment', NS, 'grafana-green')).toBeUndefined();
    expect(readFileSync(summary, 'utf8')).toContain('## kindling upgrade (dry run: the plan only)');
  });

  it('dump-restore without --store: exit 2 naming --store, before anything is applied', async () => {
    const kubeconfig = await cluster();
    const r = await runCli(['upgrade', '--set', 'postgres=postgres:17.2-alpine', '--kubeconfig', kubeconfig]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('--store: postgres upgrade by dump-restore: a backup store is required');
    expect(api!.get('apps/v1', 'StatefulSet', NS, 'postgres-green')).toBeUndefined();
  });

  it('a catalog whose upgrade.compare check is invalid, or a zero --keep-blue: exit 2 before any cluster is asked', async () => {
    const tree = mkdtempSync(join(tmpdir(), 'kindling-upgrade-tree-'));
    cpSync('manifests', tree, { recursive: true });
    const file = join(tree, 'stack.yaml');
    const text = readFileSync(file, 'utf8');
    const broken = text.replace(/(- name: roles\n\s+type: sql\n)\s+query: .*\n/, '$1');
    expect(broken).not.toBe(text);
    writeFileSync(file, broken);
    const r = await runCli([
      'upgrade',
      '--manifests',
      tree,
      '--dry-run',
      '--kubeconfig',
      '/nonexistent/kubeconfig',
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${file}: postgres: upgrade.compare roles: query:`);
    const k = await runCli(['upgrade', '--set', 'grafana=grafana/grafana:11.4.0', '--keep-blue', '0s']);
    expect(k.code).toBe(2);
    expect(k.err).toContain('--keep-blue: must be longer than 0');
  });

  it('usage errors exit 2 naming the flag; an unreachable API server fails once, naming it', async () => {
    const bad = await runCli(['upgrade', '--set', 'grafana/nope=grafana/grafana:11.4.0', '--dry-run']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain(
      '--set: "grafana/nope=grafana/grafana:11.4.0": grafana has no container "nope"',
    );
    const dir = mkdtempSync(join(tmpdir(), 'kindling-upgrade-cli-'));
    const m = await runCli(['upgrade', '--manifests', dir, '--dry-run']);
    expect(m.code).toBe(2);
    expect(m.err).toContain(`--manifests: ${dir} holds no stack.yaml`);
    const kubeconfig = await cluster();
    await api!.stop();
    const t0 = Date.now();
    const down = await runCli([
      'upgrade',
      '--set',
      'grafana=grafana/grafana:11.4.0',
      '--dry-run',
      '--kubeconfig',
      kubeconfig,
    ]);
    expect(down.code).toBe(1);
    expect(down.err).toMatch(
      /cannot reach the Kubernetes API server at https?:\/\/127\.0\.0\.1:\d+.*ECONNREFUSED/,
    );
    expect(Date.now() - t0).toBeLessThan(15_000);
  }, 30_000);
});

const report = (ok: boolean): VerifyReport => ({
  target: 'kube',
  startedAt: '',
  durationMs: 1,
  results: [],
  components: [],
  passed: ok ? 3 : 2,
  failed: ok ? 0 : 1,
  skipped: 0,
  ok,
});

describe('upgrade summary (pure)', () => {
  const rolledBack: ComponentUpgrade = {
    component: 'redis',
    strategy: 'rolling',
    images: [
      {
        workload: 'StatefulSet/redis',
        container: 'redis',
        from: 'redis:7.4.1-alpine',
        to: 'redis:7.4.2-alpine',
      },
    ],
    state: 'rolled-back',
    timeToReadyMs: 12_300,
    verify: report(false),
    after: report(true),
    reasons: ['verify failed', 'redis/ping: wrong | value'],
    remaining: [],
    notes: ['StatefulSet/redis rolled back to the template of ControllerRevision/redis-abc (revision 1)'],
  };
  it('old → new per component with time-to-ready and both verify results; details escaped', () => {
    const md = upgradeSummary([], [rolledBack]);
    expect(md).toContain(
      '| ↩️ | redis | rolling | redis: redis:7.4.1-alpine → redis:7.4.2-alpine | rolled-back | 12.3s | fail (2 passed, 1 failed) | pass (3 passed, 0 failed) |',
    );
    expect(md).toContain('- redis/ping: wrong \\| value');
    expect(upgradeTable([rolledBack])).toContain(
      'redis: StatefulSet/redis rolled back to the template of ControllerRevision/redis-abc (revision 1)',
    );
  });
});
