// `npm run bench:validate`: wall time of the whole `kindling validate` process (Node start-up,
// imports, kubectl kustomize, every check) for each sizing of the catalog, run as a user
// runs it: `node bin/kindling.js validate --sizing S`.
// Target: under 1.5 s per sizing on a 2-core machine. A run that is not a validation (exit 2, no
// JSON: a flag validate no longer takes once made every run a fast usage error) fails the bench.
// Two figures, because bin/kindling.js turns on Node's on-disk compile cache:
//   cold: an empty cache for every run (a fresh clone, a CI job), the target is judged on this;
//   warm: the cache filled by an earlier run (a developer running validate again).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readCatalog } from '../src/catalog/load.ts';

const TARGET_MS = 1500;
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const REAL = 'manifests/stack.yaml';
const FIXTURE = 'test/fixtures/validate/good/stack.yaml';

const realReady = existsSync(REAL) && existsSync('manifests/base/kustomization.yaml');
const catalog = process.env.KINDLING_CATALOG ?? (realReady ? REAL : FIXTURE);
if (catalog === FIXTURE)
  console.log(
    `note: the real manifests are not there yet (${REAL} + manifests/base/kustomization.yaml); timing the fixture stack`,
  );

const { stack, problems } = readCatalog(catalog);
if (!stack) {
  console.error(`bench: cannot read ${catalog}: ${problems.map((p) => p.message).join('; ')}`);
  process.exit(2);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
const loadBefore = load();

interface Run {
  ms: number;
  /** validate's own work (catalog to last check), as opposed to Node start-up and CLI imports */
  ownMs?: number;
  exit: number | null;
  summary: string;
}

function runOnce(sizing: string, cacheDir: string): Run {
  const t0 = performance.now();
  const r = spawnSync(
    process.execPath,
    [resolve('bin/kindling.js'), 'validate', '--catalog', catalog, '--sizing', sizing, '--format', 'json'],
    {
      encoding: 'utf8',
      env: {
        ...process.env,
        KINDLING_TIMING: '1',
        NODE_COMPILE_CACHE: cacheDir,
        NODE_DISABLE_COMPILE_CACHE: '',
      },
    },
  );
  const ms = performance.now() - t0;
  const checks = /timing: checks at (\d+)ms/.exec(r.stderr);
  let summary: string;
  try {
    const out = JSON.parse(r.stdout) as { objects: number; errors: number; warnings: number };
    summary = `${out.objects} objects, ${out.errors} errors, ${out.warnings} warnings`;
  } catch {
    const said = r.stderr.split('\n').find((l) => l.trim() && !l.startsWith('timing:'));
    summary = `no JSON output: ${said ?? '(nothing on stderr)'}`;
  }
  // exit 0 clean, 1 problems found: both are a whole validation; anything else timed nothing
  if ((r.status !== 0 && r.status !== 1) || summary.startsWith('no JSON')) {
    console.error(`bench: validate --sizing ${sizing} did not validate (exit ${r.status}): ${summary}`);
    process.exit(2);
  }
  return { ms, ownMs: checks ? Number(checks[1]) : undefined, exit: r.status, summary };
}

const fresh = () => mkdtempSync(join(tmpdir(), 'kindling-bench-cc-'));
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

function report(sizing: string, mode: string, runs: Run[]): boolean {
  const times = runs.map((r) => r.ms);
  const own = runs.flatMap((r) => (r.ownMs === undefined ? [] : [r.ownMs]));
  const m = median(times);
  const last = runs.at(-1)!;
  const ownNote = own.length ? `; validate's own work ${s(median(own))}` : '';
  console.log(
    `${sizing.padEnd(12)} ${mode}  median ${s(m)}  (min ${s(Math.min(...times))}, max ${s(Math.max(...times))})  ${m < TARGET_MS ? 'meets' : 'MISSES'} the ${TARGET_MS / 1000} s target  [exit ${last.exit}; ${last.summary}${ownNote}]`,
  );
  return m < TARGET_MS;
}

console.log(`kindling validate --catalog ${catalog}: ${RUNS} runs per sizing, cold and warm compile cache`);
let allMet = true;
const warmDir = fresh();
try {
  for (const sizing of Object.keys(stack.render.overlays)) {
    const cold: Run[] = [];
    for (let i = 0; i < RUNS; i++) {
      const dir = fresh();
      try {
        cold.push(runOnce(sizing, dir));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    runOnce(sizing, warmDir); // fills the cache, untimed
    const warm: Run[] = [];
    for (let i = 0; i < RUNS; i++) warm.push(runOnce(sizing, warmDir));
    allMet = report(sizing, 'cold', cold) && allMet;
    report(sizing, 'warm', warm);
  }
} finally {
  rmSync(warmDir, { recursive: true, force: true });
}
console.log(
  `load average (1, 5, 15 min) before: ${loadBefore}, after: ${load()} (2 cores; other work inflates these times)`,
);
process.exitCode = allMet ? 0 : 1;
