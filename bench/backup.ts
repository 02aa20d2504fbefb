/**
 * Backup and restore speed and memory (issue #15), in one run: a pgbench database plus a table of
 * random bytes (4 MiB per scale unit, so the compressed artifact is large and streaming really
 * has to stream) — ~20 MB per scale unit in all: the default scale 20 is 414 MB, 7 is 159 MB,
 * 70 is 1395 MB (`npm run bench:backup -- 70 7`: the big scale, then the small one) — on one
 * PostgreSQL 15 and one s3rver, measured against what a user would write by hand:
 *   (a) backup wall: `kindling backup` → s3rver, against `pg_dumpall | zstd -3 | aws s3 cp -` into
 *       the same s3rver (AWS CLI v2, Debian `awscli`, /usr/bin/aws) and against the dump alone,
 *       `pg_dumpall | zstd -3 > /dev/null`; and, for reference, the floor of storing that output in
 *       the same s3rver: the same pipeline into bench/upload-floor.ts (sha256 and kindling's own
 *       multipart upload in a plain Node process), over the dump alone;
 *   (b) peak RSS: kindling's own VmHWM at the big scale and at SMALL_SCALE (memory must not grow
 *       with size), and the AWS CLI pipeline's, as `/usr/bin/time -f %M` (getrusage ru_maxrss,
 *       KiB) of each of its three processes, summed;
 *   (c) restore wall: `kindling restore` into a fresh database, against
 *       `createdb; aws s3 cp s3://… - | zstd -d | pg_restore -d …` from a `pg_dump -Fc -Z0 | zstd -3`
 *       artifact (kindling's own format: one custom-format dump per database) on the same server.
 *
 * Fairness: each side runs RUNS times, alternating (the order rotates every round), and the
 * median counts (the first runs warm the page cache for all); an untimed kindling run before them
 * fills Node's compile cache, so that every measured run — at both sizes — starts the same way;
 * before it, one with an empty cache (a fresh runner's first backup) is printed apart.
 * kindling's peak RSS is its own VmHWM (read by the process itself at exit, through a preload),
 * not a polled guess; were kindling ever to run as more than one Node process at a time, their
 * peaks are summed (they are resident together). Its pg_dump children are not counted; the AWS
 * figure counts pg_dumpall, zstd and aws, so `aws + zstd` (the same work as kindling's process:
 * compression and upload, not the dump) and the aws process alone are printed beside it. Both
 * artifacts' sizes are printed: the same zstd level 3 must give the same size. Every restore goes
 * into a database that does not exist yet; it is dropped, untimed, after the run.
 * Load averages are printed with the figures: other engineers share these 2 cores.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { psql, type RunningPostgres, startPostgres, startS3, tempDir } from '../test/harness/services.ts';

const ROOT = new URL('../', import.meta.url).pathname;
const scale = Number(process.argv[2] ?? 20);
const SMALL_SCALE = Number(process.argv[3] ?? 7);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const RANDOM_MIB_PER_SCALE = 4;
/** Debian's AWS CLI v2 (`apt-get install awscli`), not whatever shim is first on PATH. */
const AWS = '/usr/bin/aws';

/** The kindling process reports its own peak RSS (VmHWM) on exit. */
const VMHWM_PRELOAD = `data:text/javascript,${encodeURIComponent(
  "import { readFileSync, writeSync } from 'node:fs';" +
    "process.on('exit', () => writeSync(2, 'BENCH_VMHWM_KIB ' + /VmHWM:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1] + '\\n'));",
)}`;

