/**
 * Parallel verify: wall time of verifying every local service at once, divided by the slowest single
 * check run alone. 1.0 means the whole run costs no more than its slowest check; target <= 1.5.
 * Real servers from the test harness; named stand-ins for the services that cannot run here.
 */

import { verifyStack } from '../src/app/verify.ts';
import type { Component } from '../src/catalog/types.ts';
import { waitFor } from '../test/harness/services.ts';
import { startMonitoring } from '../test/integration/monitoring-stack.ts';
import { startStack } from '../test/integration/verify-fixture.ts';

// Each figure is tens of milliseconds: take many rounds so the medians are stable (BENCH_ROUNDS overrides).
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 21);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const fx = await startStack();
// the seed's metrics checks ask the stack's Prometheus (real exporters on the fixture's PostgreSQL and
// Redis, named stand-ins for Milvus, kafka_exporter and ClickHouse 24.8)
const monitoring = await startMonitoring(fx.pg.url, fx.redis.url);
try {
  const endpoints = fx.endpoints();
  for (const [k, v] of monitoring.endpoints) endpoints.set(k, v);
  const components = Object.values(fx.stack.components).filter((c) =>
    [...endpoints.keys()].some((k) => k.startsWith(`${c.name}.`)),
  );
  const verify = async (list: Component[]) => {
    const t0 = performance.now();
    const report = await verifyStack({
      stack: fx.stack,
      components: list,
      target: 'local',
      endpoints,
      timeoutMs: 10_000,
    });
    return { ms: performance.now() - t0, report };
  };
  // Prometheus's targets-up needs its first scrape; wait until the whole stack verifies once
  await waitFor('a fully healthy stack', async () => (await verify(components)).report.failed === 0, 30_000);

  const singles: { name: string; ms: number }[] = [];
  for (const c of components)
    for (const check of c.checks.filter((k) => k.target !== 'kube' && k.type !== 'exec')) {
      const only = { ...c, checks: [check] };
      const times: number[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        const { ms, report } = await verify([only]);
        if (report.failed) throw new Error(`${c.name}/${check.name} failed: ${report.results[0]?.message}`);
        times.push(ms);
      }
      singles.push({ name: `${c.name}/${check.name}`, ms: median(times) });
    }
  const slowest = singles.reduce((a, b) => (b.ms > a.ms ? b : a));
  const fulls: number[] = [];
  let checks = 0;
  for (let i = 0; i < ROUNDS; i++) {
    const { ms, report } = await verify(components);
    if (report.failed)
      throw new Error(
        `full run failed: ${JSON.stringify(report.results.filter((r) => r.status === 'fail'))}`,
      );
    checks = report.passed;
    fulls.push(ms);
  }
  const full = median(fulls);
  console.log(`checks in the full run: ${checks} over ${components.length} components`);
  console.log(`slowest single check: ${slowest.name} ${slowest.ms.toFixed(1)} ms (median of ${ROUNDS})`);
  console.log(`verify of all local services: ${full.toFixed(1)} ms (median of ${ROUNDS})`);
  console.log(`ratio (all) / (slowest single): ${(full / slowest.ms).toFixed(2)} (target <= 1.5)`);
} finally {
  await monitoring.stop();
  await fx.stop();
}
