import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, DeleteBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type VerifyOptions, verifyStack } from '../../src/app/verify.ts';
import { redisCommands } from '../../src/probes/resp.ts';
import type { CheckResult, VerifyReport } from '../../src/report/results.ts';
import { runCli } from '../harness/cli.ts';
import {
  describeWithServices,
  freePort,
  psql,
  type RunningRedis,
  redisServerArgs,
  startPrometheus,
  startRedis,
  waitFor,
} from '../harness/services.ts';
import { GRAFANA_PASSWORD, PG_PASSWORD, type StackFixture, startStack } from './verify-fixture.ts';

const SERVICES = [
  'postgres',
  'redis',
  'clickhouse',
  'kafka-mock',
  'prometheus',
  'alertmanager',
  'etcd',
  's3',
] as const;

let fx: StackFixture;

function run(
  opts: Partial<VerifyOptions> & { overrides?: Record<string, string>; only?: string[] } = {},
): Promise<VerifyReport> {
  const components = Object.values(fx.stack.components).filter(
    (c) => !opts.only || opts.only.includes(c.name),
  );
  return verifyStack({
    stack: fx.stack,
    components,
    target: 'local',
    endpoints: fx.endpoints(opts.overrides),
    timeoutMs: 1500,
    initialBackoffMs: 100,
    maxBackoffMs: 500,
    ...opts,
  });
}

const byComponent = (report: VerifyReport, name: string) =>
  report.results.filter((r) => r.component === name);
const row = (report: VerifyReport, component: string, check: string) =>
  report.results.find((r) => r.component === component && r.check === check)!;

async function deadPort(): Promise<number> {
  return freePort(); // nothing listens there: a stopped service, as a client sees it
}