function prepare(pg: RunningPostgres, s: number): { size: string; randomMiB: number } {
  psql(pg, 'DROP TABLE IF EXISTS bench_random');
  execFileSync(
    'pgbench',
    ['-i', '-q', '-s', String(s), '-h', pg.dir, '-p', String(pg.port), '-U', 'postgres', 'postgres'],
    { stdio: 'ignore' },
  );
  const randomMiB = s * RANDOM_MIB_PER_SCALE;
  // 1 KiB of random bytes per row: incompressible for zstd and for TOAST's pglz alike
  psql(
    pg,
    `CREATE EXTENSION IF NOT EXISTS pgcrypto; CREATE TABLE bench_random (id int PRIMARY KEY, payload bytea);` +
      `INSERT INTO bench_random SELECT i, gen_random_bytes(1024) FROM generate_series(1, ${randomMiB * 1024}) i;`,
  );
  psql(pg, 'VACUUM ANALYZE');
  psql(pg, 'CHECKPOINT');
  const size = psql(pg, 'SELECT pg_size_pretty(sum(pg_database_size(datname))) FROM pg_database').trim();
  return { size, randomMiB };
}

interface Measured {
  ms: number;
  code: number;
  /** kindling only: its own VmHWM (the sum, should it ever run as several Node processes). */
  peakKiB: number;
  /** shell pipelines: `/usr/bin/time` max RSS of each timed process, by name. */
  timed: Map<string, number>;
  stderr: string;
}

function measure(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Measured> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr = (stderr + d).slice(-8000);
    });
    child.on('close', (code) => {
      const ms = performance.now() - t0;
      // every Node process of the command reports (the preload is inherited): resident together
      const peaks = [...stderr.matchAll(/BENCH_VMHWM_KIB (\d+)/g)].map((m) => Number(m[1]));
      const timed = new Map([...stderr.matchAll(/BENCH_RSS (\S+) (\d+)/g)].map((m) => [m[1]!, Number(m[2])]));
      resolve({ ms, code: code ?? 1, peakKiB: peaks.reduce((a, b) => a + b, 0), timed, stderr });
    });
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const mib = (kib: number) => `${(kib / 1024).toFixed(1)} MiB`;
const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
/** `/usr/bin/time` prefix: the process's max RSS tagged with a name on stderr (GNU time(1): `%M` is the process's lifetime peak resident set size, in KiB). */
const timed = (name: string) => `/usr/bin/time -f 'BENCH_RSS ${name} %M'`;

