// Which use cases run the manifests cross-check (src/app/catalog.ts, loadCatalog's comment): plan
// and deploy apply this checkout's manifests and refuse what validate refuses; verify and backup act
// on what is running, so a checkout whose manifests are broken (here: absent) does not stop them,
// while a bad check or backup parameter still does, before anything is reached — except that a
// backup, which runs no check, is not stopped by a bad check (src/app/backup-catalog.ts).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  describeWithServices,
  type RunningRedis,
  type RunningS3,
  startRedis,
  startS3,
} from '../harness/services.ts';
import { kindling } from './backup-helpers.ts';

// One component whose manifest is not in the checkout (its kustomization holds another object):
// validate reports it as an error, as for manifests that moved on since the cluster was deployed.
const CATALOG = `apiVersion: kindling.dev/v1alpha1
kind: Stack
namespace: scope-test
render:
  base: base
  overlays: { kind: overlays/kind }
profiles:
  minimal: [cache]
components:
  cache:
    group: core
    manifests: [base/cache.yaml]
    workloads: [{ kind: StatefulSet, name: cache }]
    services: [{ name: cache, ports: [6379] }]
    endpoints:
      - { name: redis, scheme: redis, service: cache, port: 6379 }
    checks:
      - { name: ping, type: redis, command: [PING], expect: { equals: PONG } }
    backups:
      - { name: rdb, type: redis, pod: cache-0, dataDir: /data }
`;

describeWithServices(
  'verify and backup skip the manifests cross-check, plan does not (real Redis 7, s3rver)',
  ['redis', 's3'],
  () => {
    let redis: RunningRedis;
    let s3: RunningS3;
    let dir: string;
    let catalog: string;
    beforeAll(async () => {
      [redis, s3] = await Promise.all([startRedis(), startS3({ buckets: ['backups'] })]);
      dir = mkdtempSync(join(tmpdir(), 'kindling-scope-'));
      catalog = join(dir, 'stack.yaml');
      writeFileSync(catalog, CATALOG);
      mkdirSync(join(dir, 'base'));
      mkdirSync(join(dir, 'overlays/kind'), { recursive: true });
      writeFileSync(join(dir, 'base/kustomization.yaml'), 'resources: [other.yaml]\n');
      writeFileSync(
        join(dir, 'base/other.yaml'),
        'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: other, namespace: scope-test }\ndata: { a: b }\n',
      );
      writeFileSync(join(dir, 'overlays/kind/kustomization.yaml'), 'resources: [../../base]\n');
    }, 60_000);
    afterAll(async () => {
      await Promise.all([redis?.stop(), s3?.stop()]);
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('plan refuses the checkout (exit 2, the missing manifest named)', async () => {
      const r = await kindling(['plan', '--catalog', catalog]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain('as `kindling validate` reports them');
      expect(r.stderr).toContain('base/cache.yaml');
    });

    it('verify checks the running server (exit 0)', async () => {
      const r = await kindling([
        'verify',
        '--catalog',
        catalog,
        '--target',
        'local',
        '--endpoint',
        `cache=${redis.url}`,
        '--json',
        join(dir, 'verify.json'),
      ]);
      expect(r.code, r.stderr).toBe(0);
      const report = JSON.parse(readFileSync(join(dir, 'verify.json'), 'utf8'));
      expect(report.results.map((x: { check: string; status: string }) => `${x.check}:${x.status}`)).toEqual([
        'ping:pass',
      ]);
    });

    it('backup backs up the running server (exit 0)', async () => {
      const r = await kindling(
        [
          'backup',
          '--catalog',
          catalog,
          '--target',
          'local',
          '--endpoint',
          `cache=${redis.url}`,
          '--store',
          's3://backups/scope',
          '--s3-endpoint',
          s3.endpoint,
          '--json',
        ],
        {},
        s3,
      );
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).components.map((c: { component: string }) => c.component)).toEqual([
        'cache',
      ]);
    });

    it('a bad check parameter still stops verify before any server is asked (exit 2, file:line)', async () => {
      const bad = join(dir, 'bad.yaml');
      writeFileSync(bad, CATALOG.replace('expect: { equals: PONG }', 'expect: { equalz: PONG }'));
      const r = await kindling([
        'verify',
        '--catalog',
        bad,
        '--target',
        'local',
        '--endpoint',
        'cache=redis://127.0.0.1:1',
      ]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/bad\.yaml:\d+/);
      expect(r.stderr).toContain('equalz');
    });

    it('a bad check parameter does not stop backup, which runs no check (exit 0); a bad backup parameter does (exit 2, file:line)', async () => {
      const badCheck = join(dir, 'bad-check.yaml');
      writeFileSync(badCheck, CATALOG.replace('expect: { equals: PONG }', 'expect: { equalz: PONG }'));
      const args = (file: string, prefix: string) => [
        'backup',
        '--catalog',
        file,
        '--target',
        'local',
        '--endpoint',
        `cache=${redis.url}`,
        '--store',
        `s3://backups/${prefix}`,
        '--s3-endpoint',
        s3.endpoint,
      ];
      const ok = await kindling(args(badCheck, 'scope-bad-check'), {}, s3);
      expect(ok.code, ok.stderr).toBe(0);
      const badBackup = join(dir, 'bad-backup.yaml');
      writeFileSync(badBackup, CATALOG.replace('dataDir: /data', 'dataDir: /data, dataDirr: /x'));
      const refused = await kindling(args(badBackup, 'scope-bad-backup'), {}, s3);
      expect(refused.code, refused.stderr).toBe(2);
      expect(refused.stderr).toMatch(/bad-backup\.yaml:\d+/);
      expect(refused.stderr).toContain('dataDirr');
    });
  },
);
