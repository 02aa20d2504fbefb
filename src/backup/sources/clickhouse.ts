/**
 * `type: clickhouse` — portable: every table's schema (`SHOW CREATE TABLE`) and its data in the
 * Native format (`SELECT * … FORMAT Native`, restored with `INSERT … FORMAT Native`), through the
 * HTTP interface only. Native is ClickHouse's own columnar wire format, exact for every type and
 * read and written by the old 18.16 server our machines have as well as the pinned 24.8 (which
 * also has `BACKUP … TO S3`: type clickhouse-server-backup, which reuses listTables/fingerprintOf).
 *
 * ClickHouse has no multi-table transactions: each table is read as of its own query. Data is
 * read with `wait_end_of_query=1`, so a query failing half-way is an HTTP error, not a truncated
 * 200 (ClickHouse docs, "HTTP Interface": response buffering). Views are restored after the
 * tables; a materialized view's hidden `.inner` table is not copied (its `TO` table is, if any).
 * No exec: works on any image, over a port-forward on target kube.
 */
import type { Writable } from 'node:stream';
import type { ArtifactRecord } from '../manifest.ts';
import { DEFAULT_DUMP_IDLE_TIMEOUT_MS, dumpIdleTimeoutFromEnv } from '../pipeline.ts';
import type { BackupContext, BackupSource, Fingerprint, RestoreContext } from '../types.ts';
import { chIdent, chLiteral, clickhouseStream, clickhouseText, tsvRows } from './clickhouse-http.ts';
import { stringListParam, unknownParams } from './common.ts';
import { endpointUrl } from './endpoint.ts';

const SYSTEM_DATABASES = ['system', 'INFORMATION_SCHEMA', 'information_schema'];
/** Engines that hold rows of their own, which SELECT reads and INSERT writes. */
const DATA_ENGINE = /MergeTree$|^(Log|TinyLog|StripeLog|Memory)$/;

export interface TableInfo {
  database: string;
  table: string;
  engine: string;
  create: string;
  /** Rows when backed up (0 = no data artifact). */
  rows: number;
}

/** Bound for calls whose answer comes only at their end (a whole table's SELECT or INSERT). */
const longMs = () => dumpIdleTimeoutFromEnv() || DEFAULT_DUMP_IDLE_TIMEOUT_MS;

const full = (t: { database: string; table: string }) => `${chIdent(t.database)}.${chIdent(t.table)}`;
const dataName = (t: { database: string; table: string }) =>
  `${encodeURIComponent(t.database)}.${encodeURIComponent(t.table)}.native`;

/** Views after tables, so what a view reads exists when it is created (pure). */
export function restoreOrder(tables: readonly TableInfo[]): TableInfo[] {
  const isView = (t: TableInfo) => /View$/.test(t.engine);
  return [...tables.filter((t) => !isView(t)), ...tables.filter(isView)];
}

export async function listTables(
  base: URL,
  databases: 'all' | readonly string[],
): Promise<Omit<TableInfo, 'create' | 'rows'>[]> {
  const where =
    databases === 'all'
      ? `database NOT IN (${SYSTEM_DATABASES.map(chLiteral).join(', ')})`
      : `database IN (${databases.map(chLiteral).join(', ')})`;
  const rows = tsvRows(
    await clickhouseText(
      base,
      `SELECT database, name, engine FROM system.tables WHERE ${where} AND NOT startsWith(name, '.inner') ORDER BY database, name FORMAT TabSeparated`,
    ),
  );
  return rows.map(([database, table, engine]) => ({ database: database!, table: table!, engine: engine! }));
}

async function showCreate(base: URL, t: { database: string; table: string }): Promise<string> {
  const json = JSON.parse(await clickhouseText(base, `SHOW CREATE TABLE ${full(t)} FORMAT JSON`)) as {
    data: { statement: string }[];
  };
  const statement = json.data[0]?.statement;
  if (!statement) throw new Error(`SHOW CREATE TABLE ${t.database}.${t.table} returned nothing`);
  return statement;
}

