/**
 * Runs an action's entry point as GitHub's runner starts a `node24` action (test/actions-entry/
 * run-action.ts has the same contract): `node <entry>` with INPUT_* variables (defaults from
 * action.yml), fresh GITHUB_OUTPUT / GITHUB_STEP_SUMMARY / GITHUB_STATE files and a RUNNER_TEMP
 * that survives the step (the diagnostics directory lives there).
 *
 * The entry is the bundle (`actions/<name>/dist/...`, what the runner runs) unless the sources are
 * newer than it — a stale bundle would test old code — in which case the source entry is run with
 * Node's type stripping: `src/actions/<name>/index.ts` (or the older `src/actions/<name>.ts`),
 * resolved now so it works before and after the entry points move. KINDLING_E2E_ENTRY=dist|source
 * forces one.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  actionSpec,
  bundlePath,
  inputEnvName,
  parseFileCommands,
  REPO,
} from '../actions-entry/run-action.ts';

export interface EntryRun {
  code: number | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
  entry: string;
  ms: number;
  /** stdout chunks with the ms since the step started (when each line appeared). */
  timeline: { ms: number; text: string }[];
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** Unix time of the last commit touching `paths`, and whether the work tree changed them since; undefined without git. */
function gitState(paths: string[]): { committed: number; dirty: boolean } | undefined {
  try {
    const opts = {
      cwd: REPO,
      encoding: 'utf8' as const,
      stdio: ['ignore', 'pipe', 'ignore'] as ('ignore' | 'pipe')[],
    };
    const committed = Number(
      execFileSync('git', ['log', '-1', '--format=%ct', '--', ...paths], opts).trim() || 0,
    );
    const dirty = execFileSync('git', ['status', '--porcelain', '--', ...paths], opts).trim() !== '';
    return { committed, dirty };
  } catch {
    return undefined;
  }
}

/**
 * The entry file to run for `action`: the bundle, unless the sources are newer — by git (a source
 * commit after the bundle's last commit, or uncommitted source changes; deterministic in a fresh
 * clone), else by file times.
 */
export function resolveEntry(action: string): { path: string; kind: 'dist' | 'source' } {
  const forced = process.env.KINDLING_E2E_ENTRY;
  const dist = bundlePath(action);
  const source = [
    join(REPO, 'src/actions', action, 'index.ts'),
    join(REPO, 'src/actions', `${action}.ts`),
  ].find(existsSync);
  let distFresh: boolean;
  const src = gitState(['src']);
  const bundle = gitState([join('actions', action, 'dist')]);
  if (src && bundle) distFresh = existsSync(dist) && !src.dirty && src.committed <= bundle.committed;
  else distFresh = existsSync(dist) && statSync(dist).mtimeMs >= newestMtime(join(REPO, 'src'));
  if (forced === 'dist' || (forced !== 'source' && distFresh) || !source) return { path: dist, kind: 'dist' };
  return { path: source, kind: 'source' };
}

export async function runEntry(
  action: string,
  inputs: Record<string, string>,
  opts: { runnerTemp: string; env?: Record<string, string>; timeoutMs?: number },
): Promise<EntryRun> {
  const spec = actionSpec(action);
  const { path } = resolveEntry(action);
  const dir = join(opts.runnerTemp, `step-${action}-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  const files = { output: join(dir, 'output'), summary: join(dir, 'summary'), state: join(dir, 'state') };
  for (const f of Object.values(files)) writeFileSync(f, '');
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !/^(INPUT_|GITHUB_|RUNNER_|STATE_|ACTIONS_)/.test(k)) env[k] = v;
  for (const [name, s] of Object.entries(spec.inputs))
    if (s.default !== undefined && s.default !== null) env[inputEnvName(name)] = String(s.default);
  for (const [name, value] of Object.entries(inputs)) env[inputEnvName(name)] = value;
  Object.assign(env, {
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    GITHUB_OUTPUT: files.output,
    GITHUB_STEP_SUMMARY: files.summary,
    GITHUB_STATE: files.state,
    GITHUB_WORKSPACE: REPO,
    GITHUB_REPOSITORY: 'example/kindling',
    GITHUB_RUN_ID: '1',
    GITHUB_SERVER_URL: 'https://github.com',
    RUNNER_TEMP: opts.runnerTemp,
    ...opts.env,
  });
  const t0 = Date.now();
  const child = spawn(process.execPath, [path], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const timeline: { ms: number; text: string }[] = [];
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    timeline.push({ ms: Date.now() - t0, text: d });
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 150_000);
  const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
  clearTimeout(timer);
  return {
    code,
    stdout,
    stderr,
    outputs: parseFileCommands(readFileSync(files.output, 'utf8')),
    summary: readFileSync(files.summary, 'utf8'),
    entry: path.slice(REPO.length + 1),
    timeline,
    ms: Date.now() - t0,
  };
}
