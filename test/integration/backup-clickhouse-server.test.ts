/**
 * `type: clickhouse-server-backup` — ClickHouse's own BACKUP … TO S3. The pinned 24.8 cannot run
 * here: its behaviour is shown against test/standins/clickhouse-24.ts ("stand-in for ClickHouse
 * 24.8" in every such test name), which writes real objects into a real s3rver, so kindling's
 * listing, hashing and re-hashing of them are real. The version gate runs on the REAL
 * clickhouse-server 18.16 installed here (no BACKUP statement).
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup, selectBackups } from '../../src/app/backup.ts';
import { loadManifest } from '../../src/backup/inventory.ts';
import { runRestore } from '../../src/backup/restore.ts';
import { loadStack } from '../../src/catalog/load.ts';
import { S3Store, s3Settings } from '../../src/store/s3.ts';
import { parseStoreUrl } from '../../src/store/url.ts';
import { kubeTarget } from '../../src/targets/kube.ts';
import {
  describeWithServices,
  type RunningClickHouse,
  type RunningS3,
  startClickHouse,
  startS3,
  tempDir,
} from '../harness/services.ts';
import { ClickHouse24Standin } from '../standins/clickhouse-24.ts';
import { LocalCluster } from '../standins/cluster-local.ts';
import { kindling, listKeys, readObject, s3Client } from './backup-helpers.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
/** The MinIO secret the ClickHouse server gets (s3rver checks only the key id, so any secret works). */
const CH_SECRET = 'minio-Sekret-7f3a91';

/** manifests/stack.yaml with clickhouse's backup switched to the server's own (as its comment says). */
function nativeCatalog(extra = ''): string {
  const text = readFileSync(join(ROOT, 'manifests/stack.yaml'), 'utf8');
  const old = '      - name: tables\n        type: clickhouse\n        databases: all\n';
  if (!text.includes(old)) throw new Error('catalog fixture: the clickhouse backup entry moved');
  const file = join(tempDir('ch-native-catalog'), 'stack.yaml');
  writeFileSync(
    file,
    text.replace(
      old,
      `      - name: native\n        type: clickhouse-server-backup\n        databases: [analytics]\n        s3: backup-s3\n${extra}`,
    ),
  );
  return file;
}

function seed(ch: ClickHouse24Standin): void {
  ch.addTable('analytics', 'events', {
    engine: 'MergeTree',
    columns: [
      { name: 'day', type: 'Date' },
      { name: 'user', type: 'String' },
      { name: 'score', type: 'Nullable(Float64)' },
    ],
    rows: Array.from({ length: 300 }, (_, i) => [
      `2026-01-${String((i % 28) + 1).padStart(2, '0')}`,
      i % 7 === 0 ? 'tab\there 🐉' : `user-${i % 13}`,
      i % 3 === 0 ? '\\N' : String(i / 7),
    ]),
  });
  ch.addTable('analytics', 'empty', {
    engine: 'MergeTree',
    columns: [{ name: 'id', type: 'UInt64' }],
    rows: [],
  });
  ch.addTable('other', 'kept', {
    engine: 'MergeTree',
    columns: [{ name: 'id', type: 'UInt64' }],
    rows: [['1']],
  });
}

