import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../src/util/duration.ts';
import { ExitCode, exitCodeOf, FailedError, UsageError } from '../../src/util/errors.ts';
import { addSecret, redact, redactUrl } from '../../src/util/redact.ts';

describe('durations', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1500],
    ['2d', 172_800_000],
  ])('parses %s', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '10', '5 minutes', 'm5', '-3s', '3x', '1s2'])(
    'rejects %j with a usage error naming the flag',
    (text) => {
      expect(() => parseDuration(text, '--timeout')).toThrow(UsageError);
      expect(() => parseDuration(text, '--timeout')).toThrow(/--timeout/);
    },
  );

  it('formats for people', () => {
    expect(formatDuration(850)).toBe('850ms');
    expect(formatDuration(12_340)).toBe('12.3s');
    expect(formatDuration(245_000)).toBe('4m05s');
    expect(formatDuration(3_900_000)).toBe('1h05m');
  });
});

describe('errors and exit codes', () => {
  it('maps usage errors to 2 and everything else to 1', () => {
    expect(exitCodeOf(new UsageError('bad flag', '--profile'))).toBe(ExitCode.Usage);
    expect(exitCodeOf(new FailedError('checks failed', ['postgres: down']))).toBe(ExitCode.Failed);
    expect(exitCodeOf(new Error('boom'))).toBe(ExitCode.Failed);
  });
  it('names where a usage error is and lists every failed problem', () => {
    expect(new UsageError('unknown profile', '--profile').message).toBe('--profile: unknown profile');
    expect(new FailedError('2 checks failed', ['a', 'b']).message).toBe('2 checks failed\n  - a\n  - b');
  });
});

describe('redaction', () => {
  it('hides URL passwords', () => {
    expect(redactUrl('postgresql://postgres:s3cret@127.0.0.1:5432/db')).toBe(
      'postgresql://postgres:***@127.0.0.1:5432/db',
    );
    expect(redact('connect to redis://:hunter22@host:6379 failed')).not.toContain('hunter22');
  });
  it('masks registered secrets anywhere in a text', () => {
    addSecret('tok-ABCDEF');
    expect(redact('the token tok-ABCDEF leaked')).toBe('the token *** leaked');
  });
});
