/**
 * `npm run e2e`: the PR pipeline (pr-validation.yml) end to end on this machine, offline, against the
 * simulated cluster of test/sim (no Docker, no API server needed; root for the pod namespaces).
 * Options: --changed-files a,b (run the select step on these paths instead of the minimal profile),
 * --keep (keep the work directory), --strict (stop at a failed verify, as the workflow does),
 * --upgrade (the `kindling upgrade` paths instead: test/e2e/upgrade*.test.ts).
 * Exit 0 when every step passed, 1 otherwise, 2 for a usage error or a machine that cannot run it.
 */

import { runPipeline } from '../test/e2e/pipeline.ts';
import { summarize } from '../test/e2e/summary.ts';
import { runtimeAvailable } from '../test/sim/runtime.ts';

const args = process.argv.slice(2);
const known = new Set(['--changed-files', '--keep', '--strict', '--upgrade']);
for (const a of args)
  if (a.startsWith('--') && !known.has(a)) {
    console.error(`e2e: unknown option ${a} (known: ${[...known].join(', ')})`);
    process.exit(2);
  }
const missing = runtimeAvailable();
if (missing) {
  console.error(`e2e: this machine cannot run the simulated cluster: ${missing}`);
  process.exit(2);
}
if (args.includes('--upgrade')) {
  // the upgrade paths on the simulated cluster (pass, never ready, fails verify for a StatefulSet and a Deployment, blue-green, dump-restore), each bounded
  const { spawnSync } = await import('node:child_process');
  const vitest = new URL('../node_modules/vitest/vitest.mjs', import.meta.url).pathname;
  const run = spawnSync(
    process.execPath,
    [
      vitest,
      'run',
      'test/e2e/upgrade.test.ts',
      'test/e2e/upgrade-blue-green.test.ts',
      'test/e2e/upgrade-deployment.test.ts',
      'test/e2e/upgrade-dump-restore.test.ts',
    ],
    {
      stdio: 'inherit',
      cwd: new URL('..', import.meta.url).pathname,
    },
  );
  process.exit(run.status ?? 1);
}
const i = args.indexOf('--changed-files');
const changedFiles = i >= 0 ? (args[i + 1] ?? '').split(',').filter(Boolean) : undefined;
const t0 = Date.now();
const result = await runPipeline({
  ...(changedFiles ? { changedFiles } : {}),
  verifyTimeout: '30s',
  continueAfterVerify: !args.includes('--strict'),
  log: (l) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${l.split('\n')[0]}`),
});
console.log('');
console.log(summarize(result));
console.log(`total: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
if (result.ok && !args.includes('--keep')) result.cleanup();
process.exit(result.ok ? 0 : 1);