const count = async (base: URL, t: { database: string; table: string }) =>
  Number((await clickhouseText(base, `SELECT count() FROM ${full(t)} FORMAT TabSeparated`)).trim());

/** Streams an answer into the artifact's stdout, ending it whatever happens (the pipeline waits for the end). */
async function pump(
  stdout: Writable,
  open: () => Promise<AsyncIterable<unknown> | Iterable<unknown>>,
): Promise<{ exitCode: number; stderr: string }> {
  try {
    for await (const chunk of await open()) {
      if (!stdout.write(chunk as Buffer)) await new Promise((r) => stdout.once('drain', r));
    }
    return { exitCode: 0, stderr: '' };
  } catch (err) {
    return { exitCode: 1, stderr: (err as Error).message };
  } finally {
    stdout.end();
  }
}

export async function fingerprintOf(base: URL, tables: readonly TableInfo[]): Promise<Fingerprint> {
  const out: Fingerprint = new Map();
  const present = new Set(
    tsvRows(
      await clickhouseText(
        base,
        `SELECT database, name FROM system.tables WHERE database IN (${[...new Set(tables.map((t) => t.database))].map(chLiteral).join(', ') || "''"}) FORMAT TabSeparated`,
      ),
    ).map(([d, n]) => `${d}.${n}`),
  );
  for (const t of tables) {
    const name = `${t.database}.${t.table}`;
    if (!present.has(name)) {
      out.set(`${name} exists`, 'no');
      continue;
    }
    out.set(`${name} exists`, 'yes');
    if (!DATA_ENGINE.test(t.engine)) continue;
    const columns = tsvRows(
      await clickhouseText(
        base,
        `SELECT name FROM system.columns WHERE database = ${chLiteral(t.database)} AND table = ${chLiteral(t.table)} ORDER BY name FORMAT TabSeparated`,
      ),
    ).map((r) => chIdent(r[0]!));
    // an order-independent digest of every row: the sum of each row's cityHash64 (wrapping UInt64)
    const [[rows, sum] = ['0', '0']] = tsvRows(
      await clickhouseText(
        base,
        `SELECT count(), sum(cityHash64(${columns.join(', ')})) FROM ${full(t)} FORMAT TabSeparated`,
      ),
    );
    out.set(`${name} rows`, String(rows));
    out.set(`${name} checksum`, String(sum));
  }
  return out;
}

