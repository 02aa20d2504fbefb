/**
 * The memory settings of the commands that stream data (backup, restore, the drills).
 *
 * V8 doubles its young generation whenever a scavenge finds it full (`SemiSpaceNewSpace::Grow`
 * multiplies the capacity by `v8_flags.semi_space_growth_factor`, read at each growth:
 * v8/v8 src/heap/new-spaces.cc), up to 2 × 16 MiB on 64-bit. kindling's start-up (SDK, catalog
 * schema, module code) makes it grow to that maximum before the first byte is dumped, and the
 * committed pages then stay resident for the whole stream: 32 MiB of new space holding ~2 MiB of
 * live objects. With growth off it stays at its initial 2 × 1 MiB; scavenges come often enough
 * that the pipe's spent read buffers die young (no GC pacing needed).
 * Measured on the bench's 414 MB backup (`npm run bench:backup` data, 2 shared cores, 3 runs
 * each): peak RSS 232–235 MiB and 2.7–2.9 s of CPU with growth, 173–193 MiB and 2.0–2.2 s
 * without. The former young-GC pacer (a scavenge every 8 MiB of input) added nothing on top
 * (181–187 MiB), nor did the former relaunch with --initial-old-space-size=64: with a small young
 * generation a 414 MB backup runs 2 mark-compacts, not the ~30 it ran without.
 *
 * No optimising compilers (`--no-opt`: TurboFan, `--no-maglev`): a streaming command spends its
 * CPU in native code (zstd, sha256, pipes, TLS), not in JavaScript hot enough to optimise, while
 * each optimising tier costs its compiler's zone memory and touches its share of the node binary's
 * code pages. Sparkplug, the non-optimising baseline compiler, stays: without it the interpreter
 * cost CPU. Measured on the bench's 414 MB backup (its random-bytes table, 3 alternating runs
 * each, the compile cache warm): peak RSS 130.8–138.4 MiB and 2.9–4.4 s of CPU with every tier,
 * 123.3–124.8 MiB and 3.1–3.7 s without the two optimising ones, 121.2–123.1 MiB and 3.4–4.0 s
 * without Sparkplug too; wall time 2.8–3.8 s in all three.
 *
 * Set before anything is loaded; Node leaves V8's flags writable after start-up
 * (`v8.setFlagsFromString`). test/unit/heap.test.ts fails if a future V8 drops a flag.
 */
import { setFlagsFromString } from 'node:v8';

export const STREAMING_V8_FLAGS = ['--semi-space-growth-factor=1', '--no-opt', '--no-maglev'] as const;

export function setStreamingV8Flags(): void {
  for (const flag of STREAMING_V8_FLAGS) setFlagsFromString(flag);
}

/**
 * glibc's malloc gives each thread that allocates its own arena (up to 8 × cores), and the zstd
 * contexts and zlib buffers are allocated on libuv's thread-pool threads: their freed memory stays
 * resident in arenas the main thread never reuses. One arena (glibc manual, "Memory Allocation
 * Tunables": glibc.malloc.arena_max, also read from `MALLOC_ARENA_MAX`) keeps it all in one
 * reused heap. Measured on the bench's 414 MB backup (`npm run bench:backup` data, 8 MiB parts,
 * 4 MiB zstd frames, 2 shared cores): peak RSS median 170.4 MiB (160.8–184.2) without, 161.0 MiB
 * (153.9–175.1) with (6 alternating runs, load 4–5); through this exec against MALLOC_ARENA_MAX=16
 * (glibc's default for 2 cores, 8 per core) 178.7 (176.2–189.9) against 192.3 (178.4–200.2) MiB
 * (5 runs, load 3); backup CPU and wall time unchanged within the noise (2.4–2.7 s wall either
 * way). The exec itself costs one more Node start: `kindling backup --help` 0.12 s against 0.07 s
 * with the variable already set (10 runs each). Still worth it without the optimising compilers
 * (setStreamingV8Flags), though by less: 116–123 MiB (median 119) with one arena against 120–128
 * MiB (median 122.5) with glibc's default (11 and 6 runs), and a restore 104–107 against 110–113.
 * glibc reads it once, when the process starts: too late for a running Node. So a streaming command
 * replaces its own image once (`process.execve`, Node ≥ 23.11: same PID, so stdio, exit status and
 * signals are its own; no second process) with the variable set — unless a user set it already
 * (their value stands). The exec's own mark is what stops a loop. Not on Windows (no execve
 * there, and no glibc).
 */
/**
 * Marks the variable as kindling's own, so that the new image takes it out of `process.env` once
 * glibc has read it: the tools kindling starts (pg_dump, mysqldump, zstd, kubectl …) then get the
 * user's environment, not kindling's malloc setting. A user's own MALLOC_ARENA_MAX carries no mark
 * and is passed on.
 */
const EXEC_MARK = 'KINDLING_MALLOC_ARENA_EXEC';

export function streamingEnvironment(
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform,
): NodeJS.ProcessEnv | undefined {
  if (platform === 'win32' || env.MALLOC_ARENA_MAX !== undefined) return undefined;
  return { ...env, MALLOC_ARENA_MAX: '1', [EXEC_MARK]: '1' };
}

/** Whether `startWithStreamingEnvironment` will replace this image (a first image that can exec). */
export function willReexec(): boolean {
  return (
    process.env[EXEC_MARK] !== '1' &&
    streamingEnvironment(process.env, process.platform) !== undefined &&
    typeof (process as { execve?: unknown }).execve === 'function'
  );
}

/**
 * The kindling modules the streaming commands load, statically or through their lazy imports (the
 * command module, its use cases, target kube, Redis' restore client), for bin/kindling.js to fill
 * a cold compile cache with before it re-executes. test/unit/startup-modules.test.ts fails when a
 * backup's final image still needs the TypeScript stripper.
 */
export const STREAMING_MODULES = [
  '../cli/main.ts',
  '../cli/commands/backup.ts',
  '../app/backup.ts',
  '../app/restore.ts',
  '../app/backups.ts',
  '../backup/report.ts',
  '../backup/inventory.ts',
  '../backup/drill.ts',
  '../backup/redis-data.ts',
  '../targets/kube.ts',
  '../kube/cluster.ts',
  '../kube/config.ts',
].map((m) => new URL(m, import.meta.url).href);

/** Re-executes this process once with `streamingEnvironment` when it lacks it; returns otherwise. */
export function startWithStreamingEnvironment(): void {
  if (process.env[EXEC_MARK] === '1') {
    // the new image: glibc has read the variable; children get the environment as it was
    delete process.env.MALLOC_ARENA_MAX;
    delete process.env[EXEC_MARK];
    return;
  }
  const env = streamingEnvironment(process.env, process.platform);
  const execve = (process as { execve?: (file: string, args: string[], env: NodeJS.ProcessEnv) => void })
    .execve;
  if (!env || !execve) return;
  try {
    // argv[0] is the executable; Node's own options (e.g. --import) go on before the script
    execve(process.execPath, [process.execPath, ...process.execArgv, ...process.argv.slice(1)], env);
  } catch {
    // the exec failed (the process is unchanged): run as we are, the setting is only an economy
  }
}
