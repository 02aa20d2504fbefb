import type { Attempt } from '../report/results.ts';
import { redact } from '../util/redact.ts';
import { classifyError } from './classify.ts';
import type { Outcome } from './types.ts';

/** Attempts are not started with less time than this left: they could only time out. */
const MIN_ATTEMPT_MS = 25;

export interface RetryOptions {
  /** The check's deadline, in ms from its start. */
  deadlineMs: number;
  /** First pause between attempts; grows ×1.5 up to `maxBackoffMs`. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Treat a wrong value as not ready yet (values that converge after start, e.g. scrape targets). */
  settles?: boolean;
  /** Clock and sleep, replaceable in tests. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface RetryResult {
  final: Outcome;
  /** True when the check ran out of time while the service was still not ready. */
  timedOut: boolean;
  history: Attempt[];
  durationMs: number;
}

/**
 * Runs `attempt` until it passes, gives a definite answer, or the deadline comes. Each attempt
 * gets the time left as its own limit (and an abort signal), so the check never overruns it.
 */
export async function retryUntilDeadline(
  attempt: (signal: AbortSignal, timeoutMs: number) => Promise<Outcome>,
  opts: RetryOptions,
): Promise<RetryResult> {
  const now = opts.now ?? (() => performance.now());
  const sleep = opts.sleep ?? sleepFor;
  const start = now();
  const end = start + opts.deadlineMs;
  let backoff = opts.initialBackoffMs ?? 200;
  const maxBackoff = opts.maxBackoffMs ?? 2000;
  const history: Attempt[] = [];
  let last: Outcome = { kind: 'not-ready', message: 'no attempt made' };
  for (;;) {
    const left = end - now();
    if (left < MIN_ATTEMPT_MS) break;
    const controller = new AbortController();
    let onDeadline: (err: Error) => void = () => {};
    const deadline = new Promise<never>((_, reject) => {
      onDeadline = reject;
    });
    deadline.catch(() => {});
    const timer = setTimeout(() => {
      const err = Object.assign(new Error(`no answer within ${Math.round(left)}ms`), { code: 'ETIMEDOUT' });
      controller.abort(err);
      onDeadline(err); // a client library that ignores the signal must not hold the check past its deadline
    }, left);
    const t0 = now();
    let outcome: Outcome;
    let cutShort = false;
    try {
      const running = attempt(controller.signal, Math.max(1, Math.floor(left)));
      running.catch(() => {}); // when the deadline wins, a late rejection is expected
      outcome = await Promise.race([running, deadline]);
    } catch (err) {
      outcome = classifyError(err);
      cutShort = controller.signal.aborted;
    } finally {
      clearTimeout(timer);
      controller.abort();
    }
    if (opts.settles && outcome.kind === 'fail' && outcome.reason === 'wrong-value')
      outcome = { kind: 'not-ready', message: outcome.message, actual: outcome.actual };
    const t1 = now();
    history.push({
      atMs: Math.round(t0 - start),
      durationMs: Math.round(t1 - t0),
      outcome: outcome.kind,
      message: redact(outcome.kind === 'pass' ? (outcome.actual ?? 'ok') : outcome.message),
    });
    // an attempt the deadline cut short says less than an earlier answer ("503", "refused"): keep that
    if (!(cutShort && last.kind === 'not-ready' && history.length > 1)) last = outcome;
    if (outcome.kind !== 'not-ready')
      return { final: outcome, timedOut: false, history, durationMs: t1 - start };
    const pause = Math.min(backoff, end - now());
    if (pause <= 0) break;
    await sleep(pause);
    backoff = Math.min(maxBackoff, backoff * 1.5);
  }
  return { final: last, timedOut: true, history, durationMs: now() - start };
}

function sleepFor(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Runs `tasks` with at most `limit` in flight; results keep the tasks' order. */
export async function pool<T>(tasks: readonly (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results = new Array<T>(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, tasks.length)) }, worker));
  return results;
}
