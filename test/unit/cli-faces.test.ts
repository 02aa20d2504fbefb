// What a person sees on the command line (issue #16): one selection rule, bounded durations, files
// and URLs checked before the work, progress, failures in full, NO_COLOR, the known kafkajs warning.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fromFlag, fromInput, speaking } from '../../src/app/settings.ts';
import { isKnownHarmless } from '../../src/app/warnings.ts';
import { paintProblems, useColour } from '../../src/cli/colour.ts';
import { componentLine, failureDetails, progressLine } from '../../src/cli/verify-output.ts';
import type { CheckResult, VerifyReport } from '../../src/report/results.ts';
import { UsageError } from '../../src/util/errors.ts';
import { runCli } from '../harness/cli.ts';
import { freePort } from '../harness/services.ts';

const RENDERED = 'test/fixtures/k8s/rendered-minimal.yaml';
const tmp = () => mkdtempSync(join(tmpdir(), 'kindling-faces-'));

describe('one selection rule: components given → profile ignored', () => {
  it('plan --profile full --components redis plans redis alone', async () => {
    const r = await runCli([
      'plan',
      '--profile',
      'full',
      '--components',
      'redis',
      '--rendered',
      RENDERED,
      '--json',
    ]);
    expect(r.code, r.err).toBe(0);
    const plan = JSON.parse(r.out) as { waves: { name: string }[][] };
    expect(plan.waves.flat().map((c) => c.name)).toEqual(['redis']);
  });
  it('with no --profile and no --components, the catalog’s first profile is planned', async () => {
    const r = await runCli(['plan', '--rendered', RENDERED, '--json']);
    expect(r.code, r.err).toBe(0);
    expect((JSON.parse(r.out) as { waves: unknown[][] }).waves.flat().length).toBeGreaterThan(1);
  });
});

describe('usage errors before any work (exit 2, the flag named)', () => {
  it.each([
    [
      ['verify', '--target', 'local', '--endpoint', 'redis=redis://127.0.0.1:1', '--timeout', '0s'],
      /--timeout: must be longer than 0/,
    ],
    [
      ['verify', '--target', 'local', '--endpoint', 'redis=redis://127.0.0.1:1', '--timeout', '99999999h'],
      /--timeout: must be at most 24d/,
    ],
    [['deploy', '--timeout', '0s', '--rendered', RENDERED], /--timeout: must be longer than 0/],
    [
      ['plan', '--rendered', '/nonexistent/rendered.yaml'],
      /--rendered: no such file: \/nonexistent\/rendered\.yaml/,
    ],
    [
      [
        'backup',
        '--store',
        's3://backups/x',
        '--s3-endpoint',
        'ftp://files.example',
        '--target',
        'local',
        '--endpoint',
        'redis=redis://127.0.0.1:1',
      ],
      /--s3-endpoint: must be an http:\/\/ or https:\/\/ URL/,
    ],
    [
      ['backups', 'list', '--store', 's3://backups/x', '--s3-endpoint', 'ftp://files.example'],
      /--s3-endpoint: must be an http/,
    ],
    [['backups', 'list', '--store', 's3://backups/x', '--grace', '0s'], /--grace: must be longer than 0/],
  ])('%j', async (argv, message) => {
    const t0 = Date.now();
    const r = await runCli(argv);
    expect(r.code, r.err).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.err).not.toMatch(/\n\s+at /);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('a report path that is a directory, or under a file, is refused before a single check runs', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'file'), '');
    mkdirSync(join(dir, 'reports'));
    const port = await freePort();
    for (const [flag, path, why] of [
      ['--json', join(dir, 'reports'), /--json: .* is a directory/],
      ['--junit', join(dir, 'file', 'junit.xml'), /--junit: cannot write .*: .* is a file/],
    ] as const) {
      const r = await runCli([
        'verify',
        '--target',
        'local',
        '--endpoint',
        `redis=redis://127.0.0.1:${port}`,
        '--timeout',
        '30s',
        flag,
        path,
      ]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(why);
      expect(r.out).toBe(''); // no table: nothing was checked
      expect(r.err).not.toMatch(/FAIL|PASS/);
    }
  });
});

