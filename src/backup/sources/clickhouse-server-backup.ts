/**
 * `type: clickhouse-server-backup` — ClickHouse's own `BACKUP … TO S3`: the server writes the backup
 * straight into the backup store's bucket, under this component's part of the backup's prefix;
 * kindling starts it, waits for it, and records every object it wrote (sha256 and size, read back
 * through the store) so `backups verify` and `restore` re-hash them like any artifact.
 *
 * ClickHouse (ClickHouse/ClickHouse, 24.8): `docs/en/operations/backup.md` — `BACKUP|RESTORE DATABASE
 * db [AS db2] TO|FROM S3('<endpoint>/<bucket>/<path>', '<key id>', '<secret>')`, `ASYNC` answers at
 * once with one row `id, status` (src/Interpreters/InterpreterBackupQuery.cpp getResultRow), whose
 * progress `system.backups` shows by `id` (src/Storages/System/StorageSystemBackups.cpp: id, name,
 * status, error, num_files, total_size, …); statuses CREATING_BACKUP, BACKUP_CREATED, BACKUP_FAILED,
 * BACKUP_CANCELLED, RESTORING, RESTORED, RESTORE_FAILED, RESTORE_CANCELLED (src/Backups/
 * BackupStatus.cpp); `ASYNC` goes after the destination (src/Parsers/ParserBackupQuery.cpp
 * parseSyncOrAsync). `system.backups` is not persistent (lost on a server restart).
 *
 * Secrets: the S3 secret is the third argument of `S3(…)`, which ClickHouse hides when it formats
 * the statement for logs and for `system.backups.name` (src/Parsers/FunctionSecretArgumentsFinder.h
 * findBackupNameSecretArguments marks argument 2 of S3; src/Backups/BackupInfo.cpp
 * toStringForLogging; query_log likewise, and the `s3` table function's secret the same way,
 * findS3FunctionSecretArguments; `format_display_secrets_in_show_and_select` only governs what
 * SHOW/SELECT display). kindling sends the statement in the POST body (not the URL, which proxies log),
 * registers the secret so its own output masks it, and never sends BACKUP to a server without it (an
 * old server's syntax error would echo the statement).
 *
 * A complete backup is marked by its `.backup` file, written last (src/Backups/BackupImpl.cpp
 * writeBackupMetadata; RESTORE refuses a prefix without it, BACKUP one with it), so kindling
 * requires it in the listing.
 *
 * The server needs an S3 URL IT can reach: the catalog names that endpoint (`s3:`) — on target kube
 * the in-cluster Service address and the Secret's keys, on target local `--endpoint
 * COMPONENT.ENDPOINT=http://KEY:SECRET@HOST:PORT`. It must be the store's server: after the backup
 * the objects are listed through the store, and none there fails the backup, naming both.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { BackupSpec, Component, Endpoint } from '../../catalog/types.ts';
import type { S3Store } from '../../store/s3.ts';
import { formatDuration } from '../../util/duration.ts';
import { FailedError, UsageError } from '../../util/errors.ts';
import { addSecret } from '../../util/redact.ts';
import { type ArtifactRecord, inProgressKey } from '../manifest.ts';
import type { BackupSource, Fingerprint, ParamProblem, TargetAccess } from '../types.ts';
import { fingerprintOf, listTables, type TableInfo } from './clickhouse.ts';
import { chIdent, chLiteral, clickhouseText, tsvRows } from './clickhouse-http.ts';
import {
  durationOf,
  durationParam,
  localEndpoint,
  optionalStringParam,
  sleep,
  stringListParam,
  unknownParams,
} from './common.ts';
import { endpointUrl } from './endpoint.ts';

export const TYPE = 'clickhouse-server-backup';
const SYSTEM_DATABASES = ['system', 'INFORMATION_SCHEMA', 'information_schema'];
const DEFAULT_TIMEOUT_MS = 60 * 60_000;

interface Settings {
  databases: 'all' | string[];
  s3: string;
  timeoutMs: number;
}

export function serverBackupSettings(spec: BackupSpec): Settings {
  return {
    databases: Array.isArray(spec.databases) ? (spec.databases as string[]) : 'all',
    s3: spec.s3 as string,
    timeoutMs: durationOf(spec, 'timeout', DEFAULT_TIMEOUT_MS),
  };
}

/** The S3 endpoint as the ClickHouse server reaches it, with its keys. */
export interface ServerS3 {
  origin: string;
  accessKeyId: string;
  secretAccessKey: string;
}

