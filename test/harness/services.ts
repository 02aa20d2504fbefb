/**
 * Real servers for integration tests: each start function launches a throwaway instance on a free
 * loopback port in a temp directory and returns how to reach and stop it.
 *
 * A service whose binary is missing is reported as a skipped suite with the reason — except
 * under CI (CI=true), where a missing service is a failure (`.ci/run` installs them all).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'vitest';

export type ServiceName =
  | 'postgres'
  | 'redis'
  | 'etcd'
  | 'prometheus'
  | 'alertmanager'
  | 'clickhouse'
  | 'kafka-mock'
  /** The Debian exporters (prometheus-postgres-exporter 0.11, prometheus-redis-exporter 1.45). */
  | 'postgres-exporter'
  | 'redis-exporter'
  | 's3'
  /** MariaDB 10.11 (Debian `mariadb-server`), the MySQL stand-in for Nacos' configuration store. */
  | 'mariadb'
  /** Not a server: the reference zstd implementation, for interop checks of kindling's frames. */
  | 'zstd-cli'
  /** Not a server: openssl, to generate the test PKI of the https API stand-in (test/standins/certs.ts). */
  | 'openssl-cli';

const PG_BIN = '/usr/lib/postgresql/15/bin';
const BINARIES: Record<ServiceName, string[]> = {
  postgres: [`${PG_BIN}/initdb`, `${PG_BIN}/pg_ctl`],
  redis: ['redis-server'],
  etcd: ['etcd', 'etcdctl'],
  prometheus: ['prometheus', 'promtool'],
  alertmanager: ['prometheus-alertmanager'],
  clickhouse: ['clickhouse-server'],
  'kafka-mock': ['kcat'],
  'postgres-exporter': ['prometheus-postgres-exporter'],
  'redis-exporter': ['prometheus-redis-exporter'],
  s3: [],
  mariadb: ['mariadbd', 'mariadb-install-db', 'mariadb', 'mariadb-dump'],
  'zstd-cli': ['zstd'],
  'openssl-cli': ['openssl'],
};

export const isCI = process.env.CI === 'true' || process.env.CI === '1';

function onPath(bin: string): boolean {
  if (bin.startsWith('/')) return existsSync(bin);
  return (process.env.PATH ?? '').split(':').some((d) => d && existsSync(join(d, bin)));
}

/** Services among `names` whose binaries are not installed. */
export function missingServices(names: readonly ServiceName[]): ServiceName[] {
  return names.filter((n) => !BINARIES[n].every(onPath));
}

/**
 * `describe` for a suite that needs real services. Missing services skip it with the reason in
 * its title; under CI they fail it instead.
 */
export function describeWithServices(title: string, services: readonly ServiceName[], fn: () => void): void {
  const missing = missingServices(services);
  if (missing.length === 0) {
    describe(title, fn);
    return;
  }
  const reason = `needs ${missing.join(', ')} (not installed; .ci/run installs them with apt)`;
  if (isCI) {
    describe(title, () => {
      it(`has its services installed`, () => {
        throw new Error(`CI=true and ${reason}`);
      });
    });
    return;
  }
  describe.skip(`${title} — skipped: ${reason}`, fn);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `kindling-${prefix}-`));
}

export async function waitFor(
  what: string,
  ok: () => Promise<boolean> | boolean,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    try {
      if (await ok()) return;
    } catch (err) {
      lastErr = err;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} did not become ready in ${timeoutMs} ms${lastErr ? `: ${String(lastErr)}` : ''}`);
}

async function tcpOpen(port: number): Promise<boolean> {
  const { connect } = await import('node:net');
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function httpOk(url: string): Promise<boolean> {
  const res = await fetch(url).catch(() => undefined);
  return res?.status === 200;
}

export interface Running {
  port: number;
  dir: string;
  /** Stops the server (idempotent) and removes its directory. */
  stop(): Promise<void>;
  /** Kills the server at once with SIGKILL (for fault tests); the directory stays until stop(). */
  kill(): void;
  process?: ChildProcess;
}

function track(child: ChildProcess, dir: string, port: number, extraStop?: () => void): Running {
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    extraStop?.();
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  return { port, dir, stop, kill: () => child.kill('SIGKILL'), process: child };
}

function spawnQuiet(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; uid?: number; gid?: number } = {},
): ChildProcess {
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], ...opts });
  child.stderr?.setEncoding('utf8');
  let tail = '';
  child.stderr?.on('data', (d: string) => {
    tail = (tail + d).slice(-4000);
  });
  (child as ChildProcess & { stderrTail: () => string }).stderrTail = () => tail;
  return child;
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL 15 (root cannot run it, so run as the `postgres` user when we are root)

export interface RunningPostgres extends Running {
  /** `postgresql://postgres@127.0.0.1:PORT/postgres` (trust auth unless a password was set). */
  url: string;
  /** URL for one database. */
  urlFor(db: string, password?: string): string;
  bin: string;
}

