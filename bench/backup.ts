/**
 * Backup throughput and memory: a pgbench database (scale 70 ≈ 1 GiB; `npm run bench:backup -- 30`
 * for another scale) backed up by `kindling backup` to s3rver, against `pg_dumpall | zstd -3 >
 * /dev/null` on the same data. Prints (a) the wall-time ratio (target ≤ 1.3), (b) kindling's peak
 * RSS (target ≤ 200 MiB) and its peak for a ~100 MiB database (scale 7; within 10 % = streaming).
 * kindling runs as a child process; its peak RSS is VmHWM from /proc/<pid>/status.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { psql, type RunningPostgres, startPostgres, startS3 } from '../test/harness/services.ts';

const ROOT = new URL('../', import.meta.url).pathname;
const scale = Number(process.argv[2] ?? 70);
const SMALL_SCALE = 7;

function pgbenchInit(pg: RunningPostgres, s: number): string {
  execFileSync(
    'pgbench',
    ['-i', '-q', '-s', String(s), '-h', pg.dir, '-p', String(pg.port), '-U', 'postgres', 'postgres'],
    { stdio: 'ignore' },
  );
  psql(pg, 'VACUUM ANALYZE');
  return psql(pg, 'SELECT pg_size_pretty(sum(pg_database_size(datname))) FROM pg_database').trim();
}

/** Runs a command, returning wall time (ms), exit code and the peak RSS (VmHWM, KiB) of the process. */
function measure(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ ms: number; code: number; peakKiB: number; stderr: string }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr = (stderr + d).slice(-4000);
    });
    let peakKiB = 0;
    const poll = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) peakKiB = Math.max(peakKiB, Number(m[1]));
      } catch {
        // exited
      }
    }, 20);
    child.on('close', (code) => {
      clearInterval(poll);
      resolve({ ms: performance.now() - t0, code: code ?? 1, peakKiB, stderr });
    });
  });
}

const [pg, s3] = await Promise.all([startPostgres(), startS3({ buckets: ['backups'] })]);
try {
  const env = {
    ...process.env,
    AWS_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    AWS_REGION: 'us-east-1',
  };
  const kindling = (prefix: string) =>
    measure(
      process.execPath,
      [
        join(ROOT, 'bin/kindling.js'),
        'backup',
        '--target',
        'local',
        '--components',
        'postgres',
        '--endpoint',
        `postgres=${pg.url}`,
        '--store',
        `s3://backups/${prefix}`,
        '--s3-endpoint',
        s3.endpoint,
      ],
      env,
    );
  const baseline = () =>
    measure('sh', ['-c', `pg_dumpall -h '${pg.dir}' -p ${pg.port} -U postgres | zstd -3 -q > /dev/null`]);

  console.log(`pgbench -i -s ${scale} …`);
  const size = pgbenchInit(pg, scale);
  console.log(`database size ${size}`);
  const base = await baseline();
  const kind = await kindling('big');
  if (kind.code !== 0) throw new Error(`kindling backup failed: ${kind.stderr}`);
  const stored = execFileSync('du', ['-sh', join(s3.dir, 'backups')], { encoding: 'utf8' }).split('\t')[0];

  console.log(`pgbench -i -s ${SMALL_SCALE} (≈100 MiB) …`);
  const smallSize = pgbenchInit(pg, SMALL_SCALE);
  const small = await kindling('small');
  if (small.code !== 0) throw new Error(`kindling backup failed: ${small.stderr}`);

  const mib = (kib: number) => (kib / 1024).toFixed(1);
  const ratio = kind.ms / base.ms;
  const rssDiff = (kind.peakKiB - small.peakKiB) / small.peakKiB;
  console.log('');
  console.log(`pg_dumpall | zstd -3 > /dev/null   ${(base.ms / 1000).toFixed(1)} s   (${size})`);
  console.log(`kindling backup → s3rver           ${(kind.ms / 1000).toFixed(1)} s   (stored ${stored})`);
  console.log(
    `(a) wall-time ratio kindling / pg_dumpall|zstd: ${ratio.toFixed(2)}   (target ≤ 1.3) ${ratio <= 1.3 ? 'OK' : 'MISSED'}`,
  );
  console.log(
    `(b) kindling peak RSS, ${size}: ${mib(kind.peakKiB)} MiB   (target ≤ 200 MiB) ${kind.peakKiB <= 200 * 1024 ? 'OK' : 'MISSED'}`,
  );
  console.log(
    `    kindling peak RSS, ${smallSize}: ${mib(small.peakKiB)} MiB   difference ${(rssDiff * 100).toFixed(1)} % (target within 10 %) ${Math.abs(rssDiff) <= 0.1 ? 'OK' : 'MISSED'}`,
  );
  console.log('(2 shared cores, other engineers loading the CPU: figures are pessimistic)');
} finally {
  await Promise.all([pg.stop(), s3.stop()]);
}
