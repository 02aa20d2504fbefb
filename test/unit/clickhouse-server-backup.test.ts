/** The pure parts of `type: clickhouse-server-backup`: statements, URLs, status rows, catalog checks. */
import { describe, expect, it } from 'vitest';
import {
  backupStatement,
  clickhouseServerBackupSource,
  drillDatabase,
  parseOperationRow,
  restoreStatement,
  s3Url,
  statusVerdict,
} from '../../src/backup/sources/clickhouse-server-backup.ts';
import { SOURCES } from '../../src/backup/sources/index.ts';
import { loadStack } from '../../src/catalog/load.ts';
import type { BackupSpec } from '../../src/catalog/types.ts';

const s3 = { origin: 'http://minio.ns.svc:9000', accessKeyId: 'AK', secretAccessKey: "s'e\\c" };

describe('clickhouse-server-backup statements', () => {
  it('quotes databases as identifiers and the S3 arguments as string literals; ASYNC after the destination', () => {
    expect(backupStatement(['analytics', 'we`ird'], 'http://h/b/k', s3)).toBe(
      "BACKUP DATABASE `analytics`, DATABASE `we\\`ird` TO S3('http://h/b/k', 'AK', 's\\'e\\\\c') ASYNC",
    );
  });

  it('restores under new names with AS, keeping the others', () => {
    expect(restoreStatement(['a', 'b'], new Map([['a', drillDatabase('a')]]), 'http://h/b/k', s3)).toBe(
      "RESTORE DATABASE `a` AS `kindling_drill_a`, DATABASE `b` FROM S3('http://h/b/k', 'AK', 's\\'e\\\\c') ASYNC",
    );
  });

  it('builds a path-style URL, each key segment encoded', () => {
    expect(s3Url('http://minio:9000/', 'backups', 'p/2026 x/clickhouse/native')).toBe(
      'http://minio:9000/backups/p/2026%20x/clickhouse/native',
    );
  });

  it('reads a system.backups row with quoted or bare UInt64s, and an empty answer as no row', () => {
    expect(
      parseOperationRow('{"status":"BACKUP_CREATED","error":"","num_files":"12","total_size":"4096"}\n'),
    ).toEqual({ status: 'BACKUP_CREATED', error: '', numFiles: 12, totalSize: 4096 });
    expect(
      parseOperationRow('{"status":"BACKUP_FAILED","error":"Code: 499. x","num_files":0,"total_size":0}'),
    ).toEqual({ status: 'BACKUP_FAILED', error: 'Code: 499. x', numFiles: 0, totalSize: 0 });
    expect(parseOperationRow('')).toBeUndefined();
  });

  it('maps every status of BackupStatus.cpp for the operation it belongs to', () => {
    expect(statusVerdict('backup', 'CREATING_BACKUP')).toBe('running');
    expect(statusVerdict('backup', 'BACKUP_CREATED')).toBe('done');
    expect(statusVerdict('backup', 'BACKUP_FAILED')).toBe('failed');
    expect(statusVerdict('backup', 'BACKUP_CANCELLED')).toBe('failed');
    expect(statusVerdict('backup', 'RESTORED')).toBe('unexpected');
    expect(statusVerdict('restore', 'RESTORING')).toBe('running');
    expect(statusVerdict('restore', 'RESTORED')).toBe('done');
    expect(statusVerdict('restore', 'RESTORE_FAILED')).toBe('failed');
    expect(statusVerdict('restore', 'RESTORE_CANCELLED')).toBe('failed');
  });
});

describe('clickhouse-server-backup catalog parameters', () => {
  const clickhouse = loadStack().components.clickhouse!;
  const spec = (extra: Record<string, unknown>): BackupSpec =>
    ({ name: 'native', type: 'clickhouse-server-backup', ...extra }) as BackupSpec;
  const problems = (extra: Record<string, unknown>) =>
    clickhouseServerBackupSource
      .validate(spec(extra), clickhouse)
      .map((p) => `${p.path.join('.')} ${p.message}`);

  it('is registered and accepts the entry the catalog comment proposes', () => {
    expect(SOURCES.get('clickhouse-server-backup')).toBe(clickhouseServerBackupSource);
    expect(problems({ databases: 'all', s3: 'backup-s3' })).toEqual([]);
    expect(problems({ databases: ['analytics'], s3: 'backup-s3', timeout: '2h' })).toEqual([]);
  });

  it('needs s3: naming an http endpoint of the component, and a valid timeout', () => {
    expect(problems({})).toEqual([expect.stringMatching(/^s3 is required/)]);
    expect(problems({ s3: 'nope' })).toEqual([
      expect.stringMatching(/^s3 clickhouse has no endpoint "nope"; it has http, metrics, backup-s3/),
    ]);
    expect(problems({ s3: 'backup-s3', timeout: 'soon' })).toEqual([expect.stringMatching(/^timeout /)]);
    expect(problems({ s3: 'backup-s3', bucket: 'x' })).toEqual([
      expect.stringMatching(/^bucket unknown parameter/),
    ]);
  });
});
