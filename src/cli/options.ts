import { InvalidArgumentError, Option } from 'commander';
import { parseDuration } from '../util/duration.ts';
import { UsageError } from '../util/errors.ts';

/** Commander parser for durations (`500ms`, `30s`, `5m`): the value becomes milliseconds. */
export function durationArg(flag: string) {
  return (value: string): number => {
    try {
      return parseDuration(value, flag);
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message);
    }
  };
}

/** Commander parser for a repeatable flag that collects its values. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Splits `a,b , c` into names. */
export function splitList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

export const catalogOption = () =>
  new Option('--catalog <file>', 'the stack catalog').default('manifests/stack.yaml').env('KINDLING_CATALOG');

/** Checks a choice flag by hand where the choices come from data (the catalog). */
export function requireChoice(flag: string, value: string, choices: readonly string[]): string {
  if (!choices.includes(value))
    throw new UsageError(`${flag} must be one of ${choices.join(', ')} (got "${value}")`);
  return value;
}

/** A duration flag whose help shows its default as written (`10m`), while the value is milliseconds. */
export function durationOption(flags: string, description: string, defaultText: string): Option {
  const name = flags.split(/[ ,]/)[0]!;
  return new Option(flags, description)
    .argParser(durationArg(name))
    .default(parseDuration(defaultText), defaultText);
}
