/**
 * Simulation (test infrastructure): the process of a container whose software cannot run here
 * (Nacos, Milvus, MinIO's own server), started inside the simulated pod by its image model. Each
 * reads the configuration the real image reads, talks to its dependencies over the pod network,
 * and answers the probes and checks through the protocol-faithful handlers of
 * test/standins/http-services.ts. `node standin.ts <kind>`.
 */
import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer as createHttp } from 'node:http';
import { connect, createServer } from 'node:net';
import { parse } from 'yaml';
import { type AccountStore, startStandIn } from '../../standins/http-services.ts';
import { startSignedS3 } from '../../standins/s3-sigv4.ts';

const kind = process.argv[2];
const env = process.env;
const log = (m: string) => console.log(`${new Date().toISOString()} ${m}`);

/** True when host:port accepts a TCP connection within 1 s. */
function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port, timeout: 1000 });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
    s.once('timeout', () => {
      s.destroy();
      resolve(false);
    });
  });
}

/**
 * Nacos' external datasource (nacos-group/nacos-docker `build/conf/application.properties`:
 * db.url.0=jdbc:mysql://${MYSQL_SERVICE_HOST}:${MYSQL_SERVICE_PORT}/${MYSQL_SERVICE_DB_NAME},
 * db.user/db.password from MYSQL_SERVICE_USER/PASSWORD): usable when those credentials log in and
 * the schema's config_info table answers. Undefined when it is, else why not.
 */