describe('verify output', () => {
  it('prints each component as it settles, and the failing details in full under the table', async () => {
    const port = await freePort();
    const r = await runCli([
      'verify',
      '--target',
      'local',
      '--endpoint',
      `redis=redis://127.0.0.1:${port}`,
      '--components',
      'redis',
      '--timeout',
      '1s',
    ]);
    expect(r.code).toBe(1);
    // progress, on stderr; the time is about the 1 s deadline (the runner makes no attempt in the
    // last 25 ms, MIN_ATTEMPT_MS in src/probes/runner.ts: a run can settle at 991ms)
    expect(r.err).toMatch(/^ {2}FAIL redis: 3 failed, \d+ skipped \((9\d\dms|1\.\ds)\)$/m);
    expect(r.out).toMatch(/failing checks:\n {2}redis\//);
  });

  it('onComponent fires once per component, after its last check, with all of its results', async () => {
    const { verify } = await import('../../src/app/verify.ts');
    const port = await freePort();
    const seen: [string, number][] = [];
    const out = await verify(
      {
        target: fromFlag('--target', 'local'),
        endpoints: fromFlag('--endpoint', [
          `redis=redis://127.0.0.1:${port}`,
          `postgres=postgresql://127.0.0.1:${port}/postgres`,
        ]),
        kubeconfig: fromFlag('--kubeconfig', undefined),
        context: fromFlag('--context', undefined),
        catalog: fromFlag('--catalog', 'manifests/stack.yaml'),
        components: fromFlag('--components', 'redis,postgres'),
        timeout: fromFlag('--timeout', '500ms'),
        concurrency: fromFlag('--concurrency', '16'),
        json: fromFlag('--json', undefined),
        junit: fromFlag('--junit', undefined),
      },
      { onComponent: (name, results) => seen.push([name, results.length]) },
    );
    const rows = (c: string) => out.report.results.filter((r) => r.component === c).length;
    expect(seen.sort()).toEqual([
      ['postgres', rows('postgres')],
      ['redis', rows('redis')],
    ]);
  });

  const long = 'x'.repeat(400);
  const row = (over: Partial<CheckResult>): CheckResult => ({
    component: 'c',
    check: 'k',
    type: 't',
    status: 'fail',
    attempts: 3,
    durationMs: 1500,
    message: 'not ready within 1.0s',
    expected: 'PONG',
    actual: `saw-first ${long}`,
    history: [],
    ...over,
  });
  it('failureDetails shows what was seen first and in full; passing rows are not repeated', () => {
    const text = failureDetails({
      results: [row({}), row({ check: 'ok', status: 'pass' })],
    } as unknown as VerifyReport);
    const lines = text.split('\n');
    expect(lines[2]).toBe('  c/k');
    expect(lines[3]).toBe(`    saw:      saw-first ${long}`);
    expect(lines[4]).toBe('    expected: PONG');
    expect(text).not.toContain('c/ok');
  });
  it('componentLine sums a settled component; the slowest check gives the time', () => {
    expect(componentLine('c', [row({}), row({ check: 'b', status: 'pass', durationMs: 2500 })])).toBe(
      '  FAIL c: 1 failed, 1 passed (2.5s)',
    );
    expect(componentLine('c', [row({ status: 'skip', durationMs: 0 })])).toBe('  skip c: 1 skipped');
  });
  it('progressLine names status, component/check, time and attempts', () => {
    expect(progressLine(row({}))).toBe('  FAIL c/k (1.5s, 3 attempts)');
    expect(progressLine(row({ status: 'skip' }))).toBe('  SKIP c/k');
  });
});

describe('colour', () => {
  it('only on a terminal, and never when NO_COLOR is set to a non-empty value (no-color.org)', () => {
    expect(useColour({ isTTY: true }, {})).toBe(true);
    expect(useColour({ isTTY: false }, {})).toBe(false);
    expect(useColour({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(useColour({ isTTY: true }, { NO_COLOR: '' })).toBe(true);
  });
  it('validate paints errors red and warnings yellow, and leaves text alone without colour', () => {
    const text = 'a.yaml:3: error: bad\nb.yaml:4: warning: meh\n';
    expect(paintProblems(text, false)).toBe(text);
    expect(paintProblems(text, true)).toContain('\u001b[31ma.yaml:3: error: bad\u001b[0m');
    expect(paintProblems(text, true)).toContain('\u001b[33mb.yaml:4: warning: meh\u001b[0m');
  });
});

describe('settings name their origin', () => {
  const fails = (flag: string) => async () => {
    throw new UsageError(`${flag} postgres: malformed URL; --endpoints stays`);
  };
  it('an action input is named where a lower layer said the CLI flag', async () => {
    const s = { endpoints: fromInput('endpoints', ['x']) };
    await expect(speaking(s, { endpoints: '--endpoint' }, fails('--endpoint'))).rejects.toThrow(
      'input "endpoints" postgres: malformed URL; --endpoints stays',
    );
  });
  it('on the command line the flag stays', async () => {
    const s = { endpoints: fromFlag('--endpoint', ['x']) };
    await expect(speaking(s, { endpoints: '--endpoint' }, fails('--endpoint'))).rejects.toThrow(
      '--endpoint postgres: malformed URL',
    );
  });
});

describe('the known kafkajs TimeoutNegativeWarning (tulios/kafkajs#1751)', () => {
  it('is recognised only with kafkajs on its stack', () => {
    const w = (stack: string) =>
      Object.assign(new Error('-5 is a negative number.'), { name: 'TimeoutNegativeWarning', stack });
    expect(
      isKnownHarmless(w('at x (/a/node_modules/kafkajs/src/network/requestQueue/index.js:317:37)')),
    ).toBe(true);
    expect(isKnownHarmless(w('at x (/a/src/mine.js:1:1)'))).toBe(false);
  });
  // Node emits a TimeoutNegativeWarning once per process: one process per case
  it.each([
    ['node_modules/kafkajs/queue.cjs', ''],
    ['mine.cjs', 'TimeoutNegativeWarning: -5 is a negative number'],
  ])('in a real process, from %s: stderr %j', (file, expected) => {
    const dir = tmp();
    mkdirSync(join(dir, 'node_modules', 'kafkajs'), { recursive: true });
    for (const f of ['node_modules/kafkajs/queue.cjs', 'mine.cjs'])
      writeFileSync(join(dir, f), 'module.exports = () => clearTimeout(setTimeout(() => {}, -5));\n');
    const script = `
      const { filterKnownWarnings } = await import(${JSON.stringify(join(process.cwd(), 'src/app/warnings.ts'))});
      const { createRequire } = await import('node:module');
      filterKnownWarnings();
      createRequire(${JSON.stringify(`${dir}/`)})('./${file}')();
      await new Promise((r) => setTimeout(r, 50));`;
    const { stderr } = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
    });
    if (expected) expect(stderr).toContain(expected);
    else expect(stderr).toBe('');
  });
});
