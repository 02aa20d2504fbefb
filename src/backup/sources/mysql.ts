/**
 * `type: mysql` — MySQL (and MariaDB) as one `mysqldump` of every user database.
 *
 * One invocation over all databases (`--databases a b …`) with `--single-transaction`: a single
 * consistent InnoDB snapshot across them, without locking (MySQL reference manual, "mysqldump":
 * --single-transaction "dumps the consistent state of the database at the time when START
 * TRANSACTION was issued without blocking any applications"). `--routines --events --triggers`
 * keep stored code; `--hex-blob` keeps binary columns byte-exact; `--default-character-set=utf8mb4`
 * keeps 4-byte UTF-8 (emoji); `--no-tablespaces` avoids needing the PROCESS privilege (MySQL
 * 8.0.21+). Restore feeds the dump to `mysql`; databases keep their names (the dump is one
 * transaction's view, so it is not split to rename one database).
 *
 * Target local: the tools run here against `--endpoint nacos-mysql=mysql://USER:PASS@HOST:PORT/`
 * (password in `MYSQL_PWD`, never in argv). Target kube: they run in the pod over its socket, as
 * the official image's docs show (docker-library/docs `mysql/content.md`, "Creating database
 * dumps": `docker exec … sh -c 'exec mysqldump … -uroot -p"$MYSQL_ROOT_PASSWORD"'`), with the
 * password taken from the pod's own environment variable `passwordEnv`.
 */
import type { BackupSpec, Component } from '../../catalog/types.ts';
import { type CommandSpec, capture } from '../runner.ts';
import type { BackupSource, Fingerprint, TargetAccess } from '../types.ts';
import { localEndpoint, optionalStringParam, podOf, stringListParam, unknownParams } from './common.ts';

/** Schemas of the server itself, never dumped as user data. */
const SYSTEM_SCHEMAS = ['mysql', 'information_schema', 'performance_schema', 'sys'];
const MYSQL_CONNECT_TIMEOUT_S = 10;

type Tool = 'mysql' | 'mysqldump';
interface Ctx {
  target: TargetAccess;
  component: Component;
  spec: BackupSpec;
}

const param = (spec: BackupSpec, key: string, fallback: string) =>
  typeof spec[key] === 'string' ? (spec[key] as string) : fallback;

/** How to run a MySQL client tool against the component's server. */
export function mysqlCommand(ctx: Ctx, tool: Tool, args: readonly string[]): CommandSpec {
  const { target, component, spec } = ctx;
  const common = ['--default-character-set=utf8mb4'];
  if (tool === 'mysql') common.push(`--connect-timeout=${MYSQL_CONNECT_TIMEOUT_S}`);
  if (target.kind === 'kube') {
    const user = param(spec, 'user', 'root');
    const env = param(spec, 'passwordEnv', 'MYSQL_ROOT_PASSWORD');
    return {
      // the password stays in the pod: read from its environment, handed over in MYSQL_PWD
      argv: [
        'sh',
        '-c',
        `export MYSQL_PWD="$${env}"; exec "$@"`,
        tool,
        tool,
        `-u${user}`,
        ...common,
        ...args,
      ],
      pod: podOf(component, spec),
      container: typeof spec.container === 'string' ? spec.container : undefined,
    };
  }
  const url = localEndpoint(target, component, spec);
  const env: Record<string, string> = {};
  if (url.password) env.MYSQL_PWD = decodeURIComponent(url.password);
  return {
    argv: [
      tool,
      '--protocol=TCP',
      '-h',
      url.hostname.replace(/^\[|\]$/g, ''),
      '-P',
      url.port || '3306',
      `-u${decodeURIComponent(url.username) || 'root'}`,
      ...common,
      ...args,
    ],
    env,
  };
}

export const ident = (s: string) => `\`${s.replace(/`/g, '``')}\``;
const literal = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;

/** Runs SQL with `mysql -N -B`: tab-separated rows without a header. */
async function query(ctx: Ctx, sql: string): Promise<string[][]> {
  const r = await capture(ctx.target.runner, mysqlCommand(ctx, 'mysql', ['-N', '-B', '-e', sql]));
  if (r.exitCode !== 0) throw new Error(`mysql exited ${r.exitCode}: ${r.stderr.trim()}`);
  return r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split('\t'));
}

async function userDatabases(ctx: Ctx): Promise<string[]> {
  const rows = await query(
    ctx,
    `SELECT schema_name FROM information_schema.schemata WHERE schema_name NOT IN (${SYSTEM_SCHEMAS.map(literal).join(', ')}) ORDER BY schema_name`,
  );
  return rows.map((r) => r[0]!);
}

/** The dump's first lines: MySQL writes `-- MySQL dump`, MariaDB `-- MariaDB dump` (after a sandbox line). */
export function probeMysqlDump(head: Buffer): string | undefined {
  return /^-- (MySQL|MariaDB) dump /m.test(head.toString('utf8'))
    ? undefined
    : 'mysqldump output has no "-- MySQL dump" header (not a dump)';
}

