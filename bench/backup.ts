/**
 * Backup throughput and memory: a pgbench database (scale 70 ≈ 1 GiB; `npm run bench:backup -- 30`
 * for another scale) plus a table of random bytes (4 MiB per scale unit, so the compressed
 * artifact is hundreds of MB and streaming really has to stream), backed up by `kindling backup`
 * to s3rver, against `pg_dumpall | zstd -3 > /dev/null` on the same data at the same level.
 *
 * Fairness: each side runs RUNS times, alternating, and the median counts (the first runs warm the
 * page cache for both); an untimed kindling run before them fills Node's compile cache, so that
 * every measured run — at both sizes — starts the same way. kindling's peak RSS is its own VmHWM
 * (read by the process itself at exit, through a preload, inherited by the process `backup`
 * relaunches), not a polled guess and not the sum of the process tree. The same measurement at
 * scale 7 (≈ 100 MiB + 28 MiB random) must be within 10 % of the big one: memory independent of
 * size.
 * Load averages are printed with the figures: other engineers share these 2 cores.
 */
import { execFileSync, spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { psql, type RunningPostgres, startPostgres, startS3 } from '../test/harness/services.ts';

const ROOT = new URL('../', import.meta.url).pathname;
const scale = Number(process.argv[2] ?? 70);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const SMALL_SCALE = 7;
const RANDOM_MIB_PER_SCALE = 4;

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
  /** kindling only: the process's own VmHWM. */
  peakKiB: number;
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
      // `backup` relaunches itself with V8 heap flags (src/util/heap.ts): the preload reports for
      // both processes; the streaming one is the larger (the launcher holds ~45 MiB)
      const peaks = [...stderr.matchAll(/BENCH_VMHWM_KIB (\d+)/g)].map((m) => Number(m[1]));
      resolve({ ms, code: code ?? 1, peakKiB: peaks.length ? Math.max(...peaks) : 0, stderr });
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

const [pg, s3] = await Promise.all([startPostgres(), startS3({ buckets: ['backups'] })]);
let run = 0;
try {
  const env = {
    ...process.env,
    AWS_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    AWS_REGION: 'us-east-1',
  };
  const kindling = async () => {
    const m = await measure(
      process.execPath,
      [
        '--import',
        VMHWM_PRELOAD,
        join(ROOT, 'bin/kindling.js'),
        'backup',
        '--target',
        'local',
        '--components',
        'postgres',
        '--endpoint',
        `postgres=${pg.url}`,
        '--store',
        `s3://backups/run${++run}`,
        '--s3-endpoint',
        s3.endpoint,
        '--compression',
        'zstd',
      ],
      env,
    );
    if (m.code !== 0 || !m.peakKiB) throw new Error(`kindling backup failed (exit ${m.code}): ${m.stderr}`);
    // s3rver keeps every object on disk: drop this run's so the disk does not fill up
    execFileSync('rm', ['-rf', join(s3.dir, 'backups', `run${run}`)]);
    return m;
  };
  const baseline = async () => {
    const m = await measure('bash', [
      '-c',
      `set -o pipefail; pg_dumpall -h '${pg.dir}' -p ${pg.port} -U postgres | zstd -3 -q > /dev/null`,
    ]);
    if (m.code !== 0) throw new Error(`pg_dumpall | zstd failed: ${m.stderr}`);
    return m;
  };
  const storedMiB = (m: Measured) =>
    [...m.stderr.matchAll(/stored \S+ \((\d+) bytes/g)].reduce((a, x) => a + Number(x[1]), 0) / 1048576;

  const sides = async (label: string) => {
    const base: Measured[] = [];
    const kind: Measured[] = [];
    const loads: string[] = [load()];
    for (let i = 0; i < RUNS; i++) {
      base.push(await baseline());
      kind.push(await kindling());
      loads.push(load());
      console.log(
        `  ${label} run ${i + 1}: pg_dumpall|zstd ${secs(base.at(-1)!.ms)}, kindling ${secs(kind.at(-1)!.ms)} (peak RSS ${mib(kind.at(-1)!.peakKiB)}), load ${loads.at(-1)}`,
      );
    }
    return { base, kind, loads };
  };

  console.log(`pgbench -i -s ${scale} + random bytes …`);
  const big = prepare(pg, scale);
  console.log(`database ${big.size} (${big.randomMiB} MiB of it random)`);
  // One untimed run first: it fills Node's compile cache (bin/kindling.js turns it on), as every
  // later run finds it. Its peak is printed apart: that is a fresh CI runner's first backup.
  const cold = await kindling();
  console.log(`  warm-up run (fresh compile cache): ${secs(cold.ms)}, peak RSS ${mib(cold.peakKiB)}`);
  const b = await sides(`scale ${scale}`);

  console.log(`pgbench -i -s ${SMALL_SCALE} + random bytes …`);
  const small = prepare(pg, SMALL_SCALE);
  console.log(`database ${small.size} (${small.randomMiB} MiB of it random)`);
  const s = await sides(`scale ${SMALL_SCALE}`);

  const baseMs = median(b.base.map((m) => m.ms));
  const kindMs = median(b.kind.map((m) => m.ms));
  const ratio = kindMs / baseMs;
  const bigPeak = Math.max(...b.kind.map((m) => m.peakKiB));
  const smallPeak = Math.max(...s.kind.map((m) => m.peakKiB));
  const rssDiff = (bigPeak - smallPeak) / smallPeak;
  console.log('');
  console.log(`medians of ${RUNS} alternating runs each, ${big.size}:`);
  console.log(`  pg_dumpall | zstd -3 > /dev/null   ${secs(baseMs)}`);
  console.log(
    `  kindling backup (zstd 3) → s3rver  ${secs(kindMs)}   (stored ${storedMiB(b.kind[0]!).toFixed(0)} MiB; at scale ${SMALL_SCALE}: ${storedMiB(s.kind[0]!).toFixed(0)} MiB)`,
  );
  console.log(
    `(a) wall-time ratio kindling / pg_dumpall|zstd: ${ratio.toFixed(2)}   (target ≤ 1.3) ${ratio <= 1.3 ? 'OK' : 'MISSED'}`,
  );
  console.log(
    `(b) kindling peak RSS (VmHWM, max of runs), ${big.size}: ${mib(bigPeak)}   (target ≤ 200 MiB) ${bigPeak <= 200 * 1024 ? 'OK' : 'MISSED'}`,
  );
  console.log(
    `    kindling peak RSS, ${small.size}: ${mib(smallPeak)}   difference ${(rssDiff * 100).toFixed(1)} % (target within 10 %) ${Math.abs(rssDiff) <= 0.1 ? 'OK' : 'MISSED'}`,
  );
  console.log(`load average (1/5/15 min) during the runs: ${[...b.loads, ...s.loads].join(' | ')}`);
  console.log(
    '(2 shared cores; s3rver runs on them too; other engineers load the CPU: figures are pessimistic)',
  );
} finally {
  await Promise.all([pg.stop(), s3.stop()]);
}
