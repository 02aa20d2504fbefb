/**
 * Which part of the stack a pull request must deploy on kind, from the files it changes.
 *
 *   node scripts/changed-components.ts --changed-files FILE [--full-stack true] [--with minio]
 *                                      [--actions-profile minimal] [--catalog manifests/stack.yaml]
 *                                      [--github-output PATH]
 *
 * Rules (decided by `selectForChanges`, a pure function):
 * - the full stack when `src/` changes, when the `full-stack` label is set, or when a file under the
 *   catalog's directory that no single component owns changes (the catalog itself, kustomization,
 *   overlays, shared objects such as the namespace) — those can affect every component;
 * - otherwise the components whose manifest files changed, plus their dependencies (from the catalog);
 * - `actions/` changes alone deploy the `--actions-profile` (the actions must be exercised end to end);
 * - nothing to deploy when no relevant file changed.
 * `--with` adds components the pipeline itself needs (the in-cluster MinIO the restore drill writes to).
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadStack, orderWithDependencies, resolveSelection } from '../src/catalog/index.ts';
import type { Stack } from '../src/catalog/types.ts';

export interface Selection {
  /** `full`: deploy the full profile; `components`: the listed components; `none`: nothing to deploy. */
  mode: 'full' | 'components' | 'none';
  /** Profile to pass to the deploy action (`full` or empty). */
  profile: string;
  /** Components to pass to the deploy action, dependencies first (empty when mode is full or none). */
  components: string[];
  /** Why, in one line, for the job summary. */
  reason: string;
}

export interface SelectOptions {
  fullStackLabel: boolean;
  /** Components the pipeline always needs when it deploys anything. */
  always: readonly string[];
  /** Profile deployed when only the actions changed. */
  actionsProfile: string;
  /** The catalog file, relative to the repository root (the paths of `files` are repository-relative). */
  catalogPath: string;
}

const FULL = 'full';

export function selectForChanges(stack: Stack, files: readonly string[], opts: SelectOptions): Selection {
  const full = (reason: string): Selection => ({ mode: 'full', profile: FULL, components: [], reason });
  if (opts.fullStackLabel) return full('the pull request has the full-stack label');
  const src = files.filter((f) => f.startsWith('src/'));
  if (src.length > 0) return full(`src/ changed (${src.length} file(s)), which can affect every component`);

  // Paths relative to the catalog directory, for the files under it.
  const catalogDir = opts.catalogPath.split('/').slice(0, -1).join('/');
  const prefix = catalogDir ? `${catalogDir}/` : '';
  const underCatalog = files.filter((f) => f.startsWith(prefix)).map((f) => f.slice(prefix.length));
  const owned = new Map<string, string[]>();
  for (const c of Object.values(stack.components))
    for (const m of c.manifests) owned.set(m, [...(owned.get(m) ?? []), c.name]);
  const unowned = underCatalog.filter((f) => !owned.has(f));
  if (unowned.length > 0)
    return full(`shared stack files changed: ${unowned.map((f) => prefix + f).join(', ')}`);

  const touched = [...new Set(underCatalog.flatMap((f) => owned.get(f) ?? []))];
  const actionsChanged = files.some((f) => f.startsWith('actions/'));
  if (touched.length === 0 && !actionsChanged)
    return {
      mode: 'none',
      profile: '',
      components: [],
      reason: 'no stack manifest, source or action changed',
    };

  const seed = [
    ...touched,
    ...(actionsChanged ? resolveSelection(stack, opts.actionsProfile).map((c) => c.name) : []),
    ...opts.always,
  ];
  const components = orderWithDependencies(stack, seed).map((c) => c.name);
  const why = [
    touched.length ? `manifests of ${touched.join(', ')} changed` : '',
    actionsChanged ? `actions/ changed (profile ${opts.actionsProfile})` : '',
    opts.always.length ? `plus ${opts.always.join(', ')} for the pipeline` : '',
  ].filter(Boolean);
  return { mode: 'components', profile: '', components, reason: `${why.join('; ')}; with dependencies` };
}

/** `key=value` lines for `$GITHUB_OUTPUT` (values are single-line by construction). */
export function toGithubOutput(sel: Selection): string {
  return [
    `mode=${sel.mode}`,
    `profile=${sel.profile}`,
    `components=${sel.components.join(',')}`,
    `reason=${sel.reason}`,
  ]
    .map((l) => `${l.replace(/[\r\n]+/g, ' ')}\n`)
    .join('');
}

function main(argv: string[]): number {
  const { values } = parseArgs({
    args: argv,
    options: {
      'changed-files': { type: 'string' },
      'full-stack': { type: 'string', default: 'false' },
      with: { type: 'string', multiple: true, default: [] },
      'actions-profile': { type: 'string', default: 'minimal' },
      catalog: { type: 'string', default: 'manifests/stack.yaml' },
      'github-output': { type: 'string' },
    },
  });
  if (!values['changed-files']) {
    process.stderr.write('changed-components: --changed-files FILE is required\n');
    return 2;
  }
  const files = readFileSync(values['changed-files'], 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const stack = loadStack(values.catalog);
  const sel = selectForChanges(stack, files, {
    fullStackLabel: values['full-stack'] === 'true',
    always: values.with.flatMap((w) => w.split(',')).filter(Boolean),
    actionsProfile: values['actions-profile'],
    catalogPath: relative(process.cwd(), resolve(values.catalog)).split('\\').join('/'),
  });
  process.stdout.write(`${JSON.stringify(sel)}\n`);
  if (values['github-output']) appendFileSync(values['github-output'], toGithubOutput(sel));
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`changed-components: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
  }
}