describeWithServices(
  'clickhouse-server-backup against the stand-in for ClickHouse 24.8 (real s3rver)',
  ['s3'],
  () => {
    let s3: RunningS3;
    let other: RunningS3;
    const servers: ClickHouse24Standin[] = [];
    const standin = async () => {
      const ch = await new ClickHouse24Standin().start();
      servers.push(ch);
      return ch;
    };
    let src: ClickHouse24Standin;
    let catalog: string;
    const env = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'store-Sekret-55aa' };
    const s3For = (ep: string, key = 'S3RVER') =>
      `clickhouse.backup-s3=http://${key}:${CH_SECRET}@${new URL(ep).host}`;
    const store = (file = catalog) => [
      '--store',
      's3://backups/chs',
      '--s3-endpoint',
      s3.endpoint,
      '--catalog',
      file,
    ];
    const backupArgs = (ch: ClickHouse24Standin, s3Endpoint = s3For(s3.endpoint), file = catalog) => [
      'backup',
      '--target',
      'local',
      '--endpoint',
      `clickhouse=${ch.url}`,
      '--endpoint',
      s3Endpoint,
      ...store(file),
      '--json',
    ];
    const noSecrets = (r: { stdout: string; stderr: string }) => {
      expect(r.stdout + r.stderr).not.toContain(CH_SECRET);
      expect(r.stdout + r.stderr).not.toContain(env.AWS_SECRET_ACCESS_KEY);
    };
    let id = '';

    beforeAll(async () => {
      [s3, other] = await Promise.all([startS3({ buckets: ['backups'] }), startS3({ buckets: ['backups'] })]);
      src = await standin();
      seed(src);
      catalog = nativeCatalog();
    }, 60_000);
    afterAll(async () => {
      await Promise.all([s3?.stop(), other?.stop(), ...servers.map((s) => s.stop())]);
    });

    it('stand-in for ClickHouse 24.8: BACKUP … ASYNC is polled to BACKUP_CREATED; every object the server wrote is in the manifest with its sha256; the secret is nowhere in the output', async () => {
      const r = await kindling(backupArgs(src), env);
      expect(r.code, r.stderr).toBe(0);
      noSecrets(r);
      id = JSON.parse(r.stdout).id;
      const client = s3Client(s3.endpoint);
      const manifest = JSON.parse(
        (await readObject(client, 'backups', `chs/${id}/manifest.json`)).toString(),
      );
      const rec = manifest.components.find((c: { component: string }) => c.component === 'clickhouse');
      expect(rec.type).toBe('clickhouse-server-backup');
      expect(rec.serverVersion).toBe('24.8.4.13');
      const prefix = `chs/${id}/clickhouse/native`;
      expect(rec.meta.s3Prefix).toBe(prefix);
      expect(rec.meta.databases).toEqual(['analytics']);
      expect(rec.meta.numFiles).toBeGreaterThan(0);
      // what the server wrote, listed independently of kindling, equals the manifest's file artifacts
      const written = (await listKeys(client, 'backups', `${prefix}/`)).sort();
      expect(written).toContain(`${prefix}/.backup`);
      const files = rec.artifacts.filter((a: { format: string }) => a.format === 'clickhouse-backup-file');
      expect(files.map((a: { key: string }) => a.key).sort()).toEqual(written);
      for (const a of files) {
        const body = await readObject(client, 'backups', a.key);
        expect(a.sha256).toBe(createHash('sha256').update(body).digest('hex'));
        expect(a.bytes).toBe(body.length);
      }
      expect(rec.meta.objects).toBe(written.length);
      // the statement: databases named, the in-store prefix, ASYNC; sent in the POST body, secret only there
      const backup = src.statements.find((s) => s.startsWith('BACKUP '))!;
      expect(backup).toBe(
        `BACKUP DATABASE \`analytics\` TO S3('http://${new URL(s3.endpoint).host}/backups/${prefix}', 'S3RVER', '${CH_SECRET}') ASYNC`,
      );
      // ClickHouse's own record hides the secret (BackupInfo::toStringForLogging)
      const op = [...src.operations.values()].find((o) => o.status === 'BACKUP_CREATED')!;
      expect(op.name).toContain("'[HIDDEN]'");
      expect(op.name).not.toContain(CH_SECRET);
    }, 60_000);

    it('stand-in for ClickHouse 24.8: backups verify re-hashes the server-written objects, and a missing one fails it naming the key', async () => {
      const ok = await kindling(['backups', 'verify', id, ...store()], env);
      expect(ok.code, ok.stderr + ok.stdout).toBe(0);
      // a copy of the backup whose data file is gone: verify must notice
      const r = await kindling(backupArgs(src), env);
      expect(r.code, r.stderr).toBe(0);
      const id2 = JSON.parse(r.stdout).id;
      const client = s3Client(s3.endpoint);
      const data = (await listKeys(client, 'backups', `chs/${id2}/clickhouse/native/data/`))[0]!;
      const st = new S3Store(
        s3Settings({ endpoint: s3.endpoint, accessKeyId: 'S3RVER', secretAccessKey: 'x' }),
      );
      await st.deleteKeys('backups', [data]);
      const bad = await kindling(['backups', 'verify', id2, ...store()], env);
      expect(bad.code).toBe(1);
      expect(bad.stdout + bad.stderr).toContain(data);
    }, 60_000);

    it('stand-in for ClickHouse 24.8: the drill restores into kindling_drill_analytics (RESTORE … AS) and compares rows and checksums per table; a changed row shows', async () => {
      const drill = async (scratch: ClickHouse24Standin) =>
        kindling(
          [
            'backups',
            'verify',
            id,
            '--drill',
            '--target',
            'local',
            '--endpoint',
            `clickhouse=${src.url}`,
            '--scratch',
            `clickhouse=${scratch.url}`,
            '--scratch',
            s3For(s3.endpoint),
            ...store(),
          ],
          env,
        );
      const scratch = await standin();
      const ok = await drill(scratch);
      expect(ok.code, ok.stderr + ok.stdout).toBe(0);
      noSecrets(ok);
      // 2 tables exist + 2 data tables × (rows, checksum)
      expect(ok.stdout).toMatch(/✓ clickhouse: 6 fact\(s\) compared, 0 difference\(s\)/);
      expect([...scratch.databases.keys()]).toEqual(['kindling_drill_analytics']);
      expect(scratch.statements.find((s) => s.startsWith('RESTORE '))).toMatch(
        /^RESTORE DATABASE `analytics` AS `kindling_drill_analytics` FROM S3\('http:\/\/[^']+\/backups\/chs\/[^']+\/clickhouse\/native', 'S3RVER', '[^']+'\) ASYNC$/,
      );
      src.databases.get('analytics')!.get('events')!.rows[5]![1] = 'changed';
      const changed = await drill(await standin());
      src.databases.get('analytics')!.get('events')!.rows[5]![1] = 'user-5';
      expect(changed.code).toBe(1);
      expect(changed.stdout).toMatch(/analytics\.events checksum/);
    }, 60_000);

    it('stand-in for ClickHouse 24.8: restore into an existing database adds the tables, refuses existing tables without --clean, --clean drops just those, --database renames (RESTORE … AS)', async () => {
      const target = await standin();
      target.addTable('analytics', 'old', {
        engine: 'MergeTree',
        columns: [{ name: 'x', type: 'UInt8' }],
        rows: [['1']],
      });
      const restore = (...more: string[]) =>
        kindling(
          [
            'restore',
            '--backup',
            id,
            '--components',
            'clickhouse',
            '--target',
            'local',
            '--endpoint',
            `clickhouse=${target.url}`,
            '--endpoint',
            s3For(s3.endpoint),
            ...store(),
            ...more,
          ],
          env,
        );
      // a target server whose S3 endpoint is not the store cannot read the backup: refused before RESTORE
      const elsewhere = await kindling(
        [
          'restore',
          '--backup',
          id,
          '--components',
          'clickhouse',
          '--target',
          'local',
          '--endpoint',
          `clickhouse=${target.url}`,
          '--endpoint',
          s3For(other.endpoint),
          ...store(),
          '--clean',
        ],
        env,
      );
      expect(elsewhere.code).toBe(1);
      expect(elsewhere.stderr).toMatch(
        /the ClickHouse server cannot read chs\/[^ ]+\/clickhouse\/native\/\.backup through endpoint "backup-s3"/,
      );
      expect(target.statements.some((s) => s.startsWith('RESTORE ') || s.startsWith('DROP '))).toBe(false);
      // the database exists (with another table): RESTORE keeps it and adds the backed-up tables
      const first = await restore();
      expect(first.code, first.stderr).toBe(0);
      noSecrets(first);
      expect([...target.databases.get('analytics')!.keys()].sort()).toEqual(['empty', 'events', 'old']);
      expect(target.databases.get('analytics')!.get('events')!.rows).toEqual(
        src.databases.get('analytics')!.get('events')!.rows,
      );
      // again: the backed-up tables exist now, so it is refused without --clean …
      const restores = () => target.statements.filter((s) => s.startsWith('RESTORE ')).length;
      const before = restores();
      const refused = await restore();
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/table analytics\.empty already exists; restore with --clean/);
      expect(refused.stderr).toMatch(/table analytics\.events already exists; restore with --clean/);
      expect(restores()).toBe(before);
      // … and --clean drops exactly those tables, then restores them (the other table stays)
      target.databases.get('analytics')!.get('events')!.rows.push(['2026-02-01', 'extra', '1']);
      const clean = await restore('--clean');
      expect(clean.code, clean.stderr).toBe(0);
      expect(target.statements).toContain('DROP TABLE IF EXISTS `analytics`.`events`');
      expect([...target.databases.get('analytics')!.keys()].sort()).toEqual(['empty', 'events', 'old']);
      expect(target.databases.get('analytics')!.get('events')!.rows).toEqual(
        src.databases.get('analytics')!.get('events')!.rows,
      );
      const renamed = await restore('--database', 'analytics=analytics_copy');
      expect(renamed.code, renamed.stderr).toBe(0);
      expect(target.databases.get('analytics_copy')!.get('events')!.rows).toHaveLength(300);
    }, 60_000);

    it("stand-in for ClickHouse 24.8: BACKUP_FAILED fails the backup with the server's error text and no manifest (the S3 server dies mid-backup)", async () => {
      const own = await startS3({ buckets: ['backups'] });
      const ch = await standin();
      seed(ch);
      ch.workDelayMs = 1500;
      const args = backupArgs(ch, s3For(own.endpoint)).map((a) => (a === s3.endpoint ? own.endpoint : a));
      const running = kindling(args, env);
      // once the BACKUP statement is in (the marker check passed), the S3 server goes away
      for (let i = 0; i < 200 && !ch.statements.some((x) => x.startsWith('BACKUP ')); i++)
        await new Promise((r) => setTimeout(r, 50));
      await own.stop();
      const r = await running;
      expect(r.code).toBe(1);
      noSecrets(r);
      expect(r.stderr).toMatch(
        /backup [0-9a-f-]{36} ended BACKUP_FAILED: Code: 499\. DB::Exception: .*\(S3_ERROR\) \(version 24\.8\.4\.13 \(official build\)\)/,
      );
      expect(r.stderr).toMatch(/no manifest was written/);
    }, 90_000);

    it("stand-in for ClickHouse 24.8: keys the S3 server refuses, or an S3 server that is not the store, fail before BACKUP is sent (the server cannot read the run's marker)", async () => {
      for (const [endpoint, why] of [
        [s3For(s3.endpoint, 'WRONGKEY'), /Code: 499\. DB::Exception: .*\(S3_ERROR\)/],
        [s3For(other.endpoint), /Code: 499\. DB::Exception: .*\(S3_ERROR\)/],
      ] as const) {
        const before = src.statements.length;
        const r = await kindling(backupArgs(src, endpoint), env);
        expect(r.code).toBe(1);
        noSecrets(r);
        expect(r.stderr).toMatch(
          /the ClickHouse server cannot read chs\/[^ ]+\/in-progress\.json through endpoint "backup-s3" \(http:\/\/127\.0\.0\.1:\d+\)/,
        );
        expect(r.stderr).toMatch(why);
        expect(r.stderr).toMatch(
          /it must reach the store's own S3 server \(http:\/\/127\.0\.0\.1:\d+\) with those keys; nothing was backed up/,
        );
        expect(src.statements.slice(before).some((x) => x.startsWith('BACKUP '))).toBe(false);
      }
      expect(await listKeys(s3Client(other.endpoint), 'backups')).toEqual([]);
    }, 60_000);

    it('stand-in for ClickHouse 24.8: on target local without --endpoint clickhouse.backup-s3 the backup fails saying which URL the server needs (nothing sent)', async () => {
      const before = src.statements.length;
      const r = await kindling(
        ['backup', '--target', 'local', '--endpoint', `clickhouse=${src.url}`, ...store()],
        env,
      );
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /needs --endpoint clickhouse\.backup-s3=URL — the S3 endpoint as the ClickHouse server reaches it, its access key and secret as the URL's user and password/,
      );
      expect(src.statements.slice(before).some((s) => s.startsWith('BACKUP'))).toBe(false);
    }, 60_000);

    it('stand-in for ClickHouse 24.8: a backup still CREATING_BACKUP at the catalog timeout fails within it', async () => {
      const slow = await standin();
      seed(slow);
      slow.workDelayMs = 30_000;
      const file = nativeCatalog('        timeout: 1500ms\n');
      const t0 = Date.now();
      const r = await kindling(backupArgs(slow, s3For(s3.endpoint), file), env);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /backup [0-9a-f-]{36} still CREATING_BACKUP after 1\.5s \(the backup's timeout:\)/,
      );
      expect(Date.now() - t0).toBeLessThan(15_000);
    }, 60_000);

    describe('target kube (stand-in Cluster, stand-in for ClickHouse 24.8)', () => {
      it('stand-in for ClickHouse 24.8 on target kube: the server is given the in-cluster MinIO address and the minio-secret keys (never a port-forward), and another cluster restores it', async () => {
        const stack = loadStack(nativeCatalog());
        const location = parseStoreUrl('s3://backups/chs-kube');
        const kubeSrc = await standin();
        seed(kubeSrc);
        const dns = { 'minio.voiceassistant-infra.svc:9000': new URL(s3.endpoint).host };
        kubeSrc.hosts = dns;
        const clusterOf = (ch: ClickHouse24Standin) =>
          new LocalCluster({
            namespace: stack.namespace,
            pods: {},
            services: { 'clickhouse:8123': Number(new URL(ch.url).port) },
            secrets: {
              'minio-secret/MINIO_ROOT_USER': 'S3RVER',
              'minio-secret/MINIO_ROOT_PASSWORD': CH_SECRET,
            },
          });
        const cluster = clusterOf(kubeSrc);
        const st = new S3Store(
          s3Settings({ endpoint: s3.endpoint, accessKeyId: 'S3RVER', secretAccessKey: 'x' }),
        );
        const lines: string[] = [];
        const outcome = await runBackup({
          selected: selectBackups(stack, ['clickhouse'], []),
          target: kubeTarget(cluster, stack.namespace),
          store: st,
          location,
          compression: 'zstd',
          log: (l) => lines.push(l),
        });
        await cluster.closeAll();
        expect(outcome.components.filter((c) => !c.ok).map((c) => c.error)).toEqual([]);
        expect(kubeSrc.statements.find((s) => s.startsWith('BACKUP '))).toContain(
          `TO S3('http://minio.voiceassistant-infra.svc:9000/backups/chs-kube/${outcome.id}/clickhouse/native', 'S3RVER', '${CH_SECRET}') ASYNC`,
        );
        expect(lines.join('\n')).not.toContain(CH_SECRET);

        const scratch = await standin();
        scratch.hosts = dns;
        const scratchCluster = clusterOf(scratch);
        const restored = await runRestore({
          stack,
          manifest: await loadManifest(st, location, outcome.id),
          components: [],
          target: kubeTarget(scratchCluster, stack.namespace),
          store: st,
          location,
          options: { clean: false, rename: new Map(), noGlobals: false },
        });
        await scratchCluster.closeAll();
        expect(restored.components.filter((c) => !c.ok).map((c) => c.error)).toEqual([]);
        expect(scratch.databases.get('analytics')!.get('events')!.rows).toEqual(
          kubeSrc.databases.get('analytics')!.get('events')!.rows,
        );
      }, 60_000);
    });
  },
);