describeWithServices('verify on target local against real servers (and named stand-ins)', SERVICES, () => {
  beforeAll(async () => {
    fx = await startStack();
  }, 90_000);
  afterAll(async () => {
    await fx?.stop();
  });

  it('passes an all-healthy stack: every component with an endpoint passes; exec checks and MySQL are shown skipped with why', async () => {
    // Prometheus needs a scrape round before `up` has values for its targets (settles: retried)
    const report = await run({ timeoutMs: 8000 });
    const failed = report.results.filter((r) => r.status === 'fail');
    expect(failed, JSON.stringify(failed, null, 2)).toEqual([]);
    expect(report.ok).toBe(true);
    for (const c of [
      'postgres',
      'redis',
      'nacos',
      'etcd',
      'minio',
      'milvus',
      'elasticsearch',
      'clickhouse',
      'kafka',
      'kafka-ui',
      'prometheus',
      'grafana',
      'jaeger',
      'alertmanager',
    ])
      expect(report.components.find((x) => x.name === c)?.status, c).toBe('pass');
    expect(row(report, 'postgres', 'seed-psql')).toMatchObject({
      status: 'skip',
      message: 'runs only on target kube',
    });
    expect(row(report, 'kafka', 'seed-topics-list').status).toBe('skip');
    expect(byComponent(report, 'nacos-mysql')).toEqual([
      expect.objectContaining({
        status: 'skip',
        reason: 'not-checked',
        message: 'not checked: no --endpoint given',
      }),
    ]);
    expect(row(report, 'postgres', 'version').actual).toMatch(/^PostgreSQL 15/);
    expect(row(report, 'redis', 'maxmemory-policy').actual).toBe('maxmemory-policy allkeys-lru');
    expect(row(report, 'minio', 'seed-buckets').actual).toContain('milvus-bucket');
    expect(row(report, 'kafka', 'metadata').actual).toMatch(/^3 broker\(s\), controller \d+/);
    // the stand-ins were really asked (the HTTP checks go through the wire)
    expect(fx.standIns.grafana.requests).toContain('GET /api/datasources/name/Prometheus');
    expect(fx.standIns.minio.requests).toContainEqual(expect.stringMatching(/^GET \/(\?|$)/)); // ListBuckets forwarded to s3rver
  }, 30_000);

  describe('each service stopped or misconfigured in turn fails with expected vs actual; the others pass', () => {
    const s3 = () =>
      new S3Client({
        endpoint: fx.s3.endpoint,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: fx.s3.accessKeyId, secretAccessKey: fx.s3.secretAccessKey },
      });
    const redisCmd = (...argv: string[]) =>
      redisCommands(new URL(fx.redis.url), [argv], { signal: new AbortController().signal, timeoutMs: 2000 });
    const stopped = (component: string) => async () => ({
      [component]: `http://127.0.0.1:${await deadPort()}`,
    });
    const cases: {
      name: string;
      component: string;
      check: string;
      breakIt: () => Promise<unknown>;
      restore?: () => Promise<void>;
      message: RegExp;
      actual?: RegExp;
    }[] = [
      {
        name: 'postgres: a seed database is missing',
        component: 'postgres',
        check: 'seed-databases',
        breakIt: async () => {
          psql(fx.pg, 'DROP DATABASE knowledge');
        },
        restore: async () => void psql(fx.pg, 'CREATE DATABASE knowledge'),
        message: /missing "knowledge"/,
        actual: /identity.*conversation/,
      },
      {
        name: 'postgres: stopped',
        component: 'postgres',
        check: 'version',
        breakIt: async () => ({
          postgres: `postgresql://postgres:${PG_PASSWORD}@127.0.0.1:${await deadPort()}/postgres`,
        }),
        message: /not ready within 1\.5s .*ECONNREFUSED/,
      },
      {
        name: 'redis: maxmemory-policy is not allkeys-lru',
        component: 'redis',
        check: 'maxmemory-policy',
        breakIt: async () => {
          await redisCmd('CONFIG', 'SET', 'maxmemory-policy', 'noeviction');
        },
        restore: async () => void (await redisCmd('CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru')),
        message: /missing "allkeys-lru"/,
        actual: /noeviction/,
      },
      {
        name: 'redis: AOF off',
        component: 'redis',
        check: 'aof-enabled',
        breakIt: async () => {
          await redisCmd('CONFIG', 'SET', 'appendonly', 'no');
        },
        restore: async () => void (await redisCmd('CONFIG', 'SET', 'appendonly', 'yes')),
        message: /missing "yes"/,
        actual: /appendonly no/,
      },
      {
        name: 'clickhouse: stopped',
        component: 'clickhouse',
        check: 'ping',
        breakIt: stopped('clickhouse'),
        message: /not ready within/,
      },
      {
        name: 'etcd: stopped',
        component: 'etcd',
        check: 'health',
        breakIt: stopped('etcd'),
        message: /not ready within/,
      },
      {
        name: 'alertmanager: stopped',
        component: 'alertmanager',
        check: 'ready',
        breakIt: stopped('alertmanager'),
        message: /not ready within/,
      },
      {
        name: 'prometheus: stopped',
        component: 'prometheus',
        check: 'ready',
        breakIt: stopped('prometheus'),
        message: /not ready within/,
      },
      {
        name: 'kafka: stopped',
        component: 'kafka',
        check: 'metadata',
        breakIt: async () => ({ kafka: `kafka://127.0.0.1:${await deadPort()}` }),
        message: /not ready within .*(ECONNREFUSED|Connection error)/,
      },
      {
        name: 'minio: a seed bucket is missing (s3rver)',
        component: 'minio',
        check: 'seed-buckets',
        breakIt: async () => {
          await s3().send(new DeleteBucketCommand({ Bucket: 'backups' }));
        },
        restore: async () => void (await s3().send(new CreateBucketCommand({ Bucket: 'backups' }))),
        message: /missing bucket\(s\) backups/,
        actual: /documents, milvus-bucket, multimodal|documents/,
      },
      {
        name: 'minio (stand-in health): not ready, 503',
        component: 'minio',
        check: 'ready',
        breakIt: async () => {
          fx.standIns.minio.setState('starting');
        },
        restore: async () => fx.standIns.minio.setState('ready'),
        message: /expected HTTP 200, got 503/,
        actual: /HTTP 503/,
      },
      {
        name: 'nacos (stand-in): Config and Naming not in readiness',
        component: 'nacos',
        check: 'readiness',
        breakIt: async () => {
          fx.standIns.nacos.setState('starting');
        },
        restore: async () => fx.standIns.nacos.setState('ready'),
        message: /not ready within .*expected HTTP 200, got 500/,
        actual: /Config and Naming are not in readiness/,
      },
      {
        name: 'milvus (stand-in): not all components healthy',
        component: 'milvus',
        check: 'healthz',
        breakIt: async () => {
          fx.standIns.milvus.setState('starting');
        },
        restore: async () => fx.standIns.milvus.setState('ready'),
        message: /got 500/,
        actual: /Not all components are healthy/,
      },
      {
        name: 'elasticsearch (stand-in): red, wait_for_status never reached',
        component: 'elasticsearch',
        check: 'cluster-health',
        breakIt: async () => {
          fx.standIns.elasticsearch.setState('starting');
        },
        restore: async () => fx.standIns.elasticsearch.setState('ready'),
        message: /not ready within 1\.5s/,
      },
      {
        name: 'grafana (stand-in): the Prometheus data source is missing',
        component: 'grafana',
        check: 'prometheus-datasource',
        breakIt: async () => {
          fx.standIns.grafana.setState('broken');
        },
        restore: async () => fx.standIns.grafana.setState('ready'),
        message: /expected HTTP 200, got 404/,
        actual: /Data source not found/,
      },
      {
        name: 'jaeger (stand-in): storage errors',
        component: 'jaeger',
        check: 'services-api',
        breakIt: async () => {
          fx.standIns.jaeger.setState('broken');
        },
        restore: async () => fx.standIns.jaeger.setState('ready'),
        message: /got 500/,
        actual: /no such index/,
      },
      {
        name: 'kafka-ui (stand-in): DOWN',
        component: 'kafka-ui',
        check: 'health',
        breakIt: async () => {
          fx.standIns['kafka-ui'].setState('starting');
        },
        restore: async () => fx.standIns['kafka-ui'].setState('ready'),
        message: /got 503/,
        actual: /DOWN/,
      },
    ];

    it.each(cases)(
      '$name',
      async (c) => {
        const overrides = (await c.breakIt()) as Record<string, string> | undefined;
        let report: VerifyReport;
        try {
          report = await run({ overrides: overrides ?? {}, timeoutMs: 1500 });
        } finally {
          await c.restore?.();
        }
        const bad = row(report, c.component, c.check);
        expect(bad.status, JSON.stringify(bad)).toBe('fail');
        expect(bad.message).toMatch(c.message);
        expect(bad.expected).toBeTruthy();
        expect(bad.actual).toBeTruthy();
        if (c.actual) expect(bad.actual).toMatch(c.actual);
        const others = report.results.filter((r) => r.component !== c.component && r.status === 'fail');
        expect(others, JSON.stringify(others, null, 2)).toEqual([]);
        expect(report.components.find((x) => x.name === c.component)?.status).toBe('fail');
        expect(report.ok).toBe(false);
      },
      20_000,
    );
  });

  it('prometheus: a dead scrape target fails targets-up, naming the target', async () => {
    const dead = await deadPort();
    const prom = await startPrometheus({ targets: [`127.0.0.1:${fx.real.etcd!.port}`, `127.0.0.1:${dead}`] });
    try {
      // wait for Prometheus's first scrape of both targets, so `up` has a value for each
      await waitFor(
        'first scrape',
        async () => {
          const res = (await (await fetch(`${prom.url}/api/v1/targets`)).json()) as {
            data: { activeTargets: { health: string }[] };
          };
          const active = res.data.activeTargets as { health: string }[];
          return active.length === 2 && active.every((t) => t.health !== 'unknown');
        },
        15_000,
      );
      const report = await run({
        only: ['prometheus'],
        overrides: { prometheus: prom.url },
        timeoutMs: 3000,
      });
      expect(row(report, 'prometheus', 'ready').status).toBe('pass');
      const up = row(report, 'prometheus', 'targets-up');
      expect(up.status).toBe('fail');
      expect(up.message).toContain(`127.0.0.1:${dead}`);
      expect(up.message).not.toContain(`127.0.0.1:${fx.real.etcd!.port}`); // the live target is not blamed
    } finally {
      await prom.stop();
    }
  }, 20_000);

  it('a service that becomes ready after 3 s passes under a 10 s deadline (real Redis started late; Nacos stand-in starting)', async () => {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'kindling-late-redis-'));
    const late = setTimeout(() => {
      // configured like the seed's Redis, so its checks pass once it is up
      const config = ['--appendonly', 'yes', '--maxmemory-policy', 'allkeys-lru'];
      lateRedis = spawn('redis-server', redisServerArgs(port, dir, config), { stdio: 'ignore' });
    }, 3000);
    let lateRedis: ReturnType<typeof spawn> | undefined;
    fx.standIns.nacos.setState('starting');
    fx.standIns.nacos.setState('ready', 3000);
    try {
      const t0 = performance.now();
      const report = await run({
        only: ['redis', 'nacos'],
        overrides: { redis: `redis://127.0.0.1:${port}` },
        timeoutMs: 10_000,
      });
      const wall = performance.now() - t0;
      // redis' metrics checks ask Prometheus (endpoint redis.metrics), which this run is not given
      const metrics = report.results.filter((r) => r.type === 'metrics');
      for (const r of metrics) expect(r).toMatchObject({ status: 'skip', reason: 'not-checked' });
      for (const r of report.results.filter((x) => x.type !== 'metrics')) {
        expect(r.status, JSON.stringify(r)).toBe('pass');
        if (r.check === 'admin-login') continue; // the stand-in's account API answers while it starts
        expect(r.attempts).toBeGreaterThan(1);
        expect(r.history[0]!.outcome).toBe('not-ready');
      }
      expect(row(report, 'redis', 'ping').durationMs).toBeGreaterThanOrEqual(2900);
      expect(wall).toBeLessThan(6000);
    } finally {
      clearTimeout(late);
      lateRedis?.kill('SIGKILL');
      fx.standIns.nacos.setState('ready');
      rmSync(dir, { recursive: true, force: true });
    }
  }, 20_000);

  it('a dead service fails at its deadline ±10 %, not later (refused and silent)', async () => {
    const blackhole: Server = createServer(() => {}); // accepts, never answers
    await new Promise<void>((r) => blackhole.listen(0, '127.0.0.1', r));
    const silent = (blackhole.address() as { port: number }).port;
    try {
      const t0 = performance.now();
      const report = await run({
        only: ['postgres', 'alertmanager'],
        overrides: {
          postgres: `postgresql://postgres:${PG_PASSWORD}@127.0.0.1:${await deadPort()}/postgres`,
          alertmanager: `http://127.0.0.1:${silent}`,
        },
        timeoutMs: 4000,
        concurrency: 8,
      });
      const wall = performance.now() - t0;
      const ran = report.results.filter((r) => r.status !== 'skip');
      expect(ran.length).toBe(3);
      for (const r of ran) {
        expect(r.status).toBe('fail');
        expect(r.reason).toBe('deadline');
        expect(r.durationMs).toBeGreaterThanOrEqual(3600);
        expect(r.durationMs).toBeLessThanOrEqual(4400);
      }
      expect(row(report, 'postgres', 'version').attempts).toBeGreaterThan(3);
      expect(row(report, 'alertmanager', 'ready').message).toMatch(/no answer within|timed out|aborted/i);
      expect(wall).toBeLessThanOrEqual(4400);
    } finally {
      blackhole.close();
    }
  }, 20_000);

  describe('wrong credentials', () => {
    let guarded: RunningRedis;
    beforeAll(async () => {
      guarded = await startRedis({
        password: 'redis-S3cret-99',
        config: ['--maxmemory-policy', 'allkeys-lru', '--appendonly', 'yes'],
      });
    });
    afterAll(async () => guarded?.stop());

    it('a wrong password fails at once naming authentication — no retry loop to the deadline', async () => {
      const t0 = performance.now();
      const report = await run({
        only: ['postgres', 'redis', 'grafana'],
        overrides: {
          postgres: `postgresql://postgres:WRONG-pw-123@127.0.0.1:${fx.pg.port}/postgres`,
          redis: `redis://:WRONG-pw-456@127.0.0.1:${guarded.port}`,
          grafana: `http://admin:WRONG-pw-789@${new URL(fx.standIns.grafana.url).host}`,
        },
        timeoutMs: 10_000,
      });
      const wall = performance.now() - t0;
      const auth = (r: CheckResult) => {
        expect(r.status, JSON.stringify(r)).toBe('fail');
        expect(r.reason).toBe('auth');
        expect(r.attempts).toBe(1);
        expect(r.message).toMatch(/authentication/i);
      };
      for (const check of ['version', 'seed-databases']) auth(row(report, 'postgres', check));
      for (const check of ['ping', 'maxmemory-policy', 'aof-enabled']) auth(row(report, 'redis', check));
      auth(row(report, 'grafana', 'prometheus-datasource'));
      expect(row(report, 'grafana', 'health').status).toBe('pass'); // /api/health needs no login
      expect(wall).toBeLessThan(3000);
      const text = JSON.stringify(report);
      for (const pw of ['WRONG-pw-123', 'WRONG-pw-456', 'WRONG-pw-789']) expect(text).not.toContain(pw);
    }, 20_000);

    it('the right password on a password-protected Redis passes', async () => {
      const report = await run({ only: ['redis'], overrides: { redis: guarded.url } });
      expect(report.ok).toBe(true);
    });
  });

  describe('verify action (the committed bundle, run like GitHub runs it)', () => {
    const action = (inputs: Record<string, string>) => {
      const dir = mkdtempSync(join(tmpdir(), 'kindling-verify-action-'));
      const env: NodeJS.ProcessEnv = {
        PATH: process.env.PATH,
        GITHUB_OUTPUT: join(dir, 'output'),
        GITHUB_STEP_SUMMARY: join(dir, 'summary'),
      };
      writeFileSync(env.GITHUB_OUTPUT!, '');
      writeFileSync(env.GITHUB_STEP_SUMMARY!, '');
      for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = v;
      const res = spawnSync(process.execPath, ['actions/verify/dist/index.js'], { env, encoding: 'utf8' });
      const read = (f: string) => readFileSync(join(dir, f), 'utf8');
      const all = res.stdout + res.stderr;
      // `::add-mask::` lines carry the secret to the runner, which hides them; everything else is shown
      const masks = all.split('\n').filter((l) => l.startsWith('::add-mask::'));
      const shown = all
        .split('\n')
        .filter((l) => !l.startsWith('::add-mask::'))
        .join('\n');
      return {
        code: res.status,
        stdout: shown,
        masks,
        output: read('output'),
        summary: read('summary'),
        dir,
      };
    };

    it('passes, sets outputs and writes a job summary with a Mermaid graph', () => {
      const r = action({
        target: 'local',
        endpoints: `postgres=${fx.flags.postgres}\nredis=${fx.flags.redis}\nkafka=${fx.flags.kafka}`,
        components: 'postgres,redis,kafka',
        timeout: '10s',
      });
      try {
        expect(r.code, r.stdout).toBe(0);
        expect(r.output).toMatch(/passed<<.*\n6\n/s);
        expect(r.output).toMatch(/failed<<.*\n0\n/s);
        const results = JSON.parse(/results<<(\S+)\n(.*)\n\1/s.exec(r.output)![2]!);
        // 6 passed + the 3 in-pod (target kube) checks of postgres and kafka and their 9 metrics checks
        // (no Prometheus endpoint given), skipped with their reason
        expect(results).toHaveLength(18);
        expect(results.filter((x: { status: string }) => x.status === 'skip')).toHaveLength(12);
        expect(results.filter((x: { type: string }) => x.type === 'metrics')).toHaveLength(9);
        expect(r.summary).toContain('```mermaid');
        expect(r.summary).toContain('Stack verified');
        expect(r.stdout).not.toContain(PG_PASSWORD);
      } finally {
        rmSync(r.dir, { recursive: true, force: true });
      }
    }, 30_000);

    it('fails with an aggregated error annotation naming authentication; the password is masked', () => {
      const leaked = 'Act10n-leak-pw';
      const r = action({
        target: 'local',
        endpoints: `postgres=postgresql://postgres:${leaked}@127.0.0.1:${fx.pg.port}/postgres`,
        timeout: '10s',
      });
      try {
        expect(r.code).toBe(1);
        expect(r.stdout).toMatch(/::error title=postgres\/version failed::authentication failed/);
        expect(r.stdout).toMatch(/::error::2 check\(s\) failed/);
        expect(r.masks).toContain(`::add-mask::${leaked}`);
        expect(r.stdout + r.output + r.summary).not.toContain(leaked);
      } finally {
        rmSync(r.dir, { recursive: true, force: true });
      }
    }, 30_000);

    it('a malformed endpoint is a usage error naming the input line, not a stack trace', () => {
      const r = action({ target: 'local', endpoints: 'postgres=::nope::' });
      try {
        expect(r.code).toBe(1);
        // an action names its input, not the CLI flag (issue #16)
        expect(r.stdout).toMatch(/::error::input "endpoints" postgres: malformed URL/);
        expect(r.stdout).not.toMatch(/at .*\.js:\d+/);
      } finally {
        rmSync(r.dir, { recursive: true, force: true });
      }
    });
  });

  describe('kindling verify (CLI)', () => {
    let out = '';
    let err = '';
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'kindling-verify-cli-'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    async function cli(args: string[]): Promise<number> {
      const r = await runCli(['verify', ...args]);
      out = r.out;
      err = r.err;
      return r.code;
    }
    const endpointArgs = (overrides: Record<string, string> = {}) =>
      Object.entries({ ...fx.flags, ...overrides }).flatMap(([k, v]) => ['--endpoint', `${k}=${v}`]);

    it('exits 0 when all pass, and writes JSON and JUnit', async () => {
      const json = join(dir, 'ok.json');
      const junit = join(dir, 'ok.xml');
      const code = await cli([
        '--target',
        'local',
        ...endpointArgs(),
        '--timeout',
        '8s',
        '--json',
        json,
        '--junit',
        junit,
      ]);
      expect(code, out + err).toBe(0);
      expect(out).toMatch(/^COMPONENT\s+CHECK\s+STATUS/);
      expect(out).toMatch(/verified: \d+ passed, 0 failed/);
      const report = JSON.parse(readFileSync(json, 'utf8')) as VerifyReport;
      expect(report.ok).toBe(true);
      expect(report.results[0]).toHaveProperty('expected');
      expect(readFileSync(junit, 'utf8')).toContain('classname="postgres" name="version"');
    }, 30_000);

    it('exits 1 on a failed check; credentials appear in none of console, JSON, JUnit', async () => {
      const json = join(dir, 'bad.json');
      const junit = join(dir, 'bad.xml');
      const code = await cli([
        '--target',
        'local',
        ...endpointArgs({ postgres: `postgresql://postgres:Leaky-pw-42@127.0.0.1:${fx.pg.port}/postgres` }),
        '--components',
        'postgres,redis,grafana,minio',
        '--timeout',
        '5s',
        '--json',
        json,
        '--junit',
        junit,
      ]);
      expect(code).toBe(1);
      const xml = readFileSync(junit, 'utf8');
      const all = [out, err, readFileSync(json, 'utf8'), xml].join('\n');
      expect(all).toMatch(/authentication/);
      expect(xml).toMatch(
        /<testcase classname="postgres" name="version"[^>]*>\s*<failure message="[^"]*authentication/,
      );
      for (const secret of ['Leaky-pw-42', PG_PASSWORD, GRAFANA_PASSWORD, 'S3RVER:S3RVER'])
        expect(all).not.toContain(secret);
      expect(err).toMatch(/failed: 2 check\(s\) failed: postgres\/version, postgres\/seed-databases/);
    }, 30_000);

    it.each([
      [
        ['--target', 'local', '--endpoint', 'postgres=http://x', '--components', 'nosuch'],
        /unknown component or profile "nosuch"/,
      ],
      [['--target', 'local', '--endpoint', 'postgres=not a url'], /malformed URL/],
      [['--target', 'local', '--endpoint', 'nosuch=http://x'], /unknown component "nosuch"/],
      [
        ['--target', 'local', '--endpoint', 'postgres=http://x', '--components', 'postgres,redis'],
        /no --endpoint given for redis/,
      ],
      [['--target', 'local'], /needs --endpoint/],
      [['--target', 'local', '--bogus'], /unknown option '--bogus'/],
      [['--target', 'moon'], /moon/],
      [['--target', 'local', '--endpoint', 'postgres=http://x', '--timeout', 'soon'], /invalid --timeout/],
    ])('exits 2 naming the mistake: %j', async (args, message) => {
      expect(await cli(args as string[])).toBe(2);
      expect(err).toMatch(message as RegExp);
    });
  });
});
