// What a `kindling backup` loads: issue #15 gives it 128 MiB of peak RSS, and most of a backup's
// floor is code it loads before the first byte. These are the pieces that once cost megabytes for
// nothing (each figure measured on the bench's backup, src/util/heap.ts and bin/kindling.js):
// - Node's TypeScript stripper (amaro: swc compiled to WebAssembly, 20 MiB resident), instantiated
//   by any .ts that misses the compile cache — bin/kindling.js used to import one before turning
//   the cache on, so every backup paid for it;
// - undici and its llhttp WebAssembly (12.6 MiB), which Node 24 loads when an ES module imports
//   `node:http`: building the namespace reads every export, and `WebSocket`, `CloseEvent` and
//   `MessageEvent` are lazy getters into undici (checked below on this Node);
// - the verify probes' client libraries (kafkajs, pg, the PromQL parser), which a backup never uses,
//   and ajv's compiler, which the catalog schema no longer needs at run time.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = new URL('../../', import.meta.url).pathname;

/** Reports, at exit, the node_modules packages and kindling sources loaded, and Node's own module list. */
const PRELOAD = `data:text/javascript,${encodeURIComponent(`
import { registerHooks } from 'node:module';
import { writeSync } from 'node:fs';
const urls = new Set();
registerHooks({ resolve(s, c, next) { const r = next(s, c); urls.add(r.url); return r; } });
process.on('exit', () => writeSync(2, 'LOADED ' + JSON.stringify({ urls: [...urls], builtins: process.moduleLoadList }) + '\\n'));
`)}`;

// a fresh $TMPDIR: bin/kindling.js's compile cache lives in os.tmpdir() (not NODE_COMPILE_CACHE,
// which would turn the cache on before any module loads, hiding the order this guards)
const cacheDir = mkdtempSync(join(tmpdir(), 'kindling-compile-cache-'));
const env: NodeJS.ProcessEnv = {
  ...process.env,
  TMPDIR: cacheDir,
  AWS_ACCESS_KEY_ID: 'k',
  AWS_SECRET_ACCESS_KEY: 's',
};
delete env.NODE_COMPILE_CACHE;
afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

/** A backup that loads everything up to its first connection, then fails there (nothing listens on port 9). */
function backupLoads(): { code: number | null; stderr: string; urls: string[]; builtins: string[] } {
  const r = spawnSync(
    process.execPath,
    [
      '--import',
      PRELOAD,
      join(ROOT, 'bin/kindling.js'),
      'backup',
      '--target',
      'local',
      '--components',
      'postgres',
      '--endpoint',
      'postgres=postgres://u:p@127.0.0.1:9/postgres',
      '--store',
      's3://backups/startup',
      '--s3-endpoint',
      'http://127.0.0.1:9',
    ],
    {
      cwd: ROOT,
      encoding: 'utf8',
      env,
      timeout: 60_000,
    },
  );
  const reports = r.stderr.match(/^LOADED .*$/gm) ?? [];
  const last = JSON.parse(reports.at(-1)?.slice('LOADED '.length) ?? '{"urls":[],"builtins":[]}');
  return { code: r.status, stderr: r.stderr.replace(/^LOADED .*$/gm, ''), ...last };
}

describe('what `kindling backup` loads (issue #15 memory budget)', () => {
  // the first run finds the compile cache empty; the second is every later backup
  const first = backupLoads();
  const warm = backupLoads();

  it('reaches the backup itself: it fails at the unreachable store or server, not at start-up', () => {
    expect(first.code, first.stderr).not.toBe(0);
    expect(warm.stderr).not.toMatch(/failed to start/);
    expect(warm.urls.some((u) => u.endsWith('/src/app/backup.ts'))).toBe(true);
    expect(warm.urls.some((u) => u.endsWith('/src/backup/sources/index.ts'))).toBe(true);
    expect(warm.urls.some((u) => u.includes('/node_modules/@aws-sdk/client-s3/'))).toBe(true);
  });

  it('with a warm compile cache, never instantiates the TypeScript stripper', () => {
    expect(warm.builtins.filter((m) => m.includes('amaro'))).toEqual([]);
  });

  it('nor with a cold one: the image the re-exec replaces fills the cache first (bin/kindling.js)', () => {
    expect(first.urls.some((u) => u.endsWith('/src/app/backup.ts'))).toBe(true);
    expect(first.builtins.filter((m) => m.includes('amaro'))).toEqual([]);
  });

  it('does not load undici (no ES-module import of node:http)', () => {
    expect(warm.builtins.filter((m) => m.includes('undici'))).toEqual([]);
  });

  it('loads neither the verify probes nor their clients, nor ajv', () => {
    const unwanted = warm.urls.filter((u) =>
      /\/src\/probes\/registry\.ts$|\/node_modules\/(kafkajs|pg|@prometheus-io\/lezer-promql)\/|\/node_modules\/ajv\/dist\/(ajv|core)\.js$/.test(
        u,
      ),
    );
    expect(unwanted).toEqual([]);
    // the generated validator's one run-time helper is all of ajv that remains
    expect(warm.urls.filter((u) => u.includes('/node_modules/ajv/'))).toEqual([
      expect.stringMatching(/\/ajv\/dist\/runtime\/ucs2length\.js$/),
    ]);
  });

  it('the control: an ES-module import of node:http does load undici on this Node', () => {
    const r = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "await import('node:http'); console.log(process.moduleLoadList.some((m) => m.includes('undici')));",
      ],
      { encoding: 'utf8' },
    );
    expect(r.stdout.trim()).toBe('true');
  });
});
