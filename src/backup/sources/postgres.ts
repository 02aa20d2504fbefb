/**
 * `type: postgres` — PostgreSQL, as `pg_dumpall --globals-only` plus one `pg_dump -Fc` per database.
 *
 * Why not one `pg_dumpall`: its plain SQL is one opaque stream that "should not be expected to run
 * without errors" on restore, it cannot restore one database or rename it, and a truncated stream
 * looks like valid SQL. The custom format (`-Fc`) has a header we probe (`PGDMP`), restores one
 * database into any name, supports `pg_restore --list` and selective restore, and pg_restore
 * reads it from a pipe. The globals (roles, tablespaces) — which only pg_dumpall captures — go in
 * their own small artifact. Where the dump is compressed (pg_dump in the pod on kube, the
 * pipeline on local) is decided in pg-compress.ts. As with pg_dumpall, each database has its own
 * snapshot.
 */
import { Readable } from 'node:stream';
import type { BackupSpec, Component } from '../../catalog/types.ts';
import { UsageError } from '../../util/errors.ts';
import type { ArtifactRecord } from '../manifest.ts';
import { type CommandSpec, capture } from '../runner.ts';
import type { BackupSource, Fingerprint, RestoreContext, TargetAccess } from '../types.ts';
import { catalogUser, localEndpoint, podOf, stringListParam, unknownParams } from './common.ts';
import { dumpCompression } from './pg-compress.ts';
import { keepOwnPassword } from './pg-globals.ts';

interface DatabaseInfo {
  name: string;
  encoding: string;
  collate: string;
  ctype: string;
}

/** How to run a PostgreSQL client tool against the component's server, connected to `db`. */
function pgCommand(
  target: TargetAccess,
  component: Component,
  spec: BackupSpec,
  argv: string[],
  db: string,
): CommandSpec {
  if (target.kind === 'kube') {
    // in the pod: the server's own client, over its local socket
    const user = catalogUser(component, spec, 'postgres');
    return {
      argv: [...argv, '-U', user, ...(argv[0] === 'pg_dumpall' ? ['-l', db] : ['-d', db])],
      pod: podOf(component, spec),
    };
  }
  const url = localEndpoint(target, component, spec);
  const env: Record<string, string> = {
    PGHOST: url.hostname.replace(/^\[|\]$/g, ''),
    PGPORT: url.port || '5432',
    PGUSER: decodeURIComponent(url.username) || 'postgres',
    PGDATABASE: db,
    PGAPPNAME: 'kindling',
    PGCONNECT_TIMEOUT: '10',
  };
  if (url.password) env.PGPASSWORD = decodeURIComponent(url.password);
  const sslmode = url.searchParams.get('sslmode');
  if (sslmode) env.PGSSLMODE = sslmode;
  const dbArg = argv[0] === 'pg_dumpall' ? ['-l', db] : argv[0] === 'pg_restore' ? ['-d', db] : [];
  return { argv: [...argv, ...dbArg], env };
}

/** The role kindling connects as: the one whose password must stay the target's. */
function connectingRole(target: TargetAccess, component: Component, spec: BackupSpec): string {
  if (target.kind === 'kube') return catalogUser(component, spec, 'postgres');
  return decodeURIComponent(localEndpoint(target, component, spec).username) || 'postgres';
}

const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;
const literal = (s: string) => `'${s.replace(/'/g, "''")}'`;

type PgCtx = { target: TargetAccess; component: Component; spec: BackupSpec };

/** psql on `db`, quiet and unaligned, stopping at the first error; its output lines. */
async function psqlLines(
  ctx: PgCtx,
  db: string,
  input: { sql: string } | { script: string },
): Promise<string[]> {
  const args = ['psql', '-X', '-q', '-t', '-A', '-v', 'ON_ERROR_STOP=1'];
  const r = await capture(ctx.target.runner, {
    ...pgCommand(ctx.target, ctx.component, ctx.spec, 'sql' in input ? [...args, '-c', input.sql] : args, db),
    stdin: 'script' in input ? Readable.from([Buffer.from(input.script, 'utf8')]) : undefined,
  });
  if (r.exitCode !== 0) throw new Error(`psql on ${db} exited ${r.exitCode}: ${r.stderr.trim()}`);
  return r.stdout.split('\n').filter((l) => l !== '');
}

const query = (ctx: PgCtx, db: string, sql: string) => psqlLines(ctx, db, { sql });

/**
 * `create` unless database `db` exists, in one psql call: `\gexec` runs, as a statement, each
 * value the query before it returns (psql docs, "Meta-Commands"; psql ≥ 9.6), and CREATE DATABASE
 * cannot go in a DO block (it refuses to run inside a transaction block). The query and the
 * meta-command go on stdin: `-c` takes SQL or one backslash command, not both. One psql start
 * (30–40 ms through Debian's pg_wrapper) instead of two on every restore.
 */
