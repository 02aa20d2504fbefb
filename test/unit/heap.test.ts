import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HEAP_FLAGS } from '../../src/util/heap.ts';

const HEAP = new URL('../../src/util/heap.ts', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'kindling-heap-'));
const script = join(dir, 'program.mjs');
// a program shaped like bin/kindling.js: relaunch first, then do the work (here: report and exit 3)
writeFileSync(
  script,
  `import { relaunchWithHeapFlags } from ${JSON.stringify(HEAP)};
const status = await relaunchWithHeapFlags();
if (status !== undefined) { console.log('launcher exits ' + status); process.exit(status); }
console.log(JSON.stringify({ execArgv: process.execArgv, argv: process.argv.slice(2), probe: process.env.PROBE }));
if (process.argv[2] === 'wait') setTimeout(() => {}, 60_000);
else process.exit(3);
`,
);

function run(execArgv: string[], args: string[], onStdout?: (text: string, kill: () => void) => void) {
  return new Promise<{ code: number | null; stdout: string }>((resolve) => {
    const child = spawn(process.execPath, [...execArgv, script, ...args], {
      env: { ...process.env, PROBE: 'inherited' },
    });
    let stdout = '';
    child.stdout.on('data', (d) => {
      stdout += d;
      onStdout?.(stdout, () => child.kill('SIGTERM'));
    });
    child.on('close', (code) => resolve({ code, stdout }));
  });
}

describe('relaunchWithHeapFlags', () => {
  it('runs the program again with the heap flags, same arguments and environment, and passes its exit status on', async () => {
    const { code, stdout } = await run([], ['a', 'b c']);
    const [report, last] = stdout.trim().split('\n');
    const seen = JSON.parse(report!) as { execArgv: string[]; argv: string[]; probe: string };
    expect(seen.execArgv).toEqual([...HEAP_FLAGS]);
    expect(seen.argv).toEqual(['a', 'b c']);
    expect(seen.probe).toBe('inherited');
    expect(last).toBe('launcher exits 3');
    expect(code).toBe(3);
  });

  it('does not relaunch a process that already has the flags', async () => {
    const { code, stdout } = await run([...HEAP_FLAGS], []);
    expect(stdout).not.toContain('launcher exits');
    expect(code).toBe(3);
  });

  it('forwards SIGTERM to the relaunched program and exits 128 + 15', async () => {
    let sent = false;
    const { code, stdout } = await run([], ['wait'], (text, kill) => {
      if (!sent && text.includes('execArgv')) {
        sent = true;
        kill();
      }
    });
    expect(stdout).toContain('launcher exits 143');
    expect(code).toBe(143);
  });
});
