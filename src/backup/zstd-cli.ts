/**
 * Restore-side zstd decompression through the zstd command-line tool, when one is on PATH.
 *
 * Node's zstd binding hands back each output buffer through a thread-pool round trip and a new
 * Buffer: decompressing the bench's 373 MB dump (kindling's 2 MiB frames) took 0.77–0.87 s of CPU
 * with 64 KiB outputs against 0.16–0.20 s for `zstd -dc` (2 runs each). A restore shares the
 * machine with the restore tool and its server, so that CPU is taken from them: the bench's
 * 414 MB restore ran 2.76–2.87 s through the CLI against 3.03–3.37 s through the binding (3 runs
 * each, alternating). The tool is the reference implementation: it reads any sequence of frames
 * and skips skippable ones (RFC 8878 §3.1; zstd `programs/zstd.1.md`, "-d"), as
 * `createZstdFramesDecompress` does, so both give the same bytes, and without the tool on PATH
 * the restore uses the binding. The compressed input is still read, and hashed, by kindling.
 */
import { spawn, spawnSync } from 'node:child_process';
import { Duplex } from 'node:stream';

const STDERR_TAIL = 2000;
const found = new Map<string, boolean>();

/** Whether `zstd` runs from this PATH (asked once per PATH: `zstd -V`, bounded). */
export function zstdCliAvailable(env: NodeJS.ProcessEnv = process.env): boolean {
  const key = env.PATH ?? '';
  let ok = found.get(key);
  if (ok === undefined) {
    const r = spawnSync('zstd', ['-V'], { env, stdio: 'ignore', timeout: 5000 });
    ok = r.status === 0;
    found.set(key, ok);
  }
  return ok;
}

/**
 * `zstd -d` as a stream: write compressed bytes, read the original. A non-zero exit (corrupt or
 * truncated input) fails the stream with zstd's own message; destroying the stream stops the tool.
 */
export function zstdCliDecompress(env: NodeJS.ProcessEnv = process.env): Duplex {
  // -q: no progress; -c: to stdout; no file names: stdin to stdout
  const child = spawn('zstd', ['-d', '-c', '-q'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => {
    stderr = (stderr + d).slice(-STDERR_TAIL);
  });
  let exited = false;
  const duplex = new Duplex({
    write(chunk: Buffer, _enc, cb) {
      if (child.stdin.write(chunk)) cb();
      else child.stdin.once('drain', () => cb());
    },
    final(cb) {
      child.stdin.end();
      cb();
    },
    read() {
      child.stdout.resume();
    },
    destroy(err, cb) {
      if (!exited) child.kill('SIGTERM');
      cb(err);
    },
  });
  child.stdout.on('data', (c: Buffer) => {
    if (!duplex.push(c)) child.stdout.pause();
  });
  // EPIPE once the tool has exited on bad input: its exit status is the error that counts
  child.stdin.on('error', () => {});
  child.on('error', (err) => duplex.destroy(new Error(`zstd: cannot run the zstd tool: ${err.message}`)));
  // 'close' comes after the exit and after stdout has delivered everything (Node child_process
  // docs, "Event: 'close'"): the output ends only on exit 0, so a corrupt or truncated input never
  // looks like a complete one to the restore tool reading it
  child.on('close', (code, signal) => {
    exited = true;
    if (duplex.destroyed) return;
    if (code === 0) return void duplex.push(null);
    const why = stderr.trim().split('\n').at(-1) || (signal ? `killed by ${signal}` : `exit ${code}`);
    duplex.destroy(new Error(`zstd: ${why.replace(/^zstd: /, '')}`));
  });
  return duplex;
}
