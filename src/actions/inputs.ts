import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as core from '@actions/core';
import { DEFAULT_CATALOG } from '../catalog/load.ts';
import { parseDuration } from '../util/duration.ts';
import { UsageError } from '../util/errors.ts';
import { addSecret, onSecret } from '../util/redact.ts';

/** Typed action inputs; every error names the input. */
export function stringInput(name: string, opts: { required?: boolean; secret?: boolean } = {}): string {
  const value = core.getInput(name, { trimWhitespace: true });
  if (opts.required && !value) throw new UsageError(`input "${name}" is required`);
  if (opts.secret && value) {
    core.setSecret(value);
    addSecret(value);
  }
  return value;
}

export function booleanInput(name: string, fallback = false): boolean {
  const value = core.getInput(name).trim().toLowerCase();
  if (value === '') return fallback;
  if (['true', 'yes', '1', 'on'].includes(value)) return true;
  if (['false', 'no', '0', 'off'].includes(value)) return false;
  throw new UsageError(`input "${name}" must be true or false (got "${value}")`);
}

export function durationInput(name: string, fallback: string): number {
  const value = core.getInput(name).trim() || fallback;
  return parseDuration(value, `input "${name}"`);
}

export function choiceInput<T extends string>(name: string, choices: readonly T[], fallback: T): T {
  const value = (core.getInput(name).trim() || fallback) as T;
  if (!choices.includes(value))
    throw new UsageError(`input "${name}" must be one of ${choices.join(', ')} (got "${value}")`);
  return value;
}

/** Multiline or comma-separated list input. */
export function listInput(name: string): string[] {
  return core
    .getInput(name)
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Runs an action body: usage errors and failures become `core.setFailed` with one clear message. */
export async function runAction(body: () => Promise<void>): Promise<void> {
  // the runner masks exactly what kindling masks: values read from Secrets and secret inputs
  onSecret((value) => core.setSecret(value));
  try {
    await body();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    core.setFailed(message);
    if (process.env.KINDLING_DEBUG && err instanceof Error && err.stack) core.debug(err.stack);
  }
}

/**
 * The catalog path: the `catalog` input when that file exists in the workspace; else the catalog
 * shipped beside the action (when used as OWNER/REPO/actions/NAME@REF the whole repository is
 * checked out next to the bundle, and the caller's workspace has no manifests/stack.yaml).
 */
export function catalogInput(fallback = DEFAULT_CATALOG): string {
  const given = stringInput('catalog') || fallback;
  if (existsSync(given) || given !== fallback) return given; // a path the user chose: let the loader name it if missing
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, fallback);
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  return given;
}
