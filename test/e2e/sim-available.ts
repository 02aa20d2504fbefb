/**
 * `describe` for suites that need the simulated cluster (root, Linux namespaces, socat, and the real
 * servers its pods run): skipped with the reason where the machine cannot, a failure under CI=true
 * (like test/harness/services.ts describeWithServices).
 */
import { execFileSync } from 'node:child_process';
import { describe, it } from 'vitest';
import { isCI, missingServices } from '../harness/services.ts';
import { runtimeAvailable } from '../sim/runtime.ts';

function missing(): string | undefined {
  const runtime = runtimeAvailable();
  if (runtime) return runtime;
  const services = missingServices(['postgres', 'redis', 'etcd']);
  if (services.length) return `needs ${services.join(', ')}`;
  for (const bin of [
    'mariadbd',
    'mariadb-install-db',
    'prometheus-postgres-exporter',
    'prometheus-redis-exporter',
  ])
    try {
      execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    } catch {
      return `needs ${bin} (apt: mariadb-server, prometheus-postgres-exporter, prometheus-redis-exporter)`;
    }
  return undefined;
}

export function describeWithSim(title: string, fn: () => void): void {
  const why = missing();
  if (!why) describe(title, fn);
  else if (isCI)
    describe(title, () => {
      it('can run the simulated cluster here', () => {
        throw new Error(`CI=true and the simulated cluster cannot run: ${why}`);
      });
    });
  else describe.skip(`${title} — skipped: ${why}`, fn);
}
