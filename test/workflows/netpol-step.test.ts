/**
 * reusable-validate-deploy.yml's NetworkPolicy step, run by bash as the runner runs it, with a
 * recording `kubectl` and an `npm`/`node` that print the probes scripts/network-probes.ts would: what
 * nc dials for each probe, and how the step decides. The probes themselves run against the
 * simulated cluster in test/e2e/netpol.test.ts; here it is the step's own shell.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jobs, loadWorkflows, steps } from './workflows.ts';

const wf = loadWorkflows().find((w) => w.file.endsWith('/reusable-validate-deploy.yml'))!;
const script = String(
  jobs(wf)
    .flatMap(([, job]) => steps(job))
    .find((s) => String(s.name).startsWith('NetworkPolicies allow'))!.run,
);

const own = {
  expect: 'allowed',
  as: 'redis',
  labels: 'app.kubernetes.io/name=redis',
  host: 'redis',
  port: 6379,
  pod: 'app.kubernetes.io/name=redis',
  podPort: 6379,
  why: 'traffic within redis',
};
const stranger = {
  expect: 'denied',
  as: '(unlabelled pod)',
  labels: '',
  host: 'redis',
  port: 6379,
  pod: '',
  podPort: 0,
  why: 'no catalog edge from an unlabelled pod to redis',
};

/**
 * `kubectl get pods` prints PODS (name and IP per line, as the step's jsonpath asks); `kubectl run`
 * records the nc command and answers nc-exit=0 for an allowed dial (ALLOW), 1 otherwise.
 */
function runStep(probes: object[], pods: string) {
  const dir = mkdtempSync(join(tmpdir(), 'kindling-netpol-step-'));
  const bin = (name: string, body: string) => {
    writeFileSync(join(dir, name), `#!/bin/bash\n${body}\n`);
    chmodSync(join(dir, name), 0o755);
  };
  writeFileSync(join(dir, 'probes.json'), JSON.stringify(probes));
  bin('npm', 'exit 0');
  bin('node', `cat "${join(dir, 'probes.json')}"`);
  bin(
    'kubectl',
    `echo "$*" >>"${join(dir, 'calls')}"
case " $* " in
  *" get pods "*) printf '%s' "$PODS" ;;
  *" run "*) cmd="\${@: -1}"; if [[ "$cmd" == *"$ALLOW"* ]]; then echo nc-exit=0; else echo nc-exit=1; fi ;;
esac`,
  );
  bin('sleep', 'exit 0');
  // GitHub's bash on Linux: `bash --noprofile --norc -eo pipefail {0}` (docs: workflow syntax, jobs.<job_id>.steps[*].shell)
  const r = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', script], {
    env: {
      PATH: `${dir}:${process.env.PATH}`,
      RUNNER_TEMP: dir,
      NAMESPACE: 'voiceassistant-infra',
      DEPLOYED: '["redis"]',
      PODS: pods,
      ALLOW: 'nc -zv -w 3 10.244.0.7 6379',
    },
    encoding: 'utf8',
  });
  let calls = '';
  try {
    calls = readFileSync(join(dir, 'calls'), 'utf8');
  } catch {}
  return { status: r.status, out: r.stdout + r.stderr, calls };
}

describe('reusable-validate-deploy.yml: the NetworkPolicy step (bash as the runner runs it, stand-in kubectl)', () => {
  it('traffic within one component dials a running pod of it by IP on the container port, never a probe pod, and never the Service its own labels would join', () => {
    const r = runStep([own, stranger], 'netpol-probe-1-1 10.244.0.9\nredis-0 10.244.0.7\n');
    expect(r.out).toContain('ok: redis -> 10.244.0.7:6379 allowed (traffic within redis)');
    expect(r.out).toContain('ok: (unlabelled pod) -> redis:6379 denied');
    expect(r.calls).toMatch(
      /get pods -l app\.kubernetes\.io\/name=redis --field-selector=status\.phase=Running/,
    );
    const runs = r.calls.split('\n').filter((l) => l.includes(' run '));
    expect(runs[0]).toContain('run netpol-probe-1-1');
    expect(runs[0]).toContain('nc -zv -w 3 10.244.0.7 6379');
    expect(r.calls).not.toContain('10.244.0.9');
    expect(r.status).toBe(0);
  });

  it('no running pod of the component: the probe fails naming the selector (exit 1), and the step goes on to the next probe', () => {
    const r = runStep([own, stranger], 'netpol-probe-1-1 10.244.0.9\n');
    expect(r.out).toContain('::error::probe 1 (redis): no running pod matches app.kubernetes.io/name=redis');
    expect(r.out).toContain('ok: (unlabelled pod) -> redis:6379 denied');
    expect(r.status).toBe(1);
  });

  it('an unlabelled pod that connects fails the step in its words', () => {
    const r = runStep([own, { ...stranger, host: '10.244.0.7' }], 'redis-0 10.244.0.7\n');
    expect(r.out).toContain(
      '::error::(unlabelled pod) connected to 10.244.0.7:6379, which the NetworkPolicies must refuse',
    );
    expect(r.status).toBe(1);
  });
});
