// `npm run bench:validate`: wall time of the whole `kindling validate` process (Node start-up,
// imports, kubectl kustomize, every check) for each sizing profile of the catalog.
// Target: under 1.5 s per profile on a 2-core machine.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
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

console.log(`kindling validate --catalog ${catalog}: ${RUNS} runs per profile`);
let allMet = true;
for (const profile of Object.keys(stack.render.overlays)) {
  const times: number[] = [];
  const own: number[] = [];
  let exit: number | null = null;
  let objects = '';
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    const r = spawnSync(
      process.execPath,
      [
        resolve('bin/kindling.js'),
        'validate',
        '--catalog',
        catalog,
        '--profile',
        profile,
        '--format',
        'json',
      ],
      { encoding: 'utf8', env: { ...process.env, KINDLING_TIMING: '1' } },
    );
    times.push(performance.now() - t0);
    // validate's own work (catalog to last check), as opposed to Node start-up and CLI imports
    const checks = /timing: checks at (\d+)ms/.exec(r.stderr);
    if (checks) own.push(Number(checks[1]));
    exit = r.status;
    try {
      const out = JSON.parse(r.stdout) as { objects: number; errors: number; warnings: number };
      objects = `${out.objects} objects, ${out.errors} errors, ${out.warnings} warnings`;
    } catch {
      objects = `no JSON output: ${r.stderr.trim().split('\n')[0]}`;
    }
  }
  const m = median(times);
  const met = m < TARGET_MS;
  allMet &&= met;
  const ownNote = own.length ? `; of which validate's own work ${(median(own) / 1000).toFixed(2)} s` : '';
  console.log(
    `${profile.padEnd(12)} median ${(m / 1000).toFixed(2)} s  (min ${(Math.min(...times) / 1000).toFixed(2)} s, max ${(Math.max(...times) / 1000).toFixed(2)} s)  ${met ? 'meets' : 'MISSES'} the ${TARGET_MS / 1000} s target  [exit ${exit}; ${objects}${ownNote}]`,
  );
}
console.log(
  `load average while measuring: ${(await import('node:os'))
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')} (2 cores; other work inflates these times)`,
);
process.exitCode = allMet ? 0 : 1;