async function createDatabaseIfMissing(ctx: PgCtx, mdb: string, db: string, create: string): Promise<void> {
  await psqlLines(ctx, mdb, {
    script: `SELECT ${literal(create)} WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = ${literal(db)})\n\\gexec\n`,
  });
}

const maintenanceDb = (spec: BackupSpec) =>
  typeof spec.maintenanceDatabase === 'string' ? spec.maintenanceDatabase : 'postgres';
const artifactName = (db: string) => `${encodeURIComponent(db)}.pgdump`;

export const postgresSource: BackupSource = {
  type: 'postgres',

  validate(spec) {
    const problems = unknownParams(spec, ['databases', 'pod', 'container', 'maintenanceDatabase']);
    if (spec.databases !== 'all')
      problems.push(
        ...stringListParam(spec, 'databases', true).map((p) => ({
          ...p,
          message: `${p.message} (or "all")`,
        })),
      );
    return problems;
  },

  async backup(ctx) {
    const mdb = maintenanceDb(ctx.spec);
    // independent look-ups, run at once (each is a process start, or an exec round trip on kube)
    const [tool, [serverVersion], rows] = await Promise.all([
      capture(
        ctx.target.runner,
        pgCommand(ctx.target, ctx.component, ctx.spec, ['pg_dump', '--version'], mdb),
      ),
      query(ctx, mdb, 'SHOW server_version'),
      query(
        ctx,
        mdb,
        "SELECT datname || '|' || pg_encoding_to_char(encoding) || '|' || datcollate || '|' || datctype FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY datname",
      ),
    ]);
    if (tool.exitCode !== 0)
      throw new Error(`pg_dump --version exited ${tool.exitCode}: ${tool.stderr.trim()}`);
    const present: DatabaseInfo[] = rows.map((r) => {
      const [name, encoding, collate, ctype] = r.split('|') as [string, string, string, string];
      return { name, encoding, collate, ctype };
    });
    let databases = present;
    if (Array.isArray(ctx.spec.databases)) {
      const wanted = ctx.spec.databases as string[];
      const missing = wanted.filter((w) => !present.some((p) => p.name === w));
      if (missing.length) throw new Error(`database(s) not found on the server: ${missing.join(', ')}`);
      databases = present.filter((p) => wanted.includes(p.name));
    }
    // the globals are tiny: dumped alongside the first database rather than before it
    const globals = ctx.artifact('globals.sql', {
      command: pgCommand(ctx.target, ctx.component, ctx.spec, ['pg_dumpall', '--globals-only'], mdb),
      format: 'sql',
      probe: (head) =>
        head.toString('utf8').includes('PostgreSQL database cluster dump')
          ? undefined
          : 'pg_dumpall output is not a cluster dump',
    });
    globals.catch(() => {}); // handled where it is awaited, below: not an unhandled rejection meanwhile
    const dumped: ArtifactRecord[] = [];
    // on kube, compressed by pg_dump in the pod so fewer bytes cross the exec stream (pg-compress.ts)
    const packing = dumpCompression(ctx.target.kind, tool.stdout);
    try {
      for (const db of databases) {
        ctx.log(`pg_dump ${db.name}`);
        dumped.push(
          await ctx.artifact(artifactName(db.name), {
            command: pgCommand(
              ctx.target,
              ctx.component,
              ctx.spec,
              ['pg_dump', '-Fc', ...packing.args],
              db.name,
            ),
            format: 'pg_dump-custom',
            compression: packing.pipeline,
            meta: { database: db.name, dumpCompression: packing.inDump },
            probe: (head) =>
              head.subarray(0, 5).toString('latin1') === 'PGDMP'
                ? undefined
                : 'pg_dump output has no PGDMP header (not a custom-format dump)',
          }),
        );
      }
    } catch (err) {
      // never leave an upload running behind a failed component
      await globals.catch(() => {});
      throw err;
    }
    const artifacts = [await globals, ...dumped];
    return { artifacts, serverVersion, toolVersion: tool.stdout.trim(), meta: { databases } };
  },

  async preflightRestore(ctx) {
    const problems: string[] = [];
    const mdb = maintenanceDb(ctx.spec);
    for (const a of dumps(ctx)) {
      const dest = destName(ctx, a);
      const exists = await query(ctx, mdb, `SELECT 1 FROM pg_database WHERE datname = ${literal(dest)}`);
      if (exists.length === 0) continue;
      const tables = await query(
        ctx,
        dest,
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r','p','v','m','S') AND n.nspname NOT IN ('pg_catalog','information_schema') AND n.nspname NOT LIKE 'pg_toast%'",
      );
      if (Number(tables[0]) > 0 && !ctx.options.clean)
        problems.push(
          `database "${dest}" already exists and is not empty; restore with --clean to replace its objects, or rename with --database ${a.meta?.database}=NEW`,
        );
    }
    return problems;
  },

  async restore(ctx) {
    const notes: string[] = [];
    const mdb = maintenanceDb(ctx.spec);
    const globals = ctx.record.artifacts.find((a) => a.format === 'sql');
    if (globals && !ctx.options.noGlobals) {
      ctx.log('restoring roles and tablespaces (globals.sql)');
      // small (roles and tablespaces): read whole and re-hashed before anything is replayed
      const chunks: Buffer[] = [];
      for await (const c of await ctx.open(globals)) chunks.push(c as Buffer);
      await ctx.verified(globals);
      const own = connectingRole(ctx.target, ctx.component, ctx.spec);
      const { sql, kept } = keepOwnPassword(Buffer.concat(chunks).toString('utf8'), own);
      if (kept) notes.push(`globals: role "${own}" keeps this server's password (kindling connects as it)`);
      const r = await capture(ctx.target.runner, {
        ...pgCommand(ctx.target, ctx.component, ctx.spec, ['psql', '-X', '-q', '-v', 'ON_ERROR_STOP=0'], mdb),
        stdin: Readable.from([Buffer.from(sql, 'utf8')]),
      });
      if (r.exitCode !== 0) throw new Error(`psql (globals) exited ${r.exitCode}: ${r.stderr.trim()}`);
      // pg_dumpall output re-creates roles that usually exist already: expected, not a failure
      const other = r.stderr.split('\n').filter((l) => /ERROR/.test(l) && !/already exists/.test(l));
      if (other.length) notes.push(`globals: ${other.length} error(s), e.g. ${other[0]}`);
    }
    for (const a of dumps(ctx)) {
      const src = String(a.meta?.database);
      const dest = destName(ctx, a);
      const info = ((ctx.record.meta?.databases ?? []) as DatabaseInfo[]).find((d) => d.name === src);
      const opts = info
        ? ` TEMPLATE template0 ENCODING ${literal(info.encoding)} LC_COLLATE ${literal(info.collate)} LC_CTYPE ${literal(info.ctype)}`
        : ' TEMPLATE template0';
      await createDatabaseIfMissing(ctx, mdb, dest, `CREATE DATABASE ${ident(dest)}${opts}`);
      ctx.log(`pg_restore ${src} → ${dest}`);
      const args = ['pg_restore', '--exit-on-error', '--no-password'];
      if (ctx.options.clean) args.push('--clean', '--if-exists');
      if (ctx.options.noGlobals) args.push('--no-owner', '--no-acl');
      const stdin = await ctx.open(a);
      const r = await capture(ctx.target.runner, {
        ...pgCommand(ctx.target, ctx.component, ctx.spec, args, dest),
        stdin,
      });
      // pg_restore --exit-on-error exits at the first failed SQL command (PostgreSQL docs,
      // "pg_restore", --exit-on-error), its input unread: its message is the one to give
      if (r.exitCode !== 0)
        throw new Error(`pg_restore into ${dest} exited ${r.exitCode}: ${r.stderr.trim()}`);
      await ctx.verified(a);
    }
    return notes;
  },

  async fingerprint(ctx) {
    const out: Fingerprint = new Map();
    for (const a of ctx.record.artifacts.filter((x) => x.format === 'pg_dump-custom')) {
      const src = String(a.meta?.database);
      const db = ctx.rename.get(src) ?? src;
      const rows = await query(
        ctx,
        db,
        "SELECT format('%I.%I', table_schema, table_name) || '|' || (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I', table_schema, table_name), false, true, '')))[1]::text FROM information_schema.tables WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1",
      );
      out.set(`${src}: tables`, String(rows.length));
      for (const r of rows) {
        const i = r.lastIndexOf('|');
        out.set(`${src}: ${r.slice(0, i)} rows`, r.slice(i + 1));
      }
    }
    return out;
  },
};

function dumps(ctx: RestoreContext): ArtifactRecord[] {
  return ctx.record.artifacts.filter((a) => a.format === 'pg_dump-custom');
}

function destName(ctx: RestoreContext, a: ArtifactRecord): string {
  const src = String(a.meta?.database);
  const dest = ctx.options.rename.get(src) ?? src;
  if (!dest) throw new UsageError(`--database ${src}=: empty destination name`);
  return dest;
}