export const clickhouseSource: BackupSource = {
  type: 'clickhouse',

  validate(spec) {
    const problems = unknownParams(spec, ['databases']);
    if (spec.databases !== undefined && spec.databases !== 'all')
      problems.push(
        ...stringListParam(spec, 'databases', false).map((p) => ({
          ...p,
          message: `${p.message} (or "all")`,
        })),
      );
    return problems;
  },

  async backup(ctx: BackupContext) {
    const base = await endpointUrl(ctx.target, ctx.component, ctx.spec);
    const version = (await clickhouseText(base, 'SELECT version() FORMAT TabSeparated')).trim();
    const wanted = Array.isArray(ctx.spec.databases) ? (ctx.spec.databases as string[]) : 'all';
    const listed = await listTables(base, wanted);
    if (Array.isArray(wanted)) {
      const missing = wanted.filter((d) => !listed.some((t) => t.database === d));
      if (missing.length) throw new Error(`database(s) with no tables on the server: ${missing.join(', ')}`);
    }
    const tables: TableInfo[] = [];
    for (const t of listed)
      tables.push({
        ...t,
        create: await showCreate(base, t),
        rows: DATA_ENGINE.test(t.engine) ? await count(base, t) : 0,
      });
    const schemaText = `${JSON.stringify(tables, null, 2)}\n`;
    const schema = await ctx.artifact('schema.json', {
      description: `SHOW CREATE TABLE of ${tables.length} table(s) (${base.origin})`,
      produce: async (stdout) => pump(stdout, async () => [Buffer.from(schemaText)]),
      format: 'clickhouse-schema',
    });
    const data: ArtifactRecord[] = [];
    for (const t of tables.filter((x) => x.rows > 0)) {
      ctx.log(`${t.database}.${t.table}: ${t.rows} row(s), FORMAT Native`);
      data.push(
        await ctx.artifact(dataName(t), {
          description: `SELECT * FROM ${t.database}.${t.table} FORMAT Native (${base.origin})`,
          produce: (stdout, signal) =>
            pump(stdout, () =>
              clickhouseStream(base, `SELECT * FROM ${full(t)} FORMAT Native`, {
                signal,
                settings: { wait_end_of_query: '1' },
                // the answer starts only once the whole query ran: the dump's idle bound, not 30 s
                timeoutMs: longMs(),
              }),
            ),
          format: 'clickhouse-native',
          meta: { database: t.database, table: t.table, rows: t.rows },
        }),
      );
    }
    return {
      artifacts: [schema, ...data],
      serverVersion: version,
      toolVersion: 'ClickHouse HTTP interface (FORMAT Native)',
      meta: { tables: tables.map(({ create: _c, ...t }) => t) },
    };
  },

  async preflightRestore(ctx) {
    if (ctx.options.rename.size) return ['--database renames are not supported for ClickHouse backups'];
    if (ctx.options.clean) return [];
    const base = await endpointUrl(ctx.target, ctx.component, ctx.spec);
    const tables = (ctx.record.meta?.tables ?? []) as TableInfo[];
    const fp = await fingerprintOf(base, tables);
    return tables
      .filter((t) => fp.get(`${t.database}.${t.table} exists`) === 'yes')
      .map(
        (t) => `table ${t.database}.${t.table} already exists; restore with --clean to drop and re-create it`,
      );
  },

  async restore(ctx: RestoreContext) {
    const base = await endpointUrl(ctx.target, ctx.component, ctx.spec);
    const schemaArtifact = ctx.record.artifacts.find((a) => a.format === 'clickhouse-schema');
    if (!schemaArtifact) throw new Error('the manifest has no ClickHouse schema artifact');
    const chunks: Buffer[] = [];
    for await (const c of await ctx.open(schemaArtifact)) chunks.push(c as Buffer);
    await ctx.verified(schemaArtifact);
    const tables = restoreOrder(JSON.parse(Buffer.concat(chunks).toString('utf8')) as TableInfo[]);
    for (const db of new Set(tables.map((t) => t.database)))
      await clickhouseText(base, `CREATE DATABASE IF NOT EXISTS ${chIdent(db)}`);
    if (ctx.options.clean)
      for (const t of [...tables].reverse()) await clickhouseText(base, `DROP TABLE IF EXISTS ${full(t)}`);
    for (const t of tables) await clickhouseText(base, t.create);
    let rows = 0;
    for (const a of ctx.record.artifacts.filter((x) => x.format === 'clickhouse-native')) {
      const t = { database: String(a.meta?.database), table: String(a.meta?.table) };
      ctx.log(`INSERT INTO ${t.database}.${t.table} FORMAT Native`);
      await clickhouseText(base, `INSERT INTO ${full(t)} FORMAT Native`, {
        body: await ctx.open(a),
        timeoutMs: longMs(),
      });
      await ctx.verified(a);
      rows += Number(a.meta?.rows ?? 0);
    }
    ctx.log(`restored ${tables.length} table(s), ${rows} row(s)`);
    return [];
  },

  async fingerprint(ctx) {
    const base = await endpointUrl(ctx.target, ctx.component, ctx.spec);
    return fingerprintOf(base, (ctx.record.meta?.tables ?? []) as TableInfo[]);
  },
};
