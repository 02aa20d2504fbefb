/**
 * The one V8 memory setting of the commands that stream data (backup, restore, the drills).
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
 * Set before anything is loaded; Node leaves V8's flags writable after start-up
 * (`v8.setFlagsFromString`). test/unit/heap.test.ts fails if a future V8 drops the flag.
 */
import { setFlagsFromString } from 'node:v8';

export function keepYoungGenerationSmall(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
}