const [pg, s3] = await Promise.all([startPostgres(), startS3({ buckets: ['backups'] })]);
let run = 0;
try {
  // path-style addressing: s3rver serves buckets under the path, not as virtual hosts; the
  // `s3 = addressing_style = path` nesting is the AWS CLI's ("AWS CLI S3 Configuration",
  // docs.aws.amazon.com/cli/latest/topic/s3-config.html); its transfer defaults (concurrency,
  // multipart chunk size) are left as a user would leave them
  const awsConfig = join(tempDir('awscfg'), 'config');
  writeFileSync(awsConfig, '[default]\ns3 =\n  addressing_style = path\n');
  const env = {
    ...process.env,
    AWS_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_CONFIG_FILE: awsConfig,
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_PAGER: '',
  };
  const pgConn = `-h '${pg.dir}' -p ${pg.port} -U postgres`;
  const aws = `${AWS} --endpoint-url ${s3.endpoint} --only-show-errors`;
  // s3rver keeps every object on disk: drop each run's so the disk does not fill up
  const drop = (prefix: string) => execFileSync('rm', ['-rf', join(s3.dir, 'backups', prefix)]);
  /** Bytes of the objects s3rver holds under a prefix (its files `<key>._S3rver_object`). */
  const objectBytes = (prefix: string) =>
    readdirSync(join(s3.dir, 'backups', prefix), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('._S3rver_object'))
      .reduce((a, f) => a + statSync(join(s3.dir, 'backups', prefix, f)).size, 0);
  let awsStoredBytes = 0;
  const shell = async (what: string, script: string) => {
    const m = await measure('bash', ['-c', `set -o pipefail; ${script}`], env);
    if (m.code !== 0) throw new Error(`${what} failed (exit ${m.code}): ${m.stderr}`);
    return m;
  };
  const kindlingCli = async (args: string[], extraEnv: NodeJS.ProcessEnv = {}) => {
    const m = await measure(
      process.execPath,
      [
        '--import',
        VMHWM_PRELOAD,
        join(ROOT, 'bin/kindling.js'),
        ...args,
        '--target',
        'local',
        '--components',
        'postgres',
        '--endpoint',
        `postgres=${pg.url}`,
        '--s3-endpoint',
        s3.endpoint,
      ],
      { ...env, ...extraEnv },
    );
    if (m.code !== 0 || !m.peakKiB)
      throw new Error(`kindling ${args[0]} failed (exit ${m.code}): ${m.stderr}`);
    return m;
  };
  const kindling = async (store = `run${++run}`, extraEnv: NodeJS.ProcessEnv = {}) => {
    const m = await kindlingCli(
      ['backup', '--store', `s3://backups/${store}`, '--compression', 'zstd'],
      extraEnv,
    );
    if (store.startsWith('run')) drop(store);
    return m;
  };
  const awsPipe = async () => {
    const key = `aws${++run}`;
    const m = await shell(
      'pg_dumpall | zstd -3 | aws s3 cp -',
      `${timed('pg_dumpall')} pg_dumpall ${pgConn} | ${timed('zstd')} zstd -3 -q | ${timed('aws')} ${aws} s3 cp - s3://backups/${key}/all.sql.zst`,
    );
    awsStoredBytes = objectBytes(key);
    drop(key);
    if (m.timed.size !== 3)
      throw new Error(`/usr/bin/time reported ${m.timed.size} of 3 processes: ${m.stderr}`);
    return m;
  };
  const dumpNull = () => shell('pg_dumpall | zstd -3', `pg_dumpall ${pgConn} | zstd -3 -q > /dev/null`);
  // the floor: the dump alone, its output hashed and multipart-uploaded by kindling's store code
  const floor = async () => {
    const key = `floor${++run}`;
    const m = await shell(
      'pg_dumpall | zstd -3 | upload-floor',
      `pg_dumpall ${pgConn} | zstd -3 -q | ${process.execPath} ${join(ROOT, 'bench/upload-floor.ts')} ${s3.endpoint} backups ${key}/all.sql.zst`,
    );
    drop(key);
    return m;
  };
  const storedMiB = (m: Measured) =>
    [...m.stderr.matchAll(/stored \S+ \((\d+) bytes/g)].reduce((a, x) => a + Number(x[1]), 0) / 1048576;

  /** RUNS rounds of every side, the order rotating each round; the load after each round. */
  const rounds = async <K extends string>(label: string, sides: Record<K, () => Promise<Measured>>) => {
    const names = Object.keys(sides) as K[];
    const out = Object.fromEntries(names.map((n) => [n, [] as Measured[]])) as Record<K, Measured[]>;
    const loads: string[] = [load()];
    for (let i = 0; i < RUNS; i++) {
      const order = names.map((_, j) => names[(i + j) % names.length]!);
      for (const n of order) out[n].push(await sides[n]());
      loads.push(load());
      const line = names.map((n) => {
        const m = out[n].at(-1)!;
        const rss = m.peakKiB
          ? ` (VmHWM ${mib(m.peakKiB)})`
          : m.timed.size
            ? ` (Σ max RSS ${mib(sum(m.timed))})`
            : '';
        return `${n} ${secs(m.ms)}${rss}`;
      });
      console.log(`  ${label} round ${i + 1}: ${line.join(', ')}; load ${loads.at(-1)}`);
    }
    return { out, loads };
  };
  const med = (ms: Measured[]) => median(ms.map((m) => m.ms));

  console.log(`pgbench -i -s ${scale} + random bytes …`);
  const big = prepare(pg, scale);
  console.log(`database ${big.size} (${big.randomMiB} MiB of it random)`);
  // The first backup on a fresh runner: an empty compile cache (os.tmpdir() is where
  // bin/kindling.js keeps it), printed apart; then one untimed run fills the cache every measured
  // run finds, as every later backup on a machine finds it.
  const cold = await kindling(undefined, { TMPDIR: tempDir('cold-cache') });
  console.log(`  first backup, empty compile cache: ${secs(cold.ms)}, peak RSS ${mib(cold.peakKiB)}`);
  const warmUp = await kindling();
  console.log(`  warm-up run: ${secs(warmUp.ms)}, peak RSS ${mib(warmUp.peakKiB)}`);
  const b = await rounds(`backup, scale ${scale}`, {
    'aws pipeline': awsPipe,
    'dump>/dev/null': dumpNull,
    'dump+bare upload': floor,
    kindling: () => kindling(),
  });
  const bigAwsBytes = awsStoredBytes;

  // (c) one artifact per side, then restores of it into fresh databases
  await kindling('restore-src');
  await shell(
    'pg_dump -Fc | zstd -3 | aws s3 cp -',
    `pg_dump ${pgConn} -d postgres -Fc -Z0 | zstd -3 -q | ${aws} s3 cp - s3://backups/aws-restore/postgres.pgdump.zst`,
  );
  let fresh = 0;
  // a restore that restored nothing would be fast: each one must hold every source row
  const rowsOf = (db: string) =>
    psql(
      pg,
      "SELECT (SELECT count(*) FROM pgbench_accounts) || '/' || (SELECT count(*) FROM bench_random)",
      db,
    ).trim();
  const sourceRows = rowsOf('postgres');
  const dropDb = (db: string) => {
    const got = rowsOf(db);
    if (got !== sourceRows) throw new Error(`restore into ${db}: rows ${got}, source ${sourceRows}`);
    psql(pg, `DROP DATABASE ${db}`);
  };
  const kindlingRestore = async () => {
    const db = `bench_restore_${++fresh}`;
    const m = await kindlingCli([
      'restore',
      '--backup',
      'latest',
      '--store',
      's3://backups/restore-src',
      '--database',
      `postgres=${db}`,
      '--no-globals',
    ]);
    dropDb(db);
    return m;
  };
  const awsRestore = async () => {
    const db = `bench_restore_${++fresh}`;
    const m = await shell(
      'aws s3 cp - | zstd -d | pg_restore',
      `createdb ${pgConn} -T template0 ${db} && ${aws} s3 cp s3://backups/aws-restore/postgres.pgdump.zst - | zstd -d -q | pg_restore ${pgConn} --exit-on-error --no-owner --no-acl -d ${db}`,
    );
    dropDb(db);
    return m;
  };
  const r = await rounds(`restore, scale ${scale}`, {
    'aws pipeline': awsRestore,
    kindling: kindlingRestore,
  });

  console.log(`pgbench -i -s ${SMALL_SCALE} + random bytes …`);
  const small = prepare(pg, SMALL_SCALE);
  console.log(`database ${small.size} (${small.randomMiB} MiB of it random)`);
  const s = await rounds(`backup, scale ${SMALL_SCALE}`, {
    'aws pipeline': awsPipe,
    kindling: () => kindling(),
  });

  const kindMs = med(b.out.kindling);
  const awsMs = med(b.out['aws pipeline']);
  const nullMs = med(b.out['dump>/dev/null']);
  const vsAws = kindMs / awsMs;
  const vsNull = kindMs / nullMs;
  const floorVsNull = med(b.out['dump+bare upload']) / nullMs;
  const bigPeak = Math.max(...b.out.kindling.map((m) => m.peakKiB));
  const smallPeak = Math.max(...s.out.kindling.map((m) => m.peakKiB));
  const rssDiff = (bigPeak - smallPeak) / smallPeak;
  const awsPeak = (ms: Measured[]) => Math.max(...ms.map((m) => sum(m.timed)));
  const awsAlone = (ms: Measured[]) => Math.max(...ms.map((m) => m.timed.get('aws') ?? 0));
  const awsZstd = (ms: Measured[]) =>
    Math.max(...ms.map((m) => (m.timed.get('aws') ?? 0) + (m.timed.get('zstd') ?? 0)));
  const restoreRatio = med(r.out.kindling) / med(r.out['aws pipeline']);

  const rows: [string, string, string, boolean | undefined][] = [
    ['backup: kindling (zstd 3) → s3rver', secs(kindMs), '', undefined],
    ['backup: pg_dumpall | zstd -3 | aws s3 cp -', secs(awsMs), '', undefined],
    ['backup: pg_dumpall | zstd -3 > /dev/null', secs(nullMs), '', undefined],
    ['(a) kindling / aws pipeline', `${vsAws.toFixed(2)}×`, '≤ 1.00×', vsAws <= 1.0],
    ['(a) kindling / dump alone', `${vsNull.toFixed(2)}×`, '≤ 1.20×', vsNull <= 1.2],
    [
      '    floor: dump alone + bare upload (bench/upload-floor.ts) / dump alone',
      `${floorVsNull.toFixed(2)}×`,
      '(reference)',
      undefined,
    ],
    [`(b) kindling VmHWM, ${big.size}`, mib(bigPeak), '≤ 128 MiB', bigPeak <= 128 * 1024],
    [`(b) kindling VmHWM, ${small.size}`, mib(smallPeak), '≤ 128 MiB', smallPeak <= 128 * 1024],
    [
      `(b) kindling VmHWM ${big.size} vs ${small.size}`,
      `${(rssDiff * 100).toFixed(1)} %`,
      'within 10 %',
      Math.abs(rssDiff) <= 0.1,
    ],
    [
      `(b) aws pipeline Σ max RSS, ${big.size}`,
      mib(awsPeak(b.out['aws pipeline'])),
      '(reference)',
      undefined,
    ],
    [
      `    of it aws + zstd (no dump tool), ${big.size}`,
      mib(awsZstd(b.out['aws pipeline'])),
      '(reference)',
      undefined,
    ],
    [
      `    of it the aws process, ${big.size}`,
      mib(awsAlone(b.out['aws pipeline'])),
      '(reference)',
      undefined,
    ],
    [
      `(b) aws pipeline Σ max RSS, ${small.size}`,
      mib(awsPeak(s.out['aws pipeline'])),
      '(reference)',
      undefined,
    ],
    ['restore: kindling restore', secs(med(r.out.kindling)), '', undefined],
    ['restore: aws s3 cp - | zstd -d | pg_restore', secs(med(r.out['aws pipeline'])), '', undefined],
    ['(c) kindling restore / aws pipeline', `${restoreRatio.toFixed(2)}×`, '≤ 1.00×', restoreRatio <= 1.0],
  ];
  console.log('');
  console.log(
    `medians of ${RUNS} alternating runs each; ${big.size} (kindling stored ${storedMiB(b.out.kindling[0]!).toFixed(1)} MiB, the aws pipeline ${(bigAwsBytes / 1048576).toFixed(1)} MiB), small ${small.size}; peaks are the max of the runs`,
  );
  const w = Math.max(...rows.map((x) => x[0].length));
  for (const [name, value, target, met] of rows) {
    const verdict = met === undefined ? '' : met ? 'met' : 'MISSED';
    console.log(`  ${name.padEnd(w)}  ${value.padStart(10)}  ${target.padEnd(12)}  ${verdict}`);
  }
  console.log(
    `load average (1/5/15 min) during the runs: ${[...b.loads, ...r.loads, ...s.loads].join(' | ')}`,
  );
  console.log(
    '(2 shared cores; s3rver runs on them too; other engineers load the CPU: figures are pessimistic)',
  );
} finally {
  await Promise.all([pg.stop(), s3.stop()]);
}
