import { UsageError } from './errors.ts';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;

/**
 * Parses a duration written `500ms`, `30s`, `5m`, `1h30m` or `2d` into milliseconds.
 * `what` names the flag or field in the error message.
 */
export function parseDuration(text: string, what = 'duration'): number {
  const s = text.trim();
  if (s === '') throw new UsageError(`empty ${what}; write it like 500ms, 30s or 5m`);
  let total = 0;
  PART.lastIndex = 0;
  let matched = 0;
  while (PART.lastIndex < s.length) {
    const m = PART.exec(s);
    if (!m) break;
    total += Number(m[1]) * UNITS[m[2]!]!;
    matched = PART.lastIndex;
  }
  if (matched !== s.length) {
    throw new UsageError(`invalid ${what} "${text}"; write it like 500ms, 30s, 5m or 1h30m`);
  }
  return Math.round(total);
}

/** Formats milliseconds for people: `850ms`, `12.3s`, `4m05s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  if (m < 60) return `${m}m${String(s).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/**
 * A duration from the environment variable `name` (`30s`, `1m`), else `fallbackMs`; a bad value,
 * or one under `minMs`, is a usage error naming the variable.
 */
export function durationFromEnv(
  env: NodeJS.ProcessEnv,
  name: string,
  fallbackMs: number,
  minMs: number,
): number {
  const text = env[name];
  if (!text) return fallbackMs;
  const ms = parseDuration(text, name);
  if (ms < minMs) throw new UsageError(`${name} "${text}" is too short (${formatDuration(minMs)} at least)`);
  return ms;
}