const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;

function runPg(bin: string, args: string[]): void {
  const cmd = asRoot ? 'runuser' : `${PG_BIN}/${bin}`;
  const argv = asRoot ? ['-u', 'postgres', '--', `${PG_BIN}/${bin}`, ...args] : args;
  execFileSync(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * Starts PostgreSQL 15. With `password`, the `postgres` role gets it and TCP connections must
 * use it (scram); without, connections are trusted.
 */
export async function startPostgres(opts: { password?: string } = {}): Promise<RunningPostgres> {
  const dir = tempDir('pg');
  const data = join(dir, 'data');
  chmodSync(dir, 0o777);
  if (asRoot) chownSync(dir, uid('postgres'), gid('postgres'));
  const port = await freePort();
  const initArgs = ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8'];
  runPg('initdb', initArgs);
  if (opts.password) {
    writeFileSync(join(dir, 'pw'), opts.password);
    if (asRoot) chownSync(join(dir, 'pw'), uid('postgres'), gid('postgres'));
    // local socket stays trusted (for the harness); TCP needs the password
    const hba = `local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\nhost all all ::1/128 scram-sha-256\n`;
    writeFileSync(join(data, 'pg_hba.conf'), hba);
    if (asRoot) chownSync(join(data, 'pg_hba.conf'), uid('postgres'), gid('postgres'));
  }
  const log = join(dir, 'log');
  runPg('pg_ctl', [
    '-D',
    data,
    '-l',
    log,
    '-o',
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`,
    '-w',
    'start',
  ]);
  if (opts.password) {
    execFileSync('psql', [
      '-h',
      dir,
      '-p',
      String(port),
      '-U',
      'postgres',
      '-d',
      'postgres',
      '-qc',
      `ALTER ROLE postgres PASSWORD '${opts.password.replace(/'/g, "''")}'`,
    ]);
  }
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    try {
      runPg('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']);
    } catch {
      // already stopped
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const cred = opts.password ? `postgres:${encodeURIComponent(opts.password)}@` : 'postgres@';
  return {
    port,
    dir,
    bin: PG_BIN,
    url: `postgresql://${cred}127.0.0.1:${port}/postgres`,
    urlFor: (db, password = opts.password) =>
      `postgresql://postgres${password ? `:${encodeURIComponent(password)}` : ''}@127.0.0.1:${port}/${db}`,
    stop,
    kill: () => {
      try {
        runPg('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']);
      } catch {
        // already stopped
      }
    },
  };
}

function uid(user: string): number {
  return Number(execFileSync('id', ['-u', user]).toString().trim());
}
function gid(user: string): number {
  return Number(execFileSync('id', ['-g', user]).toString().trim());
}

/** Runs SQL through psql on the instance's socket as `postgres` (the harness's back door). */
export function psql(pg: RunningPostgres, sql: string, db = 'postgres'): string {
  return execFileSync(
    'psql',
    ['-h', pg.dir, '-p', String(pg.port), '-U', 'postgres', '-d', db, '-v', 'ON_ERROR_STOP=1', '-qAtc', sql],
    {
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    },
  );
}

// ---------------------------------------------------------------------------------------------
// Redis 7

export interface RunningRedis extends Running {
  url: string;
}

/** redis-server's argv for a throwaway instance; later `config` flags override the defaults. */
export function redisServerArgs(port: number, dir: string, config: readonly string[] = []): string[] {
  return [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    'no',
    ...config,
  ];
}

export async function startRedis(opts: { password?: string; config?: string[] } = {}): Promise<RunningRedis> {
  const dir = tempDir('redis');
  const port = await freePort();
  const args = redisServerArgs(port, dir, opts.config);
  if (opts.password) args.push('--requirepass', opts.password);
  const child = spawnQuiet('redis-server', args);
  await waitFor('redis', () => tcpOpen(port));
  const cred = opts.password ? `:${encodeURIComponent(opts.password)}@` : '';
  return { ...track(child, dir, port), url: `redis://${cred}127.0.0.1:${port}` };
}

// ---------------------------------------------------------------------------------------------
// etcd 3.4

export interface RunningEtcd extends Running {
  url: string;
}

export async function startEtcd(): Promise<RunningEtcd> {
  const dir = tempDir('etcd');
  const port = await freePort();
  const peer = await freePort();
  const child = spawnQuiet('etcd', [
    '--data-dir',
    join(dir, 'data'),
    '--listen-client-urls',
    `http://127.0.0.1:${port}`,
    '--advertise-client-urls',
    `http://127.0.0.1:${port}`,
    '--listen-peer-urls',
    `http://127.0.0.1:${peer}`,
    '--initial-advertise-peer-urls',
    `http://127.0.0.1:${peer}`,
    '--initial-cluster',
    `default=http://127.0.0.1:${peer}`,
  ]);
  await waitFor('etcd', () => httpOk(`http://127.0.0.1:${port}/health`));
  return { ...track(child, dir, port), url: `http://127.0.0.1:${port}` };
}