describeWithServices(
  'clickhouse-server-backup version gate (real clickhouse-server 18.16, s3rver)',
  ['clickhouse', 's3'],
  () => {
    let ch: RunningClickHouse;
    let s3: RunningS3;
    beforeAll(async () => {
      [ch, s3] = await Promise.all([startClickHouse(), startS3({ buckets: ['backups'] })]);
      // the database exists, so only the gate stands between 18.16 and the BACKUP statement
      const r = await fetch(`${ch.url}/?query=${encodeURIComponent('CREATE DATABASE analytics')}`, {
        method: 'POST',
        signal: AbortSignal.timeout(10_000),
      });
      if (r.status !== 200) throw new Error(`CREATE DATABASE: ${await r.text()}`);
    }, 60_000);
    afterAll(async () => {
      await Promise.all([ch?.stop(), s3?.stop()]);
    });

    it('real 18.16 has no BACKUP statement: the backup fails (exit 1) naming the portable type "clickhouse", never sending BACKUP, no secret printed', async () => {
      const r = await kindling(
        [
          'backup',
          '--target',
          'local',
          '--endpoint',
          `clickhouse=${ch.url}`,
          '--endpoint',
          `clickhouse.backup-s3=http://S3RVER:${CH_SECRET}@${new URL(s3.endpoint).host}`,
          '--store',
          's3://backups/gate',
          '--s3-endpoint',
          s3.endpoint,
          '--catalog',
          nativeCatalog(),
        ],
        {},
        s3,
      );
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /ClickHouse 18\.16\.[0-9.]+ at http:\/\/127\.0\.0\.1:\d+ has no BACKUP statement \(no system\.backups table; .*back this server up with the portable backup type "clickhouse"/,
      );
      expect(r.stdout + r.stderr).not.toContain(CH_SECRET);
      // and 18.16 really rejects the statement (what the gate spares it from): a syntax error
      const res = await fetch(
        `${ch.url}/?query=${encodeURIComponent("BACKUP DATABASE x TO S3('http://h/b/k', 'k', 's')")}`,
        {
          method: 'POST',
          signal: AbortSignal.timeout(10_000),
        },
      );
      expect(res.status).not.toBe(200);
      expect(await res.text()).toMatch(/Syntax error/);
    }, 60_000);
  },
);
