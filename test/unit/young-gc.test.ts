import { constants, type PerformanceEntry, PerformanceObserver } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { youngGcPacer } from '../../src/util/young-gc.ts';

/** Counts the young-generation collections V8 reports while `fn` runs. */
async function minorGcsDuring(fn: () => void): Promise<number> {
  const entries: PerformanceEntry[] = [];
  const observer = new PerformanceObserver((list) => entries.push(...list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  fn();
  // gc entries are delivered asynchronously
  await new Promise((r) => setTimeout(r, 50));
  observer.disconnect();
  const kind = (e: PerformanceEntry) => (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
  return entries.filter((e) => kind(e) === constants.NODE_PERFORMANCE_GC_MINOR).length;
}

describe('youngGcPacer', () => {
  it('runs one young-generation collection per `every` bytes, and none in between', async () => {
    const pace = youngGcPacer(1024 * 1024);
    const between = await minorGcsDuring(() => {
      for (let i = 0; i < 15; i++) pace(64 * 1024); // 960 KiB: below the threshold
    });
    const paced = await minorGcsDuring(() => {
      for (let i = 0; i < 10 * 16; i++) pace(64 * 1024); // 10 MiB more
    });
    expect(between).toBe(0);
    expect(paced).toBeGreaterThanOrEqual(10);
    expect(paced).toBeLessThan(14); // V8 may add one of its own, not dozens
  });

  it('does not put gc on the program’s global object', () => {
    youngGcPacer();
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
  });
});