async function datasourceProblem(): Promise<string | undefined> {
  const { createConnection } = await import('mysql2/promise');
  try {
    const c = await createConnection({
      host: env.MYSQL_SERVICE_HOST ?? 'localhost',
      port: Number(env.MYSQL_SERVICE_PORT ?? 3306),
      user: env.MYSQL_SERVICE_USER ?? '',
      password: env.MYSQL_SERVICE_PASSWORD ?? '',
      database: env.MYSQL_SERVICE_DB_NAME ?? 'nacos',
      connectTimeout: 1000,
    });
    try {
      await c.query('SELECT count(*) FROM config_info');
    } finally {
      await c.end();
    }
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * A stored password: salted scrypt. The real servers store BCrypt (Nacos PasswordEncoderUtil,
 * Milvus crypto.PasswordEncrypt) or PBKDF2 (Grafana); what matters here is that the plaintext is
 * not kept and the check compares against what was last set.
 */
const hash = (password: string, salt = randomBytes(16).toString('hex')) =>
  `scrypt$${salt}$${scryptSync(password, salt, 32).toString('hex')}`;
function matches(stored: string | undefined, password: string): boolean {
  const [, salt, want] = (stored ?? '').split('$');
  if (!salt || !want) return false;
  return timingSafeEqual(Buffer.from(hash(password, salt).split('$')[2]!, 'hex'), Buffer.from(want, 'hex'));
}

/** Nacos' accounts in its datasource's `users` table (nacos-group/nacos distribution/conf/mysql-schema.sql). */
function mysqlAccounts(): AccountStore {
  const run = async <T>(f: (c: import('mysql2/promise').Connection) => Promise<T>): Promise<T> => {
    const { createConnection } = await import('mysql2/promise');
    const c = await createConnection({
      host: env.MYSQL_SERVICE_HOST ?? 'localhost',
      port: Number(env.MYSQL_SERVICE_PORT ?? 3306),
      user: env.MYSQL_SERVICE_USER ?? '',
      password: env.MYSQL_SERVICE_PASSWORD ?? '',
      database: env.MYSQL_SERVICE_DB_NAME ?? 'nacos',
      connectTimeout: 2000,
    });
    try {
      return await f(c);
    } finally {
      await c.end().catch(() => {});
    }
  };
  const stored = (user: string) =>
    run(async (c) => {
      const [rows] = await c.query('SELECT password FROM users WHERE username = ? AND enabled', [user]);
      return (rows as { password: string }[])[0]?.password;
    });
  return {
    check: async (u, p) => matches(await stored(u), p),
    exists: async (u) => (await stored(u)) !== undefined,
    set: (u, p) =>
      run(async (c) => {
        await c.query(
          'INSERT INTO users (username, password, enabled) VALUES (?, ?, TRUE) ON DUPLICATE KEY UPDATE password = VALUES(password)',
          [u, hash(p)],
        );
      }),
  };
}

/**
 * Milvus' credentials in etcd under {rootPath}/meta/root-coord/credential/users/<name> (milvus-io/
 * milvus internal/metastore/kv/rootcoord kv_catalog.go), through etcd's v3 JSON gateway
 * (/v3/kv/range, /v3/kv/put; keys and values base64).
 */
function etcdAccounts(endpoint: string, rootPath: string): AccountStore {
  const key = (u: string) =>
    Buffer.from(`${rootPath}/meta/root-coord/credential/users/${u}`).toString('base64');
  const call = async (path: string, body: object) => {
    const r = await fetch(`http://${endpoint}${path}`, {
      method: 'POST',
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(2000),
    });
    if (!r.ok) throw new Error(`etcd ${path}: HTTP ${r.status}`);
    return (await r.json()) as { kvs?: { value: string }[] };
  };
  const stored = async (u: string) => {
    const v = (await call('/v3/kv/range', { key: key(u) })).kvs?.[0]?.value;
    return v === undefined
      ? undefined
      : (JSON.parse(Buffer.from(v, 'base64').toString()) as { encrypted_password: string })
          .encrypted_password;
  };
  return {
    check: async (u, p) => matches(await stored(u), p),
    exists: async (u) => (await stored(u)) !== undefined,
    set: async (u, p) => {
      const value = Buffer.from(JSON.stringify({ encrypted_password: hash(p) })).toString('base64');
      await call('/v3/kv/put', { key: key(u), value });
    },
  };
}

/** Grafana's `user` table, in a JSON file standing in for grafana.db (SQLite) in its data path. */
function fileAccounts(file: string): AccountStore {
  const load = (): Record<string, string> =>
    existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')).users : {};
  return {
    check: async (u, p) => matches(load()[u], p),
    exists: async (u) => load()[u] !== undefined,
    set: async (u, p) => {
      const users = { ...load(), [u]: hash(p) };
      writeFileSync(`${file}.tmp`, JSON.stringify({ users }));
      renameSync(`${file}.tmp`, file);
    },
  };
}

function tcpListeners(ports: number[]): void {
  for (const p of ports) createServer((sock) => sock.on('error', () => {}).end()).listen(p, '0.0.0.0');
}

async function nacos(): Promise<void> {
  // nacos/nacos-server (nacos-group/nacos-docker `build/bin/docker-startup.sh`): the HTTP port is
  // NACOS_APPLICATION_PORT (default 8848; NACOS_SERVER_PORT is not read), gRPC at +1000, raft at
  // -1000/+1001; with SPRING_DATASOURCE_PLATFORM=mysql it is ready only once its datasource works.
  const port = Number(env.NACOS_APPLICATION_PORT ?? 8848);
  // its accounts are rows of the datasource's users table, shared by every member
  const s = await startStandIn('nacos', {
    state: 'starting',
    listen: { host: '0.0.0.0', port },
    ...(env.SPRING_DATASOURCE_PLATFORM === 'mysql' ? { accounts: mysqlAccounts() } : {}),
  });
  tcpListeners([port + 1000, port - 1000, port + 1001]);
  log(`nacos stand-in listening on ${port}`);
  const mysql = env.SPRING_DATASOURCE_PLATFORM === 'mysql';
  let last = '';
  const tick = async () => {
    const why = mysql ? await datasourceProblem() : undefined;
    const ok = !why;
    if (ok !== (s.state === 'ready') || (why ?? '') !== last)
      log(ok ? 'Nacos started successfully in cluster mode' : `No DataSource set: ${why}`);
    last = why ?? '';
    s.setState(ok ? 'ready' : 'starting');
  };
  await tick();
  setInterval(tick, 500);
}

async function milvus(): Promise<void> {
  // milvusdb/milvus: user.yaml over the defaults, then environment variables mapped onto config keys
  // (milvus-io/milvus `pkg/config/env_source.go`: MINIO_PORT → minio.port). A minio.port that is not
  // a number (a service link `tcp://10.96.x.x:9000`) makes the MinIO client fail and standalone exit.
  const file = '/milvus/configs/user.yaml';
  const cfg = existsSync(file) ? (parse(readFileSync(file, 'utf8')) ?? {}) : {};
  const key = (k: string, dflt: unknown) => {
    const envKey = k.toUpperCase().replace(/\./g, '_');
    if (env[envKey] !== undefined) return env[envKey];
    const v = k.split('.').reduce<unknown>((o, p) => (o as Record<string, unknown> | undefined)?.[p], cfg);
    return v ?? dflt;
  };
  const minioHost = String(key('minio.address', 'localhost'));
  const minioPort = String(key('minio.port', 9000));
  const etcd = String(
    (key('etcd.endpoints', ['localhost:2379']) as string[] | string).toString().split(',')[0],
  );
  if (!/^\d+$/.test(minioPort)) {
    log(`[ERROR] failed to create minio client: address ${minioHost}:${minioPort}: invalid port`);
    process.exit(1);
  }
  const accounts = etcdAccounts(etcd, String(key('etcd.rootPath', 'by-dev')));
  const s = await startStandIn('milvus', {
    state: 'starting',
    listen: { host: '0.0.0.0', port: 9091, grpcPort: 19530 },
    accounts,
  });
  log('milvus stand-in listening on 9091 (health) and 19530 (gRPC)');
  const [eh, ep] = etcd.split(':');
  let rootReady = false;
  const tick = async () => {
    const ok = (await reachable(eh!, Number(ep ?? 2379))) && (await reachable(minioHost, Number(minioPort)));
    // rootcoord initCredentials (milvus-io/milvus internal/rootcoord/root_coord.go): root is created
    // with common.security.defaultRootPassword only when etcd holds no credential for it yet
    if (ok && !rootReady)
      try {
        if (!(await accounts.exists('root')))
          await accounts.set('root', String(key('common.security.defaultRootPassword', 'Milvus')));
        rootReady = true;
      } catch (err) {
        log(`[WARN] RootCoord init user root failed: ${(err as Error).message}`);
      }
    s.setState(ok && rootReady ? 'ready' : 'starting');
  };
  await tick();
  setInterval(tick, 500);
}

async function minio(): Promise<void> {
  // minio/minio `server DIR --console-address :9001`: the S3 API on :9000 is a real S3 server
  // (s3rver) over DIR behind MinIO's request authentication (test/standins/s3-sigv4.ts: SigV4
  // checked against the root credentials MinIO reads at start from MINIO_ROOT_USER /
  // MINIO_ROOT_PASSWORD, minio/minio cmd/common-main.go loadRootCredentials); /minio/health/* is
  // unauthenticated and answered as MinIO does (readiness.md); the console answers 200.
  const args = process.argv.slice(3);
  const dir = args[args.indexOf('server') + 1] ?? '/data';
  const health = await startStandIn('minio', { listen: { host: '127.0.0.1', port: 9003 } });
  await startSignedS3({
    dir: `${dir}/.s3rver`,
    env,
    innerPort: 9002,
    listen: { host: '0.0.0.0', port: 9000 },
    open: { prefix: '/minio/health/', upstream: health.url },
  });
  const consolePort = Number((args[args.indexOf('--console-address') + 1] ?? ':9001').split(':').pop());
  createHttp((_q, r) => r.end('MinIO Console')).listen(consolePort, '0.0.0.0');
  log(`minio stand-in: S3 API on 9000 (s3rver over ${dir}, SigV4 checked), console on ${consolePort}`);
}

async function grafana(): Promise<void> {
  // grafana/grafana (Dockerfile ENTRYPOINT /run.sh): GF_<SECTION>_<KEY> overrides grafana.ini
  // (docs "Configure Grafana", override with environment variables); data in GF_PATHS_DATA.
  // The admin is created from admin_user/admin_password only while the user table is empty
  // (pkg/services/sqlstore/sqlstore.go ensureMainOrgAndAdminUser; conf/defaults.ini: "can be
  // changed before first start of grafana, or in profile settings"): later starts keep the
  // password the database holds, whatever GF_SECURITY_ADMIN_PASSWORD says.
  const data = env.GF_PATHS_DATA ?? '/var/lib/grafana';
  mkdirSync(data, { recursive: true });
  const accounts = fileAccounts(`${data}/grafana.db`);
  const admin = env.GF_SECURITY_ADMIN_USER ?? 'admin';
  if (!existsSync(`${data}/grafana.db`)) {
    await accounts.set(admin, env.GF_SECURITY_ADMIN_PASSWORD ?? 'admin');
    log(`Created default admin user=${admin}`);
  }
  // the provisioned dashboards: each file provider's options.path, its *.json (uid, title, tags)
  const prov = `${env.GF_PATHS_PROVISIONING ?? '/etc/grafana/provisioning'}/dashboards`;
  const dashboards: { uid: string; title: string; tags: string[] }[] = [];
  for (const f of existsSync(prov) ? readdirSync(prov).filter((n) => /\.ya?ml$/.test(n)) : [])
    for (const p of parse(readFileSync(`${prov}/${f}`, 'utf8'))?.providers ?? []) {
      const dir = p?.options?.path;
      if (typeof dir !== 'string' || !existsSync(dir)) continue;
      for (const j of readdirSync(dir).filter((n) => n.endsWith('.json'))) {
        const d = JSON.parse(readFileSync(`${dir}/${j}`, 'utf8'));
        dashboards.push({ uid: d.uid, title: d.title, tags: d.tags ?? [] });
      }
    }
  const port = Number(env.GF_SERVER_HTTP_PORT ?? 3000);
  await startStandIn('grafana', { listen: { host: '0.0.0.0', port }, accounts, dashboards });
  log(`grafana stand-in listening on ${port} (${dashboards.length} dashboards provisioned)`);
}

const mains: Record<string, () => Promise<void>> = { nacos, milvus, minio, grafana };
const main = kind ? mains[kind] : undefined;
if (!main) {
  console.error(`usage: standin.ts ${Object.keys(mains).join('|')}`);
  process.exit(2);
}
main().catch((err) => {
  console.error(err);
  process.exit(1);
});