/** `http://host:port/bucket/key` — path-style, as ClickHouse reads a non-AWS endpoint (src/IO/S3/URI.cpp). */
export const s3Url = (origin: string, bucket: string, key: string): string =>
  `${origin.replace(/\/$/, '')}/${encodeURIComponent(bucket)}/${key.split('/').map(encodeURIComponent).join('/')}`;

const s3Function = (url: string, s3: ServerS3) =>
  `S3(${chLiteral(url)}, ${chLiteral(s3.accessKeyId)}, ${chLiteral(s3.secretAccessKey)})`;

/** `BACKUP DATABASE a, DATABASE b TO S3(…) ASYNC` (pure). */
export function backupStatement(databases: readonly string[], url: string, s3: ServerS3): string {
  const what = databases.map((d) => `DATABASE ${chIdent(d)}`).join(', ');
  return `BACKUP ${what} TO ${s3Function(url, s3)} ASYNC`;
}

/** `RESTORE DATABASE a AS b, … FROM S3(…) ASYNC` (pure). */
export function restoreStatement(
  databases: readonly string[],
  rename: ReadonlyMap<string, string>,
  url: string,
  s3: ServerS3,
): string {
  const what = databases
    .map((d) => {
      const to = rename.get(d) ?? d;
      return `DATABASE ${chIdent(d)}${to === d ? '' : ` AS ${chIdent(to)}`}`;
    })
    .join(', ');
  return `RESTORE ${what} FROM ${s3Function(url, s3)} ASYNC`;
}

/** Database names a drill restores into (never the source's own, even on the same server). */
export const drillDatabase = (db: string) => `kindling_drill_${db}`;

export interface OperationRow {
  status: string;
  error: string;
  numFiles: number;
  totalSize: number;
}

/**
 * One `system.backups` row in JSONEachRow. UInt64 columns come quoted by default
 * (`output_format_json_quote_64bit_integers`, ClickHouse docs "Format settings"), so both are read.
 */
export function parseOperationRow(text: string): OperationRow | undefined {
  const line = text.split('\n').find((l) => l.trim() !== '');
  if (!line) return undefined;
  const r = JSON.parse(line) as Record<string, unknown>;
  return {
    status: String(r.status),
    error: String(r.error ?? ''),
    numFiles: Number(r.num_files ?? 0),
    totalSize: Number(r.total_size ?? 0),
  };
}

/** What a status means for an operation that should end in `done` (pure). */
export function statusVerdict(
  kind: 'backup' | 'restore',
  status: string,
): 'done' | 'running' | 'failed' | 'unexpected' {
  const table =
    kind === 'backup'
      ? {
          done: ['BACKUP_CREATED'],
          running: ['CREATING_BACKUP'],
          failed: ['BACKUP_FAILED', 'BACKUP_CANCELLED'],
        }
      : { done: ['RESTORED'], running: ['RESTORING'], failed: ['RESTORE_FAILED', 'RESTORE_CANCELLED'] };
  if (table.done.includes(status)) return 'done';
  if (table.running.includes(status)) return 'running';
  if (table.failed.includes(status)) return 'failed';
  return 'unexpected';
}

async function serverVersion(base: URL): Promise<string> {
  return (await clickhouseText(base, 'SELECT version() FORMAT TabSeparated')).trim();
}

/**
 * The gate: a server without `system.backups` has no BACKUP statement (BackupsWorker is what fills
 * that table). Asked of the server, not inferred from a version number.
 */
async function requireBackupStatement(base: URL, version: string, component: string): Promise<void> {
  const n = (
    await clickhouseText(
      base,
      "SELECT count() FROM system.tables WHERE database = 'system' AND name = 'backups' FORMAT TabSeparated",
    )
  ).trim();
  if (n === '0')
    throw new FailedError(
      `${component}: ClickHouse ${version} at ${base.origin} has no BACKUP statement (no system.backups table; BACKUP/RESTORE is a ClickHouse 22.x feature): back this server up with the portable backup type "clickhouse" (schemas and rows over the HTTP interface) instead of ${TYPE}`,
    );
}

