/**
 * Settings of a use case: each value carries where it came from (a CLI flag or an action input),
 * so one message names `--sizing` on the command line and `input "sizing"` in an action.
 * The parsers here are the only place raw flag/input text becomes typed values.
 */
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseDuration } from '../util/duration.ts';
import { UsageError } from '../util/errors.ts';

export type Origin = { kind: 'flag'; name: string } | { kind: 'input'; name: string };

export interface Setting<T> {
  value: T;
  origin: Origin;
}

export const fromFlag = <T>(name: string, value: T): Setting<T> => ({
  value,
  origin: { kind: 'flag', name },
});
export const fromInput = <T>(name: string, value: T): Setting<T> => ({
  value,
  origin: { kind: 'input', name },
});

/** `--sizing` or `input "sizing"`. */
export const named = (s: Setting<unknown> | Origin): string => {
  const o = 'origin' in s ? s.origin : s;
  return o.kind === 'flag' ? o.name : `input "${o.name}"`;
};

/** A usage error (exit 2) about one setting, naming it as the user wrote it. */
export const invalid = (s: Setting<unknown>, message: string): UsageError =>
  new UsageError(message, named(s));

/**
 * Lower layers name the CLI flag (`--endpoint`, `--components`) in their usage errors. `flags` maps
 * each setting key to that canonical flag; a UsageError from `work` is re-worded so every such flag
 * reads as the origin of the setting that carried it (the input, in an action).
 */
export async function speaking<T>(
  settings: object,
  flags: Readonly<Record<string, string>>,
  work: () => Promise<T> | T,
): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw reword(err, settings, flags);
  }
}

export function reword(err: unknown, settings: object, flags: Readonly<Record<string, string>>): unknown {
  if (!(err instanceof UsageError)) return err;
  let message = err.message;
  const all = settings as Record<string, Setting<unknown> | undefined>;
  // longest flags first: `--endpoint` must not rewrite the start of `--endpoints`
  const pairs = Object.entries(flags).sort(([, a], [, b]) => b.length - a.length);
  for (const [key, flag] of pairs) {
    const s = all[key];
    if (!s || (s.origin.kind === 'flag' && s.origin.name === flag)) continue;
    message = message.replace(new RegExp(`(?<![\\w-])${escapeRe(flag)}(?![\\w-])`, 'g'), named(s));
  }
  return message === err.message ? err : new UsageError(message);
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Splits `a, b` and multi-line lists into names. */
export function list(s: Setting<string | readonly string[] | undefined>): string[] {
  const raw = typeof s.value === 'string' ? [s.value] : [...(s.value ?? [])];
  return raw
    .flatMap((v) => v.split(/[\n,]/))
    .map((v) => v.trim())
    .filter(Boolean);
}

/** One of `choices`; empty means `fallback` (an action's default, when a runner passes none). */
export function choice<T extends string>(s: Setting<string>, choices: readonly T[], fallback?: T): T {
  const v = s.value.trim() || fallback || '';
  if (!(choices as readonly string[]).includes(v))
    throw invalid(s, `must be one of ${choices.join(', ')} (got "${s.value}")`);
  return v as T;
}

export function bool(s: Setting<string | boolean>): boolean {
  if (typeof s.value === 'boolean') return s.value;
  const v = s.value.trim().toLowerCase();
  if (['true', 'yes', '1', 'on'].includes(v)) return true;
  if (['false', 'no', '0', '', 'off'].includes(v)) return false;
  throw invalid(s, `must be true or false (got "${s.value}")`);
}

/**
 * Node's timers hold at most 2^31-1 ms; a longer delay is set to 1 ms (nodejs.org/api/timers.html,
 * setTimeout: "When delay is larger than 2147483647 or less than 1 … the delay will be set to 1"),
 * so a huge deadline would retry in a tight loop, and 0 would fail before the first attempt.
 */
export const MAX_DURATION_MS = 2_147_483_647;

/** A bounded duration (`30s`, `10m`): more than 0, at most ~24 days; empty means `fallback`. */
export function duration(s: Setting<string>, fallback?: string): number {
  const ms = parseDuration(s.value.trim() || fallback || '', named(s));
  if (ms < 1) throw invalid(s, `must be longer than 0 (got "${s.value}")`);
  if (ms > MAX_DURATION_MS) throw invalid(s, `must be at most 24d (got "${s.value}")`);
  return ms;
}

export function positiveInt(s: Setting<string>, fallback?: string): number {
  const v = s.value.trim() || fallback || '';
  if (!/^\d+$/.test(v) || Number(v) < 1) throw invalid(s, `must be a whole number >= 1 (got "${s.value}")`);
  return Number(v);
}

/** An http(s) URL (an S3 endpoint): anything else is a usage error before any work. */
export function httpUrl(s: Setting<string | undefined>): string | undefined {
  if (!s.value) return undefined;
  let url: URL;
  try {
    url = new URL(s.value);
  } catch {
    throw invalid(s, `"${s.value}" is not a URL (write http://HOST:PORT or https://HOST)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw invalid(s, `must be an http:// or https:// URL (got "${url.protocol}//…")`);
  return s.value;
}

/** A file the run reads: it must exist, checked before the work starts. */
export function inputFile(s: Setting<string | undefined>): string | undefined {
  if (!s.value) return undefined;
  if (!existsSync(s.value)) throw invalid(s, `no such file: ${s.value}`);
  if (!statSync(s.value).isFile()) throw invalid(s, `not a file: ${s.value}`);
  return s.value;
}

/**
 * A file the run writes at the end (a report): checked before the work, so a typo does not cost a
 * whole verify. Its directory may be created; a path that is a directory, or under a file, is refused.
 */
export function outputFile(s: Setting<string | undefined>): string | undefined {
  if (!s.value) return undefined;
  const path = resolve(s.value);
  if (existsSync(path) && statSync(path).isDirectory()) throw invalid(s, `${s.value} is a directory`);
  let dir = dirname(path);
  while (!existsSync(dir)) dir = dirname(dir);
  if (!statSync(dir).isDirectory()) throw invalid(s, `cannot write ${s.value}: ${dir} is a file`);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw invalid(s, `cannot write ${s.value}: ${dir} is not writable`);
  }
  return s.value;
}