// ---------------------------------------------------------------------------------------------
// Prometheus 2.42 and Alertmanager 0.25

export interface RunningHttp extends Running {
  url: string;
}

/** Starts Prometheus scraping `targets` (host:port) every second; `[]` scrapes only itself. */
export async function startPrometheus(opts: { targets?: string[] } = {}): Promise<RunningHttp> {
  const dir = tempDir('prom');
  const port = await freePort();
  const targets = opts.targets ?? [`127.0.0.1:${port}`];
  const config = `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: stack\n    static_configs:\n      - targets: [${targets.map((t) => `'${t}'`).join(', ')}]\n`;
  writeFileSync(join(dir, 'prometheus.yml'), config);
  const child = spawnQuiet('prometheus', [
    `--config.file=${join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
  ]);
  await waitFor('prometheus', () => httpOk(`http://127.0.0.1:${port}/-/ready`));
  return { ...track(child, dir, port), url: `http://127.0.0.1:${port}` };
}

export async function startAlertmanager(): Promise<RunningHttp> {
  const dir = tempDir('am');
  const port = await freePort();
  const config = `route:\n  receiver: default\n  group_by: [alertname, cluster, service]\nreceivers:\n  - name: default\n`;
  writeFileSync(join(dir, 'alertmanager.yml'), config);
  const child = spawnQuiet('prometheus-alertmanager', [
    `--config.file=${join(dir, 'alertmanager.yml')}`,
    `--storage.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--cluster.listen-address=',
  ]);
  await waitFor('alertmanager', () => httpOk(`http://127.0.0.1:${port}/-/ready`));
  return { ...track(child, dir, port), url: `http://127.0.0.1:${port}` };
}

// ---------------------------------------------------------------------------------------------
// MariaDB 10.11 (a MySQL stand-in; root cannot run it, so as the `mysql` user when we are root)

export interface RunningMariaDB extends Running {
  /** `mysql://root:PASSWORD@127.0.0.1:PORT/` */
  url: string;
  password: string;
  socket: string;
}

/** Starts MariaDB with a root password (TCP on 127.0.0.1) and the socket as the harness's back door. */
export async function startMariaDB(opts: { password?: string } = {}): Promise<RunningMariaDB> {
  const dir = tempDir('mariadb');
  const data = join(dir, 'data');
  const socket = join(dir, 'mysqld.sock');
  const tmp = join(dir, 'tmp');
  mkdirSync(tmp);
  chmodSync(dir, 0o777);
  chmodSync(tmp, 0o777);
  if (asRoot) for (const d of [dir, tmp]) chownSync(d, uid('mysql'), gid('mysql'));
  const port = await freePort();
  const user = asRoot ? 'mysql' : (process.env.USER ?? 'mysql');
  try {
    execFileSync(
      'mariadb-install-db',
      // its own tmpdir: concurrent bootstraps in a shared /tmp collide on temporary table names
      [
        `--user=${user}`,
        `--datadir=${data}`,
        '--auth-root-authentication-method=normal',
        '--skip-test-db',
        `--tmpdir=${tmp}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
  } catch (err) {
    const e = err as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(
      `mariadb-install-db failed: ${`${e.stdout ?? ''}${e.stderr ?? ''}`.trim().split('\n').slice(-5).join(' | ')}`,
    );
  }
  const args = [
    '--no-defaults',
    `--datadir=${data}`,
    `--port=${port}`,
    '--bind-address=127.0.0.1',
    `--socket=${socket}`,
    `--pid-file=${join(dir, 'mysqld.pid')}`,
    `--tmpdir=${tmp}`,
    '--skip-log-bin',
    '--innodb-buffer-pool-size=32M',
    '--innodb-flush-log-at-trx-commit=0',
    '--character-set-server=utf8mb4',
    '--collation-server=utf8mb4_unicode_ci',
  ];
  // as the mysql user directly (not through runuser, which would not pass our SIGTERM on)
  const child = spawnQuiet('mariadbd', args, asRoot ? { uid: uid('mysql'), gid: gid('mysql') } : {});
  await waitFor('mariadb', () => tcpOpen(port), 30_000);
  const password = opts.password ?? `root-pw-${port}`;
  const running: RunningMariaDB = {
    ...track(child, dir, port),
    url: `mysql://root:${encodeURIComponent(password)}@127.0.0.1:${port}/`,
    password,
    socket,
  };
  // root logs in over the socket without a password until it has one
  await waitFor('mariadb socket', () => {
    try {
      mariadb(running, 'SELECT 1', 'mysql', '');
      return true;
    } catch {
      return false;
    }
  });
  mariadb(
    running,
    `CREATE USER IF NOT EXISTS 'root'@'127.0.0.1'; ALTER USER 'root'@'127.0.0.1' IDENTIFIED BY '${password}'; GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION; ALTER USER 'root'@'localhost' IDENTIFIED BY '${password}';`,
    'mysql',
    '',
  );
  return running;
}

/** Runs SQL through the mariadb client on the instance's socket as root; returns tab-separated rows. */
export function mariadb(db: RunningMariaDB, sql: string, database = 'mysql', password = db.password): string {
  return execFileSync(
    'mariadb',
    [
      '--no-defaults',
      `--socket=${db.socket}`,
      '-uroot',
      '--default-character-set=utf8mb4',
      '-N',
      '-B',
      '-e',
      sql,
      database,
    ],
    { encoding: 'utf8', env: { ...process.env, MYSQL_PWD: password }, stdio: ['ignore', 'pipe', 'pipe'] },
  ) as string;
}

// ---------------------------------------------------------------------------------------------
// ClickHouse 18.16 (old; a minimal config)

export interface RunningClickHouse extends Running {
  /** HTTP interface, e.g. http://127.0.0.1:PORT */
  url: string;
  tcpPort: number;
}

export async function startClickHouse(): Promise<RunningClickHouse> {
  const dir = tempDir('ch');
  chmodSync(dir, 0o777);
  const port = await freePort();
  const tcpPort = await freePort();
  const users = `<?xml version="1.0"?>\n<yandex><profiles><default/></profiles><users><default><password></password><networks><ip>::/0</ip></networks><profile>default</profile><quota>default</quota></default></users><quotas><default/></quotas></yandex>\n`;
  writeFileSync(join(dir, 'users.xml'), users);
  const config = `<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><console>1</console></logger>
  <http_port>${port}</http_port>
  <tcp_port>${tcpPort}</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <path>${dir}/data/</path>
  <tmp_path>${dir}/tmp/</tmp_path>
  <user_files_path>${dir}/user_files/</user_files_path>
  <format_schema_path>${dir}/format_schemas/</format_schema_path>
  <users_config>${dir}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>5368709</mark_cache_size>
</yandex>
`;
  writeFileSync(join(dir, 'config.xml'), config);
  const child = spawnQuiet('clickhouse-server', [`--config-file=${join(dir, 'config.xml')}`], { cwd: dir });
  await waitFor('clickhouse', () => httpOk(`http://127.0.0.1:${port}/ping`), 30_000);
  return { ...track(child, dir, port), url: `http://127.0.0.1:${port}`, tcpPort };
}

// ---------------------------------------------------------------------------------------------
// Kafka wire protocol: librdkafka's mock cluster, kept alive by a kcat consumer

export interface RunningKafka extends Running {
  /** Bootstrap servers, `127.0.0.1:P1,127.0.0.1:P2,...` */
  brokers: string;
  url: string;
}

export async function startKafkaMock(brokers = 3): Promise<RunningKafka> {
  const dir = tempDir('kafka');
  const child = spawn(
    'kcat',
    ['-X', `test.mock.num.brokers=${brokers}`, '-b', 'x', '-C', '-t', 'probe', '-o', 'end'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let text = '';
  const bootstrap = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`kcat mock cluster did not start: ${text}`)), 15_000);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      text += d;
      const m = /replaced with ([0-9.:,]+)/.exec(text);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => reject(new Error(`kcat exited ${code}: ${text}`)));
  });
  const port = Number(bootstrap.split(',')[0]!.split(':')[1]);
  return { ...track(child, dir, port), brokers: bootstrap, url: `kafka://${bootstrap.split(',')[0]}` };
}

// ---------------------------------------------------------------------------------------------
// S3: s3rver (a test server, not MinIO: it ignores signatures and checksums — read objects back)

export interface RunningS3 extends Running {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
}

const S3RVER_BIN = new URL('../../node_modules/s3rver/bin/s3rver.js', import.meta.url).pathname;

export async function startS3(opts: { buckets?: string[] } = {}): Promise<RunningS3> {
  const dir = tempDir('s3');
  const port = await freePort();
  const args = [S3RVER_BIN, '-d', dir, '-a', '127.0.0.1', '-p', String(port), '--silent'];
  for (const b of opts.buckets ?? []) args.push('--configure-bucket', b);
  const child = spawnQuiet(process.execPath, args);
  await waitFor('s3rver', () => tcpOpen(port));
  return {
    ...track(child, dir, port),
    endpoint: `http://127.0.0.1:${port}`,
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
  };
}
