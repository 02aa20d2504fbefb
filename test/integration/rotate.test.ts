/**
 * `kindling rotate` end to end against real servers (PostgreSQL 15, Redis 7, MariaDB 10.11 as the
 * MySQL of Nacos), each run as its own process: the old credential is rejected and the new one
 * accepted, a connection opened before the rotation keeps working, a SIGKILL right after each of
 * the four steps (createSecret, setSecret, testSecret, finishSecret) leaves a credential that works
 * and a state the next run finishes, and no output ever contains either credential.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { STEPS } from '../../src/rotate/types.ts';
import {
  describeWithServices,
  freePort,
  isCI,
  type RunningPostgres,
  redisServerArgs,
  startPostgres,
  tempDir,
  waitFor,
} from '../harness/services.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

const tcpOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
}

/** `kindling rotate ...` as its own process; stdout and stderr together. */
function rotate(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(ROOT, 'bin/kindling.js'), 'rotate', '--target', 'local', '--timeout', '10s', ...args],
      { cwd: ROOT, env: { ...process.env, KINDLING_DEBUG: '', ...env }, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const e = err as (Error & { code?: unknown; signal?: NodeJS.Signals }) | null;
        resolve({
          code: e ? (typeof e.code === 'number' ? e.code : null) : 0,
          signal: e?.signal ?? null,
          out: `${stdout}${stderr}`,
        });
      },
    );
  });
}

interface SecretsFile {
  credentials: Record<string, { current?: string; pending?: string; previous?: string; step?: string }>;
}
const readSecrets = (file: string): SecretsFile => JSON.parse(readFileSync(file, 'utf8'));

/** One server kind: how to start it with a password, dial it, and what rotate needs. */
interface Subject {
  component: string;
  key: string;
  initial: string;
  start(): Promise<{
    endpoint: (password: string) => string;
    /** An independent client's verdict on a password. */
    accepts: (password: string) => Promise<boolean>;
    /** A client connected (and authenticated) now, and a query on it later. */
    hold: () => Promise<{ query: () => Promise<boolean>; close: () => Promise<void> }>;
    restart?: () => Promise<void>;
    stop: () => Promise<void>;
  }>;
}

const postgres: Subject = {
  component: 'postgres',
  key: 'postgres/superuser',
  initial: 'changeme', // the seed's default
  async start() {
    const db: RunningPostgres = await startPostgres({ password: 'changeme' });
    const url = (pw: string) =>
      `postgresql://postgres:${encodeURIComponent(pw)}@127.0.0.1:${db.port}/postgres`;
    const connect = async (pw: string) => {
      const c = new pg.Client({ connectionString: url(pw), connectionTimeoutMillis: 5000 });
      c.on('error', () => {});
      await c.connect();
      return c;
    };
    return {
      endpoint: (pw) => `postgres=${url(pw)}`,
      accepts: async (pw) => {
        try {
          const c = await connect(pw);
          await c.end();
          return true;
        } catch (err) {
          if ((err as { code?: string }).code === '28P01') return false;
          throw err;
        }
      },
      hold: async () => {
        const c = await connect('changeme');
        return {
          query: async () => (await c.query('SELECT 1 AS one')).rows[0]?.one === 1,
          close: () => c.end(),
        };
      },
      stop: () => db.stop(),
    };
  },
};

