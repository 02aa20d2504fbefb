import { execFileSync, spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { STREAMING_V8_FLAGS } from '../../src/util/heap.ts';

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

/**
 * A fresh Node that runs one function hot enough for V8 to optimise it, then reports its
 * optimisation status bits (v8/v8 src/runtime/runtime-test.cc OptimizationStatus: 16 = optimised
 * code, 32 = Maglev, 64 = TurboFan).
 */
function optimisationStatus(streaming: boolean): number {
  const program = `
    ${streaming ? `(await import(${JSON.stringify(HEAP)})).setStreamingV8Flags();` : ''}
    function hot(x) { return (x * 31 + 7) % 1000003; }
    let acc = 0;
    for (let i = 0; i < 20_000_000; i++) acc = hot(acc + i);
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
 * `<script> <args>` as the user or the runner starts it, with a preload that, at exit, runs one
 * function hot and reports its optimisation status (see optimisationStatus).
 */
function streamingStatus(args: string[], script: string): Promise<{ code: number | null; status: number }> {
  const preload = `data:text/javascript,${encodeURIComponent(`
    process.on('exit', () => {
      function hot(x) { return (x * 31 + 7) % 1000003; }
      let acc = 0;
      for (let i = 0; i < 20_000_000; i++) acc = hot(acc + i);
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
  it('the backup action entry, as the runner starts it (node <entry>; no inputs: the action fails, exit 1)', async () => {
    const action = await streamingStatus([], 'src/actions/backup/index.ts');
    expect(action.code).toBe(1);
    expect(action.status & (16 | 32 | 64)).toBe(0);
  });
});
