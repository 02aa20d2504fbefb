import type { BackupSource } from '../types.ts';
import { clickhouseSource } from './clickhouse.ts';
import { clickhouseServerBackupSource } from './clickhouse-server-backup.ts';
import { elasticsearchSnapshotSource } from './elasticsearch-snapshot.ts';
import { etcdSnapshotSource } from './etcd-snapshot.ts';
import { mysqlSource } from './mysql.ts';
import { postgresSource } from './postgres.ts';
import { redisSource } from './redis.ts';
import { s3CopySource } from './s3-copy.ts';
import { sequenceSource } from './sequence.ts';

/** Every backup type, by its catalog `type:`. A new kind of backup is one new file registered here. */
export const SOURCES: ReadonlyMap<string, BackupSource> = new Map(
  [
    postgresSource,
    redisSource,
    s3CopySource,
    etcdSnapshotSource,
    elasticsearchSnapshotSource,
    mysqlSource,
    clickhouseSource,
    clickhouseServerBackupSource,
  ].map((s) => [s.type, s]),
);
// a sequence runs other types' parts: it looks them up here, at call time
(SOURCES as Map<string, BackupSource>).set(
  'sequence',
  sequenceSource((type) => SOURCES.get(type)),
);
