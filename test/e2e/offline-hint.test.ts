// `kindling up` without Docker names `npm run e2e` as the offline way to watch the pipeline (issue #17).
import { expect, it } from 'vitest';
import { checkDocker } from '../../src/kind/preflight.ts';

it('no docker command: the usage error names npm run e2e (the simulated cluster)', async () => {
  const err = await checkDocker('/nonexistent/docker', 2000).then(
    () => undefined,
    (e: Error) => e,
  );
  expect(err?.name).toBe('UsageError');
  expect(err?.message).toMatch(/Docker is needed .* npm run e2e \(a simulated cluster/);
});
