/**
 * Runs an action's BUNDLED entry point the way the GitHub runner does: a child process
 * `node actions/<name>/dist/<entry>.js` with one `INPUT_<NAME>` variable per input (name uppercased,
 * spaces → `_`, dashes kept), and fresh GITHUB_OUTPUT / GITHUB_STEP_SUMMARY / GITHUB_STATE files.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

export const REPO = resolve(import.meta.dirname, '../..');

export interface ActionRun {
  code: number | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
  /** State saved with core.saveState (what a post step receives). */
  state: Record<string, string>;
}

export interface ActionSpec {
  inputs: Record<string, { required?: boolean | string; default?: unknown; description?: string }>;
  outputs: Record<string, { description?: string }>;
  runs: { using: string; main: string; post?: string };
}

export function actionSpec(action: string): ActionSpec {
  const doc = parse(readFileSync(join(REPO, 'actions', action, 'action.yml'), 'utf8')) as Partial<ActionSpec>;
  return { inputs: doc.inputs ?? {}, outputs: doc.outputs ?? {}, runs: doc.runs as ActionSpec['runs'] };
}

/** Path of an entry point; `root` is where the kindling repository sits (default: this checkout). */
export function bundlePath(action: string, entry: 'main' | 'post' = 'main', root = REPO): string {
  const runs = actionSpec(action).runs;
  const file = entry === 'main' ? runs.main : runs.post;
  if (!file) throw new Error(`actions/${action}/action.yml declares no ${entry} entry`);
  return join(root, 'actions', action, file);
}

export const hasBundle = (action: string): boolean =>
  existsSync(join(REPO, 'actions', action, 'action.yml')) && existsSync(bundlePath(action));

export const inputEnvName = (name: string): string => `INPUT_${name.replace(/ /g, '_').toUpperCase()}`;

/** Parses GITHUB_OUTPUT / GITHUB_STATE file commands: `name<<DELIM\nvalue\nDELIM` and `name=value`. */
export function parseFileCommands(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, name, delim] = heredoc;
      const value: string[] = [];
      for (i++; i < lines.length && lines[i] !== delim; i++) value.push(lines[i]!);
      out[name!] = value.join('\n');
    } else if (line.includes('=')) {
      const eq = line.indexOf('=');
      out[line.slice(0, eq)] = line.slice(eq + 1);
    }
  }
  return out;
}

/**
 * Runs one entry point. `inputs` are passed as INPUT_* variables; inputs the action declares with a
 * default but that are not given get their default, as the runner does. `cwd` is the workspace.
 */
export async function runAction(
  action: string,
  inputs: Record<string, string>,
  opts: {
    entry?: 'main' | 'post';
    /** The workspace (GITHUB_WORKSPACE and the process's cwd); default this checkout. */
    cwd?: string;
    /** Where the action's repository is, as the runner downloaded or checked it out. */
    root?: string;
    env?: Record<string, string>;
    state?: Record<string, string>;
    timeoutMs?: number;
  } = {},
): Promise<ActionRun> {
  const spec = actionSpec(action);
  const dir = mkdtempSync(join(tmpdir(), `kindling-action-${action}-`));
  const files = {
    output: join(dir, 'output'),
    summary: join(dir, 'summary'),
    state: join(dir, 'state'),
    env: join(dir, 'env'),
    path: join(dir, 'path'),
  };
  for (const f of Object.values(files)) writeFileSync(f, '');
  // A clean environment: nothing INPUT_*/GITHUB_* leaks in from the test process.
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !/^(INPUT_|GITHUB_|RUNNER_|STATE_|ACTIONS_)/.test(k)) env[k] = v;
  for (const [name, s] of Object.entries(spec.inputs))
    if (s.default !== undefined && s.default !== null) env[inputEnvName(name)] = String(s.default);
  for (const [name, value] of Object.entries(inputs)) env[inputEnvName(name)] = value;
  for (const [name, value] of Object.entries(opts.state ?? {})) env[`STATE_${name}`] = value;
  const workspace = opts.cwd ?? REPO;
  Object.assign(env, {
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    GITHUB_OUTPUT: files.output,
    GITHUB_STEP_SUMMARY: files.summary,
    GITHUB_STATE: files.state,
    GITHUB_ENV: files.env,
    GITHUB_PATH: files.path,
    GITHUB_WORKSPACE: workspace,
    GITHUB_REPOSITORY: 'example/kindling',
    GITHUB_RUN_ID: '1',
    GITHUB_SERVER_URL: 'https://github.com',
    RUNNER_TEMP: dir,
    RUNNER_TOOL_CACHE: join(dir, 'tool-cache'),
    ...opts.env,
  });
  const child = spawn(process.execPath, [bundlePath(action, opts.entry, opts.root)], {
    cwd: workspace,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
  const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
  clearTimeout(timer);
  const result: ActionRun = {
    code,
    stdout,
    stderr,
    outputs: parseFileCommands(readFileSync(files.output, 'utf8')),
    summary: readFileSync(files.summary, 'utf8'),
    state: parseFileCommands(readFileSync(files.state, 'utf8')),
  };
  rmSync(dir, { recursive: true, force: true });
  return result;
}

/** The `::error::` lines of a run (what the runner shows as the step's failure). */
export const errors = (r: ActionRun): string =>
  r.stdout
    .split('\n')
    .filter((l) => l.startsWith('::error'))
    .join('\n');

/** A failing suite for an action whose bundle is not there (no hidden skip). */
export function missingBundle(action: string): void {
  describe(`actions/${action} bundle`, () => {
    it(`exists (actions/${action}/action.yml and its dist entry; npm run bundle)`, () => {
      expect(hasBundle(action)).toBe(true);
    });
  });
}
