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
 * Measured on a 414 MB backup (`npm run bench:backup`, 2 shared cores): peak RSS 183–197 MiB
 * with growth, 145–148 MiB without; the former young-GC pacer (a scavenge every 8 MiB)
 * brought the first to 162–182 MiB and nothing more to the second.
 *
 * Set before anything is loaded; Node leaves V8's flags writable after start-up
 * (`v8.setFlagsFromString`). test/unit/heap.test.ts fails if a future V8 drops the flag.
 */
import { setFlagsFromString } from 'node:v8';

export function keepYoungGenerationSmall(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
}
