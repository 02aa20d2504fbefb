// `kindling plan`, `up`, `deploy` through the real CLI entry (main), with no cluster or the API stand-in.
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { KubeApiStandin } from '../standins/kube-api.ts';

const RENDERED = 'test/fixtures/k8s/rendered-minimal.yaml';
let out = '';
let err = '';
beforeEach(() => {
  out = '';
  err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
    out += String(s);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
    err += String(s);
    return true;
  });
});
afterEach(() => vi.restoreAllMocks());

describe('kindling plan (no cluster)', () => {
  it('--profile minimal: namespace first, etcd and minio before milvus', async () => {
    expect(await main(['plan', '--profile', 'minimal', '--rendered', RENDERED])).toBe(0);
    const lines = out.split('\n');
    expect(lines[0]).toBe('shared');
    expect(lines[1]).toMatch(/Namespace\/voiceassistant-infra$/);
    const idx = (re: RegExp) => lines.findIndex((l) => re.test(l));
    expect(idx(/StatefulSet\/etcd/)).toBeLessThan(idx(/StatefulSet\/milvus/));
    expect(idx(/StatefulSet\/minio/)).toBeLessThan(idx(/ServiceAccount\/milvus/));
    expect(out).toMatch(/wave 2 · milvus \(after etcd, minio\)/);
  });
  it('--profile full --json: elasticsearch in an earlier wave than jaeger', async () => {
    expect(await main(['plan', '--profile', 'full', '--rendered', RENDERED, '--json'])).toBe(0);
    const plan = JSON.parse(out) as { waves: { name: string }[][]; objects: { kind: string }[] };
    const wave = (n: string) => plan.waves.findIndex((w) => w.some((c) => c.name === n));
    expect(wave('elasticsearch')).toBeGreaterThanOrEqual(0);
    expect(wave('elasticsearch')).toBeLessThan(wave('jaeger'));
    expect(plan.objects[0]!.kind).toBe('Namespace');
  });
  it('an unknown profile is a usage error (exit 2)', async () => {
    expect(await main(['plan', '--profile', 'nope', '--rendered', RENDERED])).toBe(2);
    expect(err).toMatch(/unknown profile or component "nope"/);
  });
});

describe('kindling up without a Docker engine', () => {
  it('exits 2 within seconds saying Docker is needed (stand-in docker answering like a stopped engine)', async () => {
    const bin = mkdtempSync(join(tmpdir(), 'kindling-nodocker-'));
    writeFileSync(
      join(bin, 'docker'),
      '#!/bin/sh\necho "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?" >&2\nexit 1\n',
    );
    chmodSync(join(bin, 'docker'), 0o755);
    const path = process.env.PATH;
    process.env.PATH = `${bin}:${path}`;
    const t0 = Date.now();
    try {
      expect(await main(['up'])).toBe(2);
    } finally {
      process.env.PATH = path;
    }
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(err).toMatch(/Docker is needed/);
  });
});

describe('kindling deploy --dry-run against the API stand-in', () => {
  it('server-side dry-runs every planned object with field manager kindling and changes nothing', async () => {
    const api = await new KubeApiStandin().start();
    api.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'voiceassistant-infra' } });
    const kubeconfig = join(mkdtempSync(join(tmpdir(), 'kindling-kc-')), 'config');
    writeFileSync(kubeconfig, api.kubeconfigYaml('ci'));
    try {
      const code = await main([
        'deploy',
        '--kubeconfig',
        kubeconfig,
        '--context',
        'ci',
        '--dry-run',
        '--profile',
        'milvus',
        '--rendered',
        RENDERED,
      ]);
      expect(err).not.toMatch(/failed/);
      expect(code).toBe(0);
      const patches = api.requests.filter((r) => r.method === 'PATCH');
      const order = patches.map((p) => p.path.split('/').slice(-2).join('/'));
      expect(order[0]).toBe('namespaces/voiceassistant-infra');
      // etcd and minio are independent: applied concurrently, each in its own kind order
      expect(order.slice(1, 8).sort()).toEqual(
        [
          'services/etcd',
          'statefulsets/etcd',
          'secrets/minio-secret',
          'persistentvolumeclaims/minio-data',
          'services/minio',
          'statefulsets/minio',
          'jobs/minio-create-buckets',
        ].sort(),
      );
      const minio = order.filter((o) => o.includes('minio'));
      expect(minio).toEqual([
        'secrets/minio-secret',
        'persistentvolumeclaims/minio-data',
        'services/minio',
        'statefulsets/minio',
        'jobs/minio-create-buckets',
      ]);
      expect(order.slice(8)).toEqual([
        'serviceaccounts/milvus',
        'configmaps/milvus-config',
        'services/milvus',
        'statefulsets/milvus',
      ]);
      expect(
        patches.every((p) => p.query.get('dryRun') === 'All' && p.query.get('fieldManager') === 'kindling'),
      ).toBe(true);
      expect(api.get('apps/v1', 'StatefulSet', 'voiceassistant-infra', 'milvus')).toBeUndefined();
      expect(out).toMatch(/milvus\s+applied/);
      expect(await main(['deploy', '--kubeconfig', kubeconfig, '--context', 'nope'])).toBe(2);
      expect(err).toMatch(/--context: no context "nope" in the kubeconfig; it has ci/);
    } finally {
      await api.stop();
    }
  });
});