/** Redis with a config file (CONFIG REWRITE persists there) and no password: the seed's default. */
const redis: Subject = {
  component: 'redis',
  key: 'redis/default-user',
  initial: '',
  async start() {
    const dir = tempDir('rotate-redis');
    const port = await freePort();
    const conf = join(dir, 'redis.conf');
    writeFileSync(conf, `port ${port}\nbind 127.0.0.1\ndir ${dir}\nsave ""\nappendonly no\n`);
    let child: ChildProcess;
    const launch = async () => {
      child = spawn('redis-server', [conf], { stdio: 'ignore' });
      await waitFor('redis', () => tcpOpen(port));
    };
    await launch();
    const client = (pw: string) => {
      const r = new Redis({
        port,
        host: '127.0.0.1',
        password: pw || undefined,
        lazyConnect: true,
        retryStrategy: () => null,
        maxRetriesPerRequest: 0,
        enableReadyCheck: false,
      });
      r.on('error', () => {});
      return r;
    };
    return {
      endpoint: (pw) => `redis=redis://${pw ? `:${encodeURIComponent(pw)}@` : ''}127.0.0.1:${port}`,
      // redis-cli's own AUTH then PING on one connection: a client's password option would not do
      // (ioredis only warns when a password meets a server that needs none, and carries on)
      accepts: async (pw) => {
        const out = execFileSync('redis-cli', ['-p', String(port), '--no-raw'], {
          input: `${pw ? `AUTH ${pw}\n` : ''}PING\n`,
          encoding: 'utf8',
        });
        return out.trim().split('\n').at(-1) === 'PONG' && !/error/i.test(out);
      },
      hold: async () => {
        const r = client('');
        await r.connect();
        return { query: async () => (await r.ping()) === 'PONG', close: async () => r.disconnect() };
      },
      restart: async () => {
        const exited = new Promise((res) => child.once('exit', res));
        child.kill('SIGTERM');
        await exited;
        await launch();
      },
      stop: async () => {
        child.kill('SIGKILL');
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

const MARIADB_BINARIES = ['/usr/bin/mariadb-install-db', '/usr/sbin/mariadbd', '/usr/bin/mariadb'];

/** MariaDB 10.11 from apt (the platform's MySQL stand-in) with Nacos' account `nacos`/`nacos`. */
const mariadb: Subject = {
  component: 'nacos-mysql',
  key: 'nacos-mysql/nacos-user',
  initial: 'nacos', // the seed's default
  async start() {
    const dir = tempDir('rotate-mariadb');
    const data = join(dir, 'data');
    const sock = join(dir, 'mysqld.sock');
    const port = await freePort();
    const asRoot = process.getuid?.() === 0;
    if (asRoot)
      chownSync(
        dir,
        Number(execFileSync('id', ['-u', 'mysql']).toString()),
        Number(execFileSync('id', ['-g', 'mysql']).toString()),
      );
    execFileSync(
      'mariadb-install-db',
      ['--user=mysql', `--datadir=${data}`, '--skip-test-db', '--auth-root-authentication-method=socket'],
      { stdio: 'ignore' },
    );
    const args = [
      `--datadir=${data}`,
      `--port=${port}`,
      '--bind-address=127.0.0.1',
      `--socket=${sock}`,
      '--skip-name-resolve',
      `--pid-file=${join(dir, 'pid')}`,
      '--innodb-buffer-pool-size=16M',
    ];
    const child = asRoot
      ? spawn('runuser', ['-u', 'mysql', '--', '/usr/sbin/mariadbd', ...args], { stdio: 'ignore' })
      : spawn('/usr/sbin/mariadbd', args, { stdio: 'ignore' });
    await waitFor('mariadb', () => existsSync(sock), 30_000);
    execFileSync('mariadb', [
      `--socket=${sock}`,
      '-uroot',
      '-e',
      "CREATE USER 'nacos'@'%' IDENTIFIED BY 'nacos'; GRANT ALL ON *.* TO 'nacos'@'%';",
    ]);
    const connect = (pw: string) =>
      mysql.createConnection({ host: '127.0.0.1', port, user: 'nacos', password: pw, connectTimeout: 5000 });
    return {
      endpoint: (pw) => `nacos-mysql=mysql://nacos:${encodeURIComponent(pw)}@127.0.0.1:${port}`,
      accepts: async (pw) => {
        try {
          const c = await connect(pw);
          await c.end();
          return true;
        } catch (err) {
          if ((err as { errno?: number }).errno === 1045) return false;
          throw err;
        }
      },
      hold: async () => {
        const c = await connect('nacos');
        return { query: async () => Array.isArray((await c.query('SELECT 1'))[0]), close: () => c.end() };
      },
      stop: async () => {
        const exited = new Promise((res) => child.once('exit', res));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        child.kill('SIGKILL');
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

const secretsDir = tempDir('rotate-secrets');
afterAll(() => rmSync(secretsDir, { recursive: true, force: true }));
let fileNo = 0;
const secretsFile = () => join(secretsDir, `secrets-${++fileNo}.json`);

/** No output of any run contains a credential (the empty initial Redis password excepted). */
function expectNoSecrets(runs: Run[], secrets: (string | undefined)[]) {
  for (const r of runs)
    for (const s of secrets)
      if (s) expect(r.out.includes(s), `output leaks a credential:\n${r.out}`).toBe(false);
}

function suite(subject: Subject) {
  it('rotates: new credential accepted, old rejected, file 0600, an open connection survives, no secret in output', async () => {
    const srv = await subject.start();
    try {
      const held = await srv.hold();
      const file = secretsFile();
      const run = await rotate([
        '--components',
        subject.component,
        '--endpoint',
        srv.endpoint(subject.initial),
        '--write-secrets',
        file,
      ]);
      expect(run.code, run.out).toBe(0);
      // output masks every known credential: the seed's "nacos" password masks the name too
      const shownKey = subject.initial ? subject.key.split(subject.initial).join('***') : subject.key;
      expect(run.out).toContain(
        `${shownKey}: rotated [createSecret → setSecret → testSecret → finishSecret]`,
      );
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const c = readSecrets(file).credentials[subject.key]!;
      expect(c.current).toMatch(/^[A-Za-z0-9]{24,}$/);
      expect(c.pending).toBeUndefined();
      expect(c.previous).toBe(subject.initial);
      expect(await srv.accepts(c.current!)).toBe(true);
      expect(await srv.accepts(subject.initial)).toBe(false);
      expect(await held.query()).toBe(true);
      await held.close();
      if (srv.restart) {
        await srv.restart();
        expect(await srv.accepts(c.current!)).toBe(true);
        expect(await srv.accepts(subject.initial)).toBe(false);
      }
      // a second rotation starts from the file's credential, not the stale URL
      const again = await rotate([
        '--components',
        subject.component,
        '--endpoint',
        srv.endpoint(subject.initial),
        '--write-secrets',
        file,
      ]);
      expect(again.code, again.out).toBe(0);
      const c2 = readSecrets(file).credentials[subject.key]!;
      expect(c2.previous).toBe(c.current);
      expect(await srv.accepts(c2.current!)).toBe(true);
      expect(await srv.accepts(c.current!)).toBe(false);
      expectNoSecrets([run, again], [subject.initial, c.current, c2.current]);
    } finally {
      await srv.stop();
    }
  });

  for (const step of STEPS)
    it(`a SIGKILL right after ${step} leaves a working credential; the next run finishes the rotation`, async () => {
      const srv = await subject.start();
      try {
        const file = secretsFile();
        const args = [
          '--components',
          subject.component,
          '--endpoint',
          srv.endpoint(subject.initial),
          '--write-secrets',
          file,
        ];
        const crashed = await rotate(args, { KINDLING_FAULT_ROTATE_AFTER: step });
        expect(crashed.signal, crashed.out).toBe('SIGKILL');
        const mid = readSecrets(file).credentials[subject.key]!;
        expect(mid.step).toBe(step);
        // at every point one recorded credential works: the pending one once it is set, else the current
        const works = [mid.current, mid.pending].filter((p): p is string => p !== undefined);
        const verdicts = await Promise.all(works.map((p) => srv.accepts(p)));
        expect(verdicts.some(Boolean), `no recorded credential works after ${step}`).toBe(true);
        if (step === 'createSecret') expect(await srv.accepts(mid.pending!)).toBe(false); // not set yet
        if (step === 'setSecret' || step === 'testSecret') expect(await srv.accepts(mid.pending!)).toBe(true);

        const resumed = await rotate(args);
        expect(resumed.code, resumed.out).toBe(0);
        const done = readSecrets(file).credentials[subject.key]!;
        expect(done.pending).toBeUndefined();
        expect(await srv.accepts(done.current!)).toBe(true);
        expect(await srv.accepts(subject.initial)).toBe(false);
        if (step !== 'finishSecret') {
          // the crashed rotation was finished, not restarted: its pending credential became current
          expect(done.current).toBe(mid.pending);
          expect(resumed.out).toContain('(resumed)');
        }
        expectNoSecrets([crashed, resumed], [subject.initial, mid.pending, mid.current, done.current]);
      } finally {
        await srv.stop();
      }
    });
}

describeWithServices(
  'kindling rotate: PostgreSQL 15 role (postgres-role, SCRAM verifier)',
  ['postgres'],
  () => suite(postgres),
);
describeWithServices(
  'kindling rotate: Redis 7 default user (redis-password, CONFIG REWRITE)',
  ['redis'],
  () => {
    suite(redis);
    it('a server without a config file: CONFIG REWRITE fails, the password is set back, exit 1', async () => {
      const dir = tempDir('rotate-redis-noconf');
      const port = await freePort();
      const child = spawn('redis-server', redisServerArgs(port, dir), { stdio: 'ignore' });
      try {
        const probe = new Redis({
          port,
          host: '127.0.0.1',
          lazyConnect: true,
          retryStrategy: () => null,
          maxRetriesPerRequest: 0,
          enableReadyCheck: false,
        });
        probe.on('error', () => {});
        await waitFor('redis', async () => {
          try {
            await probe.connect();
            return true;
          } catch {
            return false;
          }
        });
        const file = secretsFile();
        const run = await rotate([
          '--components',
          'redis',
          '--endpoint',
          `redis=redis://127.0.0.1:${port}`,
          '--write-secrets',
          file,
        ]);
        expect(run.code, run.out).toBe(1);
        expect(run.out).toMatch(/CONFIG REWRITE failed .* so it was set back/);
        expect(await probe.ping()).toBe('PONG');
        const fresh = new Redis({
          port,
          host: '127.0.0.1',
          lazyConnect: true,
          retryStrategy: () => null,
          maxRetriesPerRequest: 0,
          enableReadyCheck: false,
        });
        await fresh.connect();
        expect(await fresh.ping()).toBe('PONG'); // still no password required: nothing a restart would undo
        fresh.disconnect();
        probe.disconnect();
        expectNoSecrets([run], [readSecrets(file).credentials['redis/default-user']?.pending]);
      } finally {
        child.kill('SIGKILL');
        rmSync(dir, { recursive: true, force: true });
      }
    });
  },
);

const mariadbMissing = MARIADB_BINARIES.filter((b) => !existsSync(b));
if (mariadbMissing.length === 0)
  describe('kindling rotate: MariaDB 10.11 as Nacos MySQL (mysql-user, ALTER USER)', () => suite(mariadb));
else if (isCI)
  describe('kindling rotate: MariaDB', () => {
    it('has its server installed', () => {
      throw new Error(`CI=true and needs ${mariadbMissing.join(', ')} (apt mariadb-server)`);
    });
  });
else
  describe.skip(`kindling rotate: MariaDB — skipped: needs ${mariadbMissing.join(', ')} (apt mariadb-server)`, () =>
    suite(mariadb));