function s3EndpointOf(component: Component, spec: BackupSpec): Endpoint {
  const name = serverBackupSettings(spec).s3;
  const ep = component.endpoints.find((e) => e.name === name);
  if (!ep) throw new UsageError(`backup "${spec.name}" of ${component.name}: no endpoint "${name}" (s3:)`);
  return ep;
}

/**
 * Target kube: the Service's in-cluster address (`http://SERVICE.NAMESPACE.svc:PORT`, which a pod
 * resolves through cluster DNS) and the keys from the Secret; never a port-forward, which only
 * this machine could use. Target local: the `--endpoint` URL as given, which must be reachable
 * from the ClickHouse server.
 */
export async function serverS3(
  target: TargetAccess,
  component: Component,
  spec: BackupSpec,
): Promise<ServerS3> {
  const ep = s3EndpointOf(component, spec);
  if (target.kind === 'local') {
    if (!target.endpoints.has(`${component.name}.${ep.name}`))
      throw new UsageError(
        `backup "${spec.name}" of ${component.name} on target local needs --endpoint ${component.name}.${ep.name}=URL — the S3 endpoint as the ClickHouse server reaches it, its access key and secret as the URL's user and password (the store's own server; the --s3-endpoint URL kindling uses may not be reachable from the server)`,
      );
    const url = localEndpoint(target, component, { ...spec, endpoint: ep.name });
    const s3 = {
      origin: url.origin,
      accessKeyId: decodeURIComponent(url.username),
      secretAccessKey: decodeURIComponent(url.password),
    };
    addSecret(s3.secretAccessKey);
    return s3;
  }
  const cluster = target.cluster!;
  const read = async (c: Endpoint['username'], what: string) => {
    if (typeof c === 'string') return c;
    if (!c) throw new UsageError(`${component.name} endpoint ${ep.name} has no ${what} in the catalog`);
    const v = await cluster.readSecret(target.namespace, c.secret, c.key);
    if (v === undefined)
      throw new FailedError(
        `Secret ${target.namespace}/${c.secret} has no key ${c.key} (${ep.name} ${what})`,
      );
    return v;
  };
  const secretAccessKey = await read(ep.password, 'password');
  addSecret(secretAccessKey);
  return {
    origin: `${ep.scheme}://${ep.service}.${target.namespace}.svc:${ep.port}`,
    accessKeyId: await read(ep.username, 'username'),
    secretAccessKey,
  };
}

async function databasesOf(base: URL, s: Settings): Promise<string[]> {
  const where =
    s.databases === 'all'
      ? `name NOT IN (${SYSTEM_DATABASES.map(chLiteral).join(', ')})`
      : `name IN (${s.databases.map(chLiteral).join(', ')})`;
  const found = tsvRows(
    await clickhouseText(
      base,
      `SELECT name FROM system.databases WHERE ${where} ORDER BY name FORMAT TabSeparated`,
    ),
  ).map((r) => r[0]!);
  if (s.databases !== 'all') {
    const missing = s.databases.filter((d) => !found.includes(d));
    if (missing.length) throw new FailedError(`no such database(s) on the server: ${missing.join(', ')}`);
  }
  if (found.length === 0) throw new FailedError('the server has no databases to back up');
  return found;
}

/**
 * Can the SERVER read this object of the store? It reads it with the `s3` table function —
 * `s3(url, key, secret, format, structure)` (ClickHouse docs, "s3 Table Function"; RawBLOB reads
 * the whole object as one String, docs "Formats") — and the length must be the store's. Before a
 * backup on this run's in-progress marker (so nothing is written into a bucket kindling cannot
 * see), before a restore on the backup's `.backup`. Returns the problem, or undefined.
 */