/** `db.table` → row count and CHECKSUM TABLE value; routines, triggers and events per database. */
async function fingerprintOf(ctx: Ctx, databases: readonly string[]): Promise<Fingerprint> {
  const out: Fingerprint = new Map();
  for (const db of databases) {
    const tables = (
      await query(
        ctx,
        `SELECT table_name FROM information_schema.tables WHERE table_schema = ${literal(db)} AND table_type = 'BASE TABLE' ORDER BY table_name`,
      )
    ).map((r) => r[0]!);
    out.set(`${db}: tables`, String(tables.length));
    const code = await query(
      ctx,
      `SELECT (SELECT COUNT(*) FROM information_schema.routines WHERE routine_schema = ${literal(db)}), (SELECT COUNT(*) FROM information_schema.triggers WHERE trigger_schema = ${literal(db)}), (SELECT COUNT(*) FROM information_schema.events WHERE event_schema = ${literal(db)})`,
    );
    const [routines, triggers, events] = code[0] ?? [];
    out.set(`${db}: routines`, String(routines));
    out.set(`${db}: triggers`, String(triggers));
    out.set(`${db}: events`, String(events));
    if (tables.length === 0) continue;
    // one round trip per database: counts, then CHECKSUM TABLE (`db.t<TAB>checksum` rows)
    const sql = [
      tables.map((t) => `SELECT ${literal(t)}, COUNT(*) FROM ${ident(db)}.${ident(t)}`).join(' UNION ALL '),
      `CHECKSUM TABLE ${tables.map((t) => `${ident(db)}.${ident(t)}`).join(', ')}`,
    ].join('; ');
    const rows = await query(ctx, sql);
    for (const [name, value] of rows.slice(0, tables.length)) out.set(`${db}: ${name} rows`, String(value));
    for (const [name, value] of rows.slice(tables.length)) {
      const table = String(name).slice(db.length + 1);
      out.set(`${db}: ${table} checksum`, String(value));
    }
  }
  return out;
}

export const mysqlSource: BackupSource = {
  type: 'mysql',

  validate(spec) {
    const problems = [
      ...unknownParams(spec, ['databases', 'pod', 'container', 'user', 'passwordEnv']),
      ...optionalStringParam(spec, 'pod'),
      ...optionalStringParam(spec, 'container'),
      ...optionalStringParam(spec, 'user'),
      ...optionalStringParam(spec, 'passwordEnv'),
    ];
    if (spec.passwordEnv !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(String(spec.passwordEnv)))
      problems.push({ path: ['passwordEnv'], message: 'must be an environment variable name' });
    if (spec.databases !== undefined && spec.databases !== 'all')
      problems.push(
        ...stringListParam(spec, 'databases', false).map((p) => ({
          ...p,
          message: `${p.message} (or "all")`,
        })),
      );
    return problems;
  },

  async backup(ctx) {
    const [tool, version, present] = await Promise.all([
      capture(ctx.target.runner, mysqlCommand(ctx, 'mysqldump', ['--version'])),
      query(ctx, 'SELECT VERSION()'),
      userDatabases(ctx),
    ]);
    if (tool.exitCode !== 0)
      throw new Error(`mysqldump --version exited ${tool.exitCode}: ${tool.stderr.trim()}`);
    let databases = present;
    if (Array.isArray(ctx.spec.databases)) {
      const wanted = ctx.spec.databases as string[];
      const missing = wanted.filter((w) => !present.includes(w));
      if (missing.length) throw new Error(`database(s) not found on the server: ${missing.join(', ')}`);
      databases = wanted;
    }
    if (databases.length === 0) throw new Error('the server has no user database to back up');
    ctx.log(`mysqldump --single-transaction of ${databases.join(', ')}`);
    const artifact = await ctx.artifact('dump.sql', {
      command: mysqlCommand(ctx, 'mysqldump', [
        '--single-transaction',
        '--routines',
        '--events',
        '--triggers',
        '--hex-blob',
        '--no-tablespaces',
        '--databases',
        ...databases,
      ]),
      format: 'mysqldump-sql',
      meta: { databases },
      probe: probeMysqlDump,
    });
    return {
      artifacts: [artifact],
      serverVersion: version[0]?.[0],
      toolVersion: tool.stdout.trim(),
      meta: { databases },
    };
  },

  async preflightRestore(ctx) {
    const databases = (ctx.record.meta?.databases ?? []) as string[];
    const problems: string[] = [];
    const renamed = databases.filter((d) => ctx.options.rename.has(d));
    if (renamed.length)
      problems.push(
        `--database cannot rename ${renamed.join(', ')}: a MySQL backup is one consistent dump of all its databases and restores them under their own names`,
      );
    if (ctx.options.clean) return problems;
    const present = new Set(await userDatabases(ctx));
    for (const db of databases.filter((d) => present.has(d))) {
      const [[n] = ['0']] = await query(
        ctx,
        `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = ${literal(db)}`,
      );
      if (Number(n) > 0)
        problems.push(`database "${db}" already exists and is not empty; restore with --clean to replace it`);
    }
    return problems;
  },

  async restore(ctx) {
    const artifact = ctx.record.artifacts.find((a) => a.format === 'mysqldump-sql');
    if (!artifact) throw new Error('the manifest has no mysqldump artifact');
    const databases = (ctx.record.meta?.databases ?? []) as string[];
    if (ctx.options.clean && databases.length)
      await query(ctx, databases.map((d) => `DROP DATABASE IF EXISTS ${ident(d)}`).join('; '));
    ctx.log(`mysql < ${artifact.name} (${databases.join(', ')})`);
    const stdin = await ctx.open(artifact);
    const r = await capture(ctx.target.runner, { ...mysqlCommand(ctx, 'mysql', []), stdin });
    // without --force, mysql stops at the first failed statement (MySQL reference manual,
    // "mysql Client Options", --force), its input unread: its message is the one to give
    if (r.exitCode !== 0) throw new Error(`mysql (restore) exited ${r.exitCode}: ${r.stderr.trim()}`);
    await ctx.verified(artifact);
    return [];
  },

  async fingerprint(ctx) {
    return fingerprintOf(ctx, (ctx.record.meta?.databases ?? []) as string[]);
  },
};
