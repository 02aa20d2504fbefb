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
 * They also made the former re-exec with one malloc arena (`MALLOC_ARENA_MAX=1` through
 * `process.execve`) not worth its cost. With these flags, on the same backup (6 alternating runs
 * each): 117–123 MiB (median 120.5) with one arena against 119–124 MiB (121.5) with glibc's
 * default (8 per core); a restore 104–107 against 110–113 MiB. It cost a second Node start on
 * every streaming command (`kindling backup --help` 0.12 s against 0.07 s), so it went.
 *
 * Set before anything is loaded; Node leaves V8's flags writable after start-up
 * (`v8.setFlagsFromString`). test/unit/heap.test.ts fails if a future V8 drops a flag.
 */
import { setFlagsFromString } from 'node:v8';

export const STREAMING_V8_FLAGS = ['--semi-space-growth-factor=1', '--no-opt', '--no-maglev'] as const;

export function setStreamingV8Flags(): void {
  for (const flag of STREAMING_V8_FLAGS) setFlagsFromString(flag);
}