async function serverReadsStoreObject(
  base: URL,
  s3: ServerS3,
  store: S3Store,
  bucket: string,
  key: string,
  expected: number | undefined,
  endpointName: string,
): Promise<string | undefined> {
  const url = s3Url(s3.origin, bucket, key);
  let seen: string;
  try {
    seen = (
      await clickhouseText(base, '', {
        body: Readable.from([
          Buffer.from(
            `SELECT length(data) FROM s3(${chLiteral(url)}, ${chLiteral(s3.accessKeyId)}, ${chLiteral(s3.secretAccessKey)}, 'RawBLOB', 'data String') FORMAT TabSeparated`,
          ),
        ]),
      })
    ).trim();
  } catch (err) {
    return `the ClickHouse server cannot read ${key} through endpoint "${endpointName}" (${s3.origin}): ${(err as Error).message} — it must reach the store's own S3 server (${store.where}) with those keys`;
  }
  if (expected === undefined || seen !== String(expected))
    return `the ClickHouse server reads ${key} through endpoint "${endpointName}" (${s3.origin}) as ${seen || 'nothing'} byte(s), the store ${store.where} as ${expected ?? 'missing'}: they are not the same S3 server`;
  return undefined;
}

/** Runs an ASYNC BACKUP/RESTORE (statement in the POST body) and returns its operation id. */
async function startOperation(base: URL, statement: string): Promise<string> {
  const text = await clickhouseText(base, '', { body: Readable.from([Buffer.from(statement)]) });
  // the HTTP interface's default format is TabSeparated: `id<TAB>status`
  const [[id] = []] = tsvRows(text);
  if (!id)
    throw new FailedError(
      `ClickHouse at ${base.origin} started no operation (answered "${text.trim().slice(0, 200)}")`,
    );
  return id;
}

/** Polls `system.backups` by id until the operation ends, or fails at the deadline. */
async function waitForOperation(
  base: URL,
  id: string,
  kind: 'backup' | 'restore',
  timeoutMs: number,
  log: (line: string) => void,
): Promise<OperationRow> {
  const deadline = Date.now() + timeoutMs;
  let pause = 200;
  let last = '';
  for (;;) {
    const row = parseOperationRow(
      await clickhouseText(
        base,
        `SELECT status, error, num_files, total_size FROM system.backups WHERE id = ${chLiteral(id)} FORMAT JSONEachRow`,
      ),
    );
    if (!row)
      throw new FailedError(
        `ClickHouse at ${base.origin}: system.backups has no operation ${id} (the table is not persistent: did the server restart?)`,
      );
    const verdict = statusVerdict(kind, row.status);
    if (verdict === 'done') return row;
    if (verdict === 'failed')
      throw new FailedError(`${kind} ${id} ended ${row.status}: ${row.error || '(no error text)'}`);
    if (verdict === 'unexpected') throw new FailedError(`${kind} ${id} has status ${row.status}`);
    if (row.status !== last) log(`${kind} ${id}: ${row.status}`);
    last = row.status;
    if (Date.now() + pause > deadline)
      throw new FailedError(
        `${kind} ${id} still ${row.status} after ${formatDuration(timeoutMs)} (the backup's timeout:); it may still finish on the server`,
      );
    await sleep(pause);
    pause = Math.min(pause * 2, 2000);
  }
}

interface Meta {
  operation: string;
  /** Key prefix (in the store's bucket) the server wrote the backup under, without a trailing slash. */
  s3Prefix: string;
  databases: string[];
  tables: { database: string; table: string; engine: string }[];
  numFiles: number;
  totalSize: number;
  objects: number;
}

/** `db.table` of the backed-up tables that exist on the target, under their restore names. */
async function existingTables(base: URL, meta: Meta, rename: ReadonlyMap<string, string>): Promise<string[]> {
  const dests = meta.databases.map((d) => rename.get(d) ?? d);
  const there = new Set(
    tsvRows(
      await clickhouseText(
        base,
        `SELECT database, name FROM system.tables WHERE database IN (${dests.map(chLiteral).join(', ')}) FORMAT TabSeparated`,
      ),
    ).map(([d, n]) => `${d}.${n}`),
  );
  return meta.tables
    .map((t) => `${rename.get(t.database) ?? t.database}.${t.table}`)
    .filter((n) => there.has(n));
}

const metaOf = (record: { meta?: Record<string, unknown> }) => record.meta as unknown as Meta;
const asTableInfo = (t: Meta['tables'][number]): TableInfo => ({ ...t, create: '', rows: 0 });

