/**
 * Progress of a long backup or restore: every `intervalMs` one line with the MiB done so far and
 * the rate over the last interval, e.g. `postgres: identity.pgdump 512.0 MiB done, 48.3 MiB/s`.
 * The same lines go to the console and the action log (both are the run's `log`). The formatter
 * is pure; the ticker takes its clock and timers as arguments, so tests drive time themselves.
 */
import { parseDuration } from '../util/duration.ts';

export const DEFAULT_PROGRESS_INTERVAL_MS = 10_000;
const MiB = 1024 * 1024;

/** One progress line (pure). */
export function formatProgress(label: string, bytes: number, rateBytesPerSec: number): string {
  return `${label} ${(bytes / MiB).toFixed(1)} MiB done, ${(rateBytesPerSec / MiB).toFixed(1)} MiB/s`;
}

export interface Clock {
  now(): number;
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setInterval: (fn, ms) => {
    const t = setInterval(fn, ms);
    t.unref(); // never keeps the process alive
    return t;
  },
  clearInterval: (h) => clearInterval(h as NodeJS.Timeout),
};

export interface ProgressTicker {
  /** The byte count so far (cheap: called per chunk). */
  set(bytes: number): void;
  stop(): void;
}

/** Logs `formatProgress` every `intervalMs` until stopped; nothing for work shorter than one interval. */
export function progressTicker(o: {
  label: string;
  log: (line: string) => void;
  intervalMs?: number;
  clock?: Clock;
}): ProgressTicker {
  const clock = o.clock ?? systemClock;
  const intervalMs = o.intervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS;
  if (intervalMs <= 0) return { set() {}, stop() {} };
  let bytes = 0;
  let lastBytes = 0;
  let lastAt = clock.now();
  const handle = clock.setInterval(() => {
    const now = clock.now();
    const seconds = Math.max(now - lastAt, 1) / 1000;
    o.log(formatProgress(o.label, bytes, (bytes - lastBytes) / seconds));
    lastBytes = bytes;
    lastAt = now;
  }, intervalMs);
  return {
    set(n) {
      bytes = n;
    },
    stop() {
      clock.clearInterval(handle);
    },
  };
}

/** `KINDLING_PROGRESS_INTERVAL` (a duration, e.g. `30s`; `0` turns progress off), else 10s. */
export function progressIntervalFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const text = env.KINDLING_PROGRESS_INTERVAL;
  if (text === undefined || text === '') return DEFAULT_PROGRESS_INTERVAL_MS;
  if (text === '0') return 0;
  return parseDuration(text, 'KINDLING_PROGRESS_INTERVAL');
}
