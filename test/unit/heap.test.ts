import { execFileSync, spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { STREAMING_V8_FLAGS, streamingEnvironment } from '../../src/util/heap.ts';

const HEAP = new URL('../../src/util/heap.ts', import.meta.url).pathname;

/**
 * A fresh Node that allocates like kindling's start-up (many objects, some kept), then reports
 * its young generation's committed size in MiB.
 */
function newSpaceMiB(keepSmall: boolean): number {
  const program = `
    ${keepSmall ? `(await import(${JSON.stringify(HEAP)})).setStreamingV8Flags();` : ''}
    const { getHeapSpaceStatistics } = await import('node:v8');
    const kept = [];
    for (let i = 0; i < 2_000_000; i++) {
      const o = { i, s: 'x' + i };
      if (i % 10 === 0) kept.push(o);
    }
    const n = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
    console.log(n.space_size / 1048576, kept.length);
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', program], { encoding: 'utf8' });
  return Number(out.trim().split(' ')[0]);
}

/** One function run hot enough for V8 to optimise it (`hot`; its result in `acc`). */
const HOT = `
  function hot(x) { return (x * 31 + 7) % 1000003; }
  let acc = 0;
  for (let i = 0; i < 20_000_000; i++) acc = hot(acc + i);
`;

/**
 * A fresh Node that runs one function hot enough for V8 to optimise it, then reports its
 * optimisation status bits (v8/v8 src/runtime/runtime-test.cc OptimizationStatus: 16 = optimised
 * code, 32 = Maglev, 64 = TurboFan).
 */
function optimisationStatus(streaming: boolean): number {
  const program = `
    ${streaming ? `(await import(${JSON.stringify(HEAP)})).setStreamingV8Flags();` : ''}
    ${HOT}
    console.log(%GetOptimizationStatus(hot), acc);
  `;
  const out = execFileSync(
    process.execPath,
    ['--allow-natives-syntax', '--input-type=module', '-e', program],
    {
      encoding: 'utf8',
    },
  );
  return Number(out.trim().split(' ')[0]);
}

describe('setStreamingV8Flags', () => {
  it('names the flags it sets', () => {
    expect(STREAMING_V8_FLAGS).toEqual(['--semi-space-growth-factor=1', '--no-opt', '--no-maglev']);
  });
  it('keeps a hot function out of the optimising compilers (TurboFan and Maglev)', () => {
    // the control: without the flags V8 optimises it; with them it stays in the lower tiers
    expect(optimisationStatus(false) & 16).toBe(16);
    expect(optimisationStatus(true) & (16 | 32 | 64)).toBe(0);
  });
  it('keeps the young generation at its initial size where V8 would grow it', () => {
    // V8 grows new space to 2 × 16 MiB under this load (the control), which is what the
    // streaming commands must not carry; with the setting it stays at 2 × 1 MiB
    expect(newSpaceMiB(false)).toBeGreaterThan(8);
    expect(newSpaceMiB(true)).toBeLessThanOrEqual(2);
  });
});

/**
 * `kindling <args>` with a preload that reports, at exit, its PID, the MALLOC_ARENA_MAX its image
 * started with (what glibc read: /proc/self/environ, proc(5)), the one its children would inherit
 * (process.env) and its exit code.
 */
function kindlingReports(args: string[], env: NodeJS.ProcessEnv, script = 'bin/kindling.js') {
  const preload = `data:text/javascript,${encodeURIComponent(
    "import { readFileSync } from 'node:fs';" +
      "const started = readFileSync('/proc/self/environ', 'latin1').split('\\0').find((e) => e.startsWith('MALLOC_ARENA_MAX='))?.slice(17);" +
      "process.on('exit', (code) => process.stderr.write(['REPORT', process.pid, String(started), String(process.env.MALLOC_ARENA_MAX), code].join(' ') + '\\n'));",
  )}`;
  const bin = new URL(`../../${script}`, import.meta.url).pathname;
  return new Promise<{ pid: number; code: number | null; stdout: string; reports: string[] }>((resolve) => {
    const child = spawn(process.execPath, ['--import', preload, bin, ...args], { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('close', (code) =>
      resolve({ pid: child.pid!, code, stdout, reports: stderr.match(/^REPORT .*$/gm) ?? [] }),
    );
  });
}

describe('streamingEnvironment', () => {
  it('adds MALLOC_ARENA_MAX=1 and keeps the rest of the environment', () => {
    expect(streamingEnvironment({ PATH: '/bin', HOME: '/h' }, 'linux')).toEqual({
      PATH: '/bin',
      HOME: '/h',
      MALLOC_ARENA_MAX: '1',
      KINDLING_MALLOC_ARENA_EXEC: '1',
    });
  });
  it('asks for nothing once set (after the exec, or by the user) and nothing on Windows', () => {
    expect(streamingEnvironment({ MALLOC_ARENA_MAX: '1' }, 'linux')).toBeUndefined();
    expect(streamingEnvironment({ MALLOC_ARENA_MAX: '4' }, 'linux')).toBeUndefined();
    expect(streamingEnvironment({ PATH: 'C:\\' }, 'win32')).toBeUndefined();
  });
});

describe.skipIf(process.platform === 'win32')(
  'a streaming command starts with the streaming environment',
  () => {
    const env = { ...process.env };
    delete env.MALLOC_ARENA_MAX;
    it('replaces its own image once: same PID, stdio and exit status, one exit, the variable set', async () => {
      const r = await kindlingReports(['backup', '--help'], env);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('Usage: kindling backup');
      // the exit handler of the first image never runs (execve discards it): one report, our
      // child's PID; glibc saw the variable, and the tools kindling starts will not
      expect(r.reports).toEqual([`REPORT ${r.pid} 1 undefined 0`]);
    });
    it('the backup action entry too, as the runner starts it (node <entry>; no inputs: the action fails, exit 1)', async () => {
      const r = await kindlingReports([], env, 'src/actions/backup/index.ts');
      expect(r.reports).toEqual([`REPORT ${r.pid} 1 undefined 1`]);
    });
    it("keeps a user's own MALLOC_ARENA_MAX and leaves other commands alone", async () => {
      expect(
        (await kindlingReports(['backup', '--help'], { ...env, MALLOC_ARENA_MAX: '4' })).reports,
      ).toEqual([expect.stringMatching(/^REPORT \d+ 4 4 0$/)]);
      expect((await kindlingReports(['--help'], env)).reports).toEqual([
        expect.stringMatching(/^REPORT \d+ undefined undefined 0$/),
      ]);
    });
  },
);

/**
 * `<script> <args>` as the user or the runner starts it, with a preload that, at exit, runs one
 * function hot and reports its optimisation status (see optimisationStatus).
 */
function streamingStatus(args: string[], script: string): Promise<{ code: number | null; status: number }> {
  const preload = `data:text/javascript,${encodeURIComponent(`
    process.on('exit', () => {
      ${HOT}
      process.stderr.write('STATUS ' + %GetOptimizationStatus(hot) + ' ' + acc + '\\n');
    });
  `)}`;
  const bin = new URL(`../../${script}`, import.meta.url).pathname;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--allow-natives-syntax', '--import', preload, bin, ...args]);
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('close', (code) => resolve({ code, status: Number(/^STATUS (\d+)/m.exec(stderr)?.[1] ?? -1) }));
  });
}

describe('the streaming commands run with the flags', () => {
  it('kindling backup (and not kindling --help)', async () => {
    const backup = await streamingStatus(['backup', '--help'], 'bin/kindling.js');
    expect(backup.code).toBe(0);
    expect(backup.status & (16 | 32 | 64)).toBe(0);
    // the control: another command keeps V8's defaults
    const other = await streamingStatus(['--help'], 'bin/kindling.js');
    expect(other.status & 16).toBe(16);
  });
  it('the backup action entry, after its re-exec, as the runner starts it (no inputs: the action fails, exit 1)', async () => {
    const action = await streamingStatus([], 'src/actions/backup/index.ts');
    expect(action.code).toBe(1);
    expect(action.status & (16 | 32 | 64)).toBe(0);
  });
});