export const clickhouseServerBackupSource: BackupSource = {
  type: TYPE,

  validate(spec, component): ParamProblem[] {
    const problems = [
      ...unknownParams(spec, ['databases', 's3', 'timeout']),
      ...optionalStringParam(spec, 's3'),
    ];
    if (spec.databases !== undefined && spec.databases !== 'all')
      problems.push(
        ...stringListParam(spec, 'databases', false).map((p) => ({
          ...p,
          message: `${p.message} (or "all")`,
        })),
      );
    if (typeof spec.s3 !== 'string')
      problems.push({
        path: ['s3'],
        message:
          'is required: the endpoint (of this component) naming the S3 server as ClickHouse reaches it',
      });
    else {
      const ep = component.endpoints.find((e) => e.name === spec.s3);
      if (!ep)
        problems.push({
          path: ['s3'],
          message: `${component.name} has no endpoint "${spec.s3}"; it has ${component.endpoints.map((e) => e.name).join(', ')}`,
        });
      else if (ep.scheme !== 'http' && ep.scheme !== 'https')
        problems.push({
          path: ['s3'],
          message: `endpoint "${spec.s3}" must be http or https (is ${ep.scheme})`,
        });
    }
    problems.push(...durationParam(spec, 'timeout'));
    return problems;
  },

  async backup(ctx) {
    const s = serverBackupSettings(ctx.spec);
    const base = await endpointUrl(ctx.target, ctx.component, ctx.spec);
    const version = await serverVersion(base);
    await requireBackupStatement(base, version, ctx.component.name);
    const s3 = await serverS3(ctx.target, ctx.component, ctx.spec);
    const databases = await databasesOf(base, s);
    const tables = (await listTables(base, databases)).map(({ database, table, engine }) => ({
      database,
      table,
      engine,
    }));
    const marker = inProgressKey(ctx.location, ctx.backupId);
    const unreadable = await serverReadsStoreObject(
      base,
      s3,
      ctx.store,
      ctx.location.bucket,
      marker,
      (await ctx.store.head(ctx.location.bucket, marker))?.size,
      s.s3,
    );
    if (unreadable) throw new FailedError(`${unreadable}; nothing was backed up`);
    const prefix = ctx.keyFor(ctx.spec.name);
    const url = s3Url(s3.origin, ctx.location.bucket, prefix);
    ctx.log(`BACKUP DATABASE ${databases.join(', ')} TO S3('${url}', …) ASYNC`);
    const id = await startOperation(base, backupStatement(databases, url, s3));
    const row = await waitForOperation(base, id, 'backup', s.timeoutMs, ctx.log);
    ctx.log(`backup ${id}: BACKUP_CREATED, ${row.numFiles} file(s), ${row.totalSize} bytes`);

    // what the server wrote, as the store sees it: a different server than the store's is caught here
    const objects = await ctx.store.list(ctx.location.bucket, `${prefix}/`);
    if (!objects.some((o) => o.key === `${prefix}/.backup`))
      throw new FailedError(
        `ClickHouse reported backup ${id} created in ${s3.origin}, but the store ${ctx.store.where} has no ${prefix}/.backup (${objects.length} object(s) there): endpoint "${s.s3}" must be the store's own S3 server`,
      );
    const files: ArtifactRecord[] = [];
    for (const o of objects) {
      const t0 = Date.now();
      const hash = createHash('sha256');
      let bytes = 0;
      for await (const chunk of await ctx.store.getStream(ctx.location.bucket, o.key)) {
        hash.update(chunk as Buffer);
        bytes += (chunk as Buffer).length;
      }
      files.push({
        name: `${ctx.spec.name}/${o.key.slice(prefix.length + 1)}`,
        key: o.key,
        bytes,
        rawBytes: bytes,
        sha256: hash.digest('hex'),
        compression: 'none',
        format: 'clickhouse-backup-file',
        command: `BACKUP … TO S3 (written by the ClickHouse server, operation ${id})`,
        exitCode: 0,
        durationMs: Date.now() - t0,
      });
    }
    const meta: Meta = {
      operation: id,
      s3Prefix: prefix,
      databases,
      tables,
      numFiles: row.numFiles,
      totalSize: row.totalSize,
      objects: objects.length,
    };
    const descriptor = await ctx.artifact('backup.json', {
      produce: async (stdout) => {
        stdout.end(Buffer.from(`${JSON.stringify(meta, null, 2)}\n`));
        return { exitCode: 0, stderr: '' };
      },
      description: `BACKUP DATABASE ${databases.join(', ')} TO S3 ASYNC (operation ${id})`,
      format: 'clickhouse-server-backup',
    });
    return {
      artifacts: [descriptor, ...files],
      serverVersion: version,
      toolVersion: 'ClickHouse BACKUP … TO S3',
      meta: meta as unknown as Record<string, unknown>,
    };
  },

  async preflightRestore(ctx) {
    const meta = metaOf(ctx.record);
    const base = await endpointUrl(ctx.target, ctx.component, ctx.spec);
    const version = await serverVersion(base);
    let s3: ServerS3;
    try {
      await requireBackupStatement(base, version, ctx.component.name);
      s3 = await serverS3(ctx.target, ctx.component, ctx.spec);
    } catch (err) {
      return [(err as Error).message];
    }
    const listing = ctx.record.artifacts.find((a) => a.key === `${meta.s3Prefix}/.backup`);
    const unreadable = await serverReadsStoreObject(
      base,
      s3,
      ctx.store,
      ctx.location.bucket,
      `${meta.s3Prefix}/.backup`,
      listing?.bytes,
      serverBackupSettings(ctx.spec).s3,
    );
    if (unreadable) return [unreadable];
    if (ctx.options.clean) return [];
    // RESTORE creates a database or table only if missing (src/Backups/RestoreSettings.h
    // create_database/create_table = kCreateIfNotExists) and refuses a non-empty or different
    // table: kindling refuses any backed-up table that exists, as the portable type does
    const present = await existingTables(base, meta, ctx.options.rename);
    return present.map(
      (t) =>
        `table ${t} already exists; restore with --clean to drop it first, or into another name (--database)`,
    );
  },

  async restore(ctx) {
    const meta = metaOf(ctx.record);
    const s = serverBackupSettings(ctx.spec);
    const base = await endpointUrl(ctx.target, ctx.component, ctx.spec);
    const s3 = await serverS3(ctx.target, ctx.component, ctx.spec);
    const url = s3Url(s3.origin, ctx.location.bucket, meta.s3Prefix);
    // --clean drops the backed-up tables only (views first: they read the others), not databases
    if (ctx.options.clean)
      for (const t of [...meta.tables].sort(
        (a, b) => Number(/View$/.test(b.engine)) - Number(/View$/.test(a.engine)),
      ))
        await clickhouseText(
          base,
          `DROP TABLE IF EXISTS ${chIdent(ctx.options.rename.get(t.database) ?? t.database)}.${chIdent(t.table)}`,
        );
    ctx.log(`RESTORE DATABASE ${meta.databases.join(', ')} FROM S3('${url}', …) ASYNC`);
    const id = await startOperation(base, restoreStatement(meta.databases, ctx.options.rename, url, s3));
    await waitForOperation(base, id, 'restore', s.timeoutMs, ctx.log);
    const to = meta.databases.map((d) => {
      const dest = ctx.options.rename.get(d) ?? d;
      return dest === d ? d : `${d} → ${dest}`;
    });
    return [`restored ${to.join(', ')} from ${meta.s3Prefix} (operation ${id})`];
  },

  drillRenames(record) {
    return new Map((metaOf(record)?.databases ?? []).map((d) => [d, drillDatabase(d)]));
  },

  /** The portable type's comparison (row counts and sum(cityHash64(…)) per table), under the source's names. */
  async fingerprint(ctx) {
    const base = await endpointUrl(ctx.target, ctx.component, ctx.spec);
    const out: Fingerprint = new Map();
    const meta = metaOf(ctx.record);
    for (const db of meta.databases) {
      const dest = ctx.rename.get(db) ?? db;
      const tables = meta.tables
        .filter((t) => t.database === db)
        .map((t) => asTableInfo({ ...t, database: dest }));
      if (tables.length === 0) continue;
      for (const [k, v] of await fingerprintOf(base, tables)) out.set(`${db}.${k.slice(dest.length + 1)}`, v);
    }
    return out;
  },
};
