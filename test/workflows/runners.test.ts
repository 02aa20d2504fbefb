// biome-ignore-all lint/suspicious/noTemplateCurlyInString: GitHub `${{ }}` expressions are test data here
// Issue #16 defects 4–7 on the parsed workflows: runners and environments, concurrency, triggers, pins.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isObj, jobs, loadWorkflows, type Obj, steps } from './workflows.ts';

const all = new Map(loadWorkflows().map((w) => [w.file.split('/').pop()!, w]));
const wf = (name: string) => all.get(name)!;
const call = (name: string) => (wf(name).doc.on as Obj).workflow_call as Obj;
const RUNS_ON = "${{ startsWith(inputs.runs-on, '[') && fromJSON(inputs.runs-on) || inputs.runs-on }}";

describe('reusable workflows run where the cluster is (defect 4)', () => {
  it.each(['reusable-backup.yml', 'reusable-deploy.yml', 'reusable-validate-deploy.yml'])(
    '%s: a runs-on input (label or JSON array) used by the jobs that reach the cluster',
    (name) => {
      const inputs = call(name).inputs as Record<string, Obj>;
      expect(inputs['runs-on']).toMatchObject({ type: 'string', default: 'ubuntu-24.04' });
      const reaching = jobs(wf(name)).filter(([id]) => id !== 'report');
      expect(reaching.length).toBeGreaterThan(0);
      for (const [id, job] of reaching) expect(job['runs-on'], id).toBe(RUNS_ON);
    },
  );
  it('reusable-backup: an environment input for its jobs, and the cluster it backs up in the job names', () => {
    const inputs = call('reusable-backup.yml').inputs as Record<string, Obj>;
    expect(inputs.environment).toMatchObject({ type: 'string', default: '' });
    expect(inputs.cluster).toMatchObject({ type: 'string', required: true });
    for (const id of ['backup', 'watchdog']) {
      const job = jobs(wf('reusable-backup.yml')).find(([j]) => j === id)![1];
      expect(job.environment).toBe('${{ inputs.environment }}');
      expect(String(job.name)).toContain('${{ inputs.cluster }}');
    }
  });
  it('nightly-backup says which cluster, context, runner and environment it uses', () => {
    const [, job] = jobs(wf('nightly-backup.yml'))[0]!;
    const w = job.with as Obj;
    expect(String(w.cluster)).toContain('vars.KINDLING_BACKUP_CLUSTER');
    expect(String(w.context)).toContain('vars.KINDLING_BACKUP_CONTEXT');
    expect(String(w['runs-on'])).toContain('vars.KINDLING_BACKUP_RUNS_ON');
    expect(String(w.environment)).toContain('vars.KINDLING_BACKUP_ENVIRONMENT');
  });
});

describe('the watchdog cannot replace a pending nightly backup (defect 5)', () => {
  // GitHub evaluates the group per run; simulate the expression for each trigger
  const group = String((wf('nightly-backup.yml').doc.concurrency as Obj).group);
  const evaluate = (schedule: string | undefined, watchdogOnly: boolean) => {
    const m =
      /^kindling-nightly-\$\{\{ \(github\.event\.schedule == '([^']+)' \|\| inputs\.watchdog-only == true\) && 'watchdog' \|\| 'backup' \}\}$/.exec(
        group,
      );
    expect(m, group).not.toBeNull();
    return `kindling-nightly-${schedule === m![1] || watchdogOnly ? 'watchdog' : 'backup'}`;
  };
  it('the two schedules and a watchdog-only dispatch fall in different groups', () => {
    const crons = ((wf('nightly-backup.yml').doc.on as Obj).schedule as Obj[]).map((s) => String(s.cron));
    const [nightly, watchdog] = [
      crons.find((c) => c.startsWith('17 2'))!,
      crons.find((c) => c.includes('*/6'))!,
    ];
    expect(evaluate(nightly, false)).toBe('kindling-nightly-backup');
    expect(evaluate(watchdog, false)).toBe('kindling-nightly-watchdog');
    expect(evaluate(undefined, true)).toBe('kindling-nightly-watchdog');
    expect(evaluate(undefined, false)).toBe('kindling-nightly-backup');
  });
});

describe('pr-validation reacts to the right events (defect 6)', () => {
  it('a `labeled` event runs the pipeline only for the full-stack label', () => {
    const [, select] = jobs(wf('pr-validation.yml')).find(([id]) => id === 'select')!;
    expect(select.if).toBe("github.event.action != 'labeled' || github.event.label.name == 'full-stack'");
    // every other job depends on select, so a skipped select skips the deploy
    for (const [id, job] of jobs(wf('pr-validation.yml')).filter(([id]) => id !== 'select'))
      expect([job.needs].flat(), id).toContain('select');
  });
});

/**
 * Every pinned action and the `runs.using` of its action.yml at that commit, read from the action's
 * own repository (fetched and read with git show <sha>:action.yml).
 */
const NODE24_PINS: Record<string, string> = {
  // actions/checkout v5.0.0: action.yml `using: node24`
  'actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8': 'node24',
  // actions/setup-node v5.0.0: action.yml `using: 'node24'`
  'actions/setup-node@a0853c24544627f65ddf259abe73b1d18a591444': 'node24',
  // actions/upload-artifact v6.0.0: `using: 'node24'` (v4.6.2 ea165f8… and v5.0.0 are node20)
  'actions/upload-artifact@b7c566a772e6b6bfb58ed0dc250532a479d7789f': 'node24',
  // actions/download-artifact v7.0.0: `using: 'node24'` (v4.3.0 d3f86a1…, v5.0.0 and v6.0.0 are node20)
  'actions/download-artifact@37930b1c2abaa49bbe596cd826c3c89aef350131': 'node24',
};

describe('every pinned action runs on node24 (defect 7)', () => {
  it('each `uses: owner/repo@sha` is a pin whose action.yml says node24', () => {
    const pins = [...all.values()].flatMap((w) =>
      [...w.text.matchAll(/uses:\s*([\w.-]+\/[\w./-]+@[0-9a-f]{40})/g)].map((m) => [w.file, m[1]!] as const),
    );
    expect(pins.length).toBeGreaterThan(0);
    for (const [file, pin] of pins) expect(NODE24_PINS[pin], `${file}: ${pin}`).toBe('node24');
  });
  it('no action is referenced by a tag or branch instead of a SHA', () => {
    for (const w of all.values())
      for (const s of jobs(w).flatMap(([, j]) => steps(j)))
        if (typeof s.uses === 'string' && !s.uses.startsWith('./'))
          expect(s.uses, w.file).toMatch(/@[0-9a-f]{40}$/);
  });
  it('the test job installs .ci/run’s apt list where it exists: a Debian bookworm container', () => {
    const [, test] = jobs(wf('ci.yml')).find(([id]) => id === 'test')!;
    expect(test.container).toMatchObject({ image: 'debian:bookworm' });
    // the validate tests need kubectl (kustomize): the runner image's, bound into the container
    expect((test.container as Obj).volumes).toContain('/usr/bin/kubectl:/usr/bin/kubectl:ro');
    expect(steps(test).some((s) => s.run === 'bash .ci/run')).toBe(true);
    // the list itself is the one .ci/run installs (the harness checks the same names locally)
    expect(readFileSync('.ci/run', 'utf8')).toMatch(/packages=\([^)]*clickhouse-server/);
    expect(isObj(test)).toBe(true);
  });
});
