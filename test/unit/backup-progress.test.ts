import { describe, expect, it } from 'vitest';
import {
  type Clock,
  DEFAULT_PROGRESS_INTERVAL_MS,
  formatProgress,
  progressIntervalFromEnv,
  progressTicker,
} from '../../src/backup/progress.ts';
import { UsageError } from '../../src/util/errors.ts';

const MiB = 1024 * 1024;

/** A clock the test moves by hand; its one interval fires when the test says so. */
function manualClock() {
  let now = 0;
  let pending: { fn: () => void; ms: number; next: number } | undefined;
  const clock: Clock = {
    now: () => now,
    setInterval(fn, ms) {
      pending = { fn, ms, next: now + ms };
      return pending;
    },
    clearInterval(h) {
      if (h === pending) pending = undefined;
    },
  };
  return {
    clock,
    /** Advances time, firing the interval at each of its deadlines on the way. */
    advance(ms: number) {
      const end = now + ms;
      while (pending && pending.next <= end) {
        now = pending.next;
        pending.next += pending.ms;
        pending.fn();
      }
      now = end;
    },
    get armed() {
      return pending !== undefined;
    },
  };
}

describe('progress lines (MiB done, MiB/s)', () => {
  it('formats MiB done and MiB/s with one decimal', () => {
    expect(formatProgress('postgres: identity.pgdump.zst', 512 * MiB, 48.25 * MiB)).toBe(
      'postgres: identity.pgdump.zst 512.0 MiB done, 48.3 MiB/s',
    );
    expect(formatProgress('redis: dump.rdb', 0, 0)).toBe('redis: dump.rdb 0.0 MiB done, 0.0 MiB/s');
  });

  it('the ticker logs once per interval with the rate over that interval, nothing before the first, nothing after stop', () => {
    const t = manualClock();
    const lines: string[] = [];
    const ticker = progressTicker({
      label: 'pg: db',
      log: (l) => lines.push(l),
      intervalMs: 10_000,
      clock: t.clock,
    });
    ticker.set(50 * MiB);
    t.advance(9_999);
    expect(lines).toEqual([]);
    t.advance(1);
    expect(lines).toEqual(['pg: db 50.0 MiB done, 5.0 MiB/s']);
    ticker.set(250 * MiB);
    t.advance(10_000);
    expect(lines[1]).toBe('pg: db 250.0 MiB done, 20.0 MiB/s');
    // a stall shows as 0 MiB/s rather than silence
    t.advance(10_000);
    expect(lines[2]).toBe('pg: db 250.0 MiB done, 0.0 MiB/s');
    ticker.stop();
    expect(t.armed).toBe(false);
    t.advance(60_000);
    expect(lines).toHaveLength(3);
  });

  it('an interval of 0 turns progress off', () => {
    const t = manualClock();
    const lines: string[] = [];
    const ticker = progressTicker({ label: 'x', log: (l) => lines.push(l), intervalMs: 0, clock: t.clock });
    ticker.set(1);
    t.advance(1e9);
    ticker.stop();
    expect(lines).toEqual([]);
    expect(t.armed).toBe(false);
  });

  it('KINDLING_PROGRESS_INTERVAL sets the interval; default 10s; a bad value is a usage error naming it', () => {
    expect(progressIntervalFromEnv({})).toBe(DEFAULT_PROGRESS_INTERVAL_MS);
    expect(progressIntervalFromEnv({ KINDLING_PROGRESS_INTERVAL: '30s' })).toBe(30_000);
    expect(progressIntervalFromEnv({ KINDLING_PROGRESS_INTERVAL: '0' })).toBe(0);
    expect(() => progressIntervalFromEnv({ KINDLING_PROGRESS_INTERVAL: 'often' })).toThrow(UsageError);
    expect(() => progressIntervalFromEnv({ KINDLING_PROGRESS_INTERVAL: 'often' })).toThrow(
      /KINDLING_PROGRESS_INTERVAL/,
    );
  });
});
