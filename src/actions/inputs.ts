/**
 * Action inputs as settings (each error names the input) and the one way an action ends.
 * The runner passes input `name` as INPUT_<NAME> (core.getInput); a missing one reads as ''.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as core from '@actions/core';
import { fromInput, type Setting } from '../app/settings.ts';
import { kubeconfigSource } from '../app/target.ts';
import { DEFAULT_CATALOG } from '../catalog/load.ts';
import { errorMessage } from '../util/errors.ts';
import { addSecret, onSecret } from '../util/redact.ts';

// the runner masks exactly what kindling masks: values read from Secrets, secret inputs, URL
// passwords — never catalog literals such as a user name (util/redact.ts)
onSecret((value) => core.setSecret(value));

export const input = (name: string): Setting<string> => fromInput(name, core.getInput(name));

/** A secret input (a kubeconfig's content, a key): masked before anything can print it. */
export function secretInput(name: string): Setting<string> {
  const s = input(name);
  addSecret(s.value); // once: the onSecret listener above hands it to core.setSecret
  return s;
}

/** The `kubeconfig` input: its content (from a secret) is masked, a path is not. */
export function kubeconfigInput(): Setting<string> {
  const s = input('kubeconfig');
  kubeconfigSource(s); // registers content (not a path) as a secret
  return s;
}

/** `NAME=URL` lines whose passwords (raw and decoded) are masked; a malformed value is masked whole. */
export function endpointLines(name: string): Setting<string[]> {
  const lines = core
    .getInput(name)
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  for (const line of lines) {
    const raw = line.slice(line.indexOf('=') + 1);
    try {
      const url = new URL(raw);
      if (url.password) for (const p of [url.password, decodeURIComponent(url.password)]) addSecret(p);
    } catch {
      addSecret(raw);
    }
  }
  return fromInput(name, lines);
}

/**
 * The `catalog` input when that file exists in the workspace; else the catalog shipped beside the
 * action (used as OWNER/REPO/actions/NAME@REF, the whole repository is checked out next to the
 * bundle, and the caller's workspace has no manifests/stack.yaml).
 */
export function catalogInput(): Setting<string> {
  const given = core.getInput('catalog') || DEFAULT_CATALOG;
  if (existsSync(given) || given !== DEFAULT_CATALOG) return fromInput('catalog', given);
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, DEFAULT_CATALOG);
    if (existsSync(candidate)) return fromInput('catalog', candidate);
    dir = dirname(dir);
  }
  return fromInput('catalog', given);
}

/** Fails the step with one clear message (the stack only with KINDLING_DEBUG). */
export function fail(err: unknown): void {
  core.setFailed(errorMessage(err));
  if (process.env.KINDLING_DEBUG && err instanceof Error && err.stack) core.debug(err.stack);
}

/** Several inputs at once: `{ setting: 'input-name' }` → `{ setting: Setting }`. */
export function inputs<K extends string>(names: Record<K, string>): Record<K, Setting<string>> {
  return Object.fromEntries(Object.entries(names).map(([k, n]) => [k, input(n as string)])) as Record<
    K,
    Setting<string>
  >;
}
