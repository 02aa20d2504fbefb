/**
 * Generates each action's inputs/outputs tables from `actions/<name>/action.yml` into README.md,
 * between `<!-- action-docs:<name>:start -->` and `<!-- action-docs:<name>:end -->`.
 *
 *   npm run docs:actions            rewrite the tables in README.md
 *   npm run docs:actions -- --check exit 1 when README.md differs from the action.yml files
 *
 * Only the text between the markers is touched; everything else in README.md is written by hand.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

interface ActionInput {
  description?: string;
  required?: boolean | string;
  default?: unknown;
  deprecationMessage?: string;
}
interface ActionOutput {
  description?: string;
}
interface ActionFile {
  name?: string;
  description?: string;
  inputs?: Record<string, ActionInput | null>;
  outputs?: Record<string, ActionOutput | null>;
  runs?: { using?: string; main?: string; post?: string };
}

export const markers = (action: string) => ({
  start: `<!-- action-docs:${action}:start -->`,
  end: `<!-- action-docs:${action}:end -->`,
});

/** Table-cell text: one line, pipes escaped. */
function cell(text: string): string {
  return text
    .replace(/\s*\n\s*/g, ' ')
    .replace(/\|/g, '\\|')
    .trim();
}

function defaultCell(value: unknown): string {
  if (value === undefined || value === null) return '';
  const s = String(value);
  return s === '' ? "`''`" : `\`${cell(s).replace(/`/g, "'")}\``;
}

/** The Markdown placed between an action's markers, from its action.yml text. */
export function renderActionDocs(action: string, actionYaml: string): string {
  const a = (parse(actionYaml) ?? {}) as ActionFile;
  const lines: string[] = [];
  lines.push(
    `\`uses: OWNER/kindling/actions/${action}@REF\` — runs on \`${a.runs?.using ?? '?'}\`${a.runs?.post ? ' (with a post step)' : ''}.`,
  );
  if (a.description) lines.push('', cell(a.description));
  const inputs = Object.entries(a.inputs ?? {});
  lines.push('', '| Input | Required | Default | Description |', '|---|---|---|---|');
  for (const [name, spec] of inputs) {
    const s = spec ?? {};
    const required = s.required === true || s.required === 'true' ? 'yes' : 'no';
    const desc =
      cell(s.description ?? '') +
      (s.deprecationMessage ? ` (deprecated: ${cell(s.deprecationMessage)})` : '');
    lines.push(`| \`${name}\` | ${required} | ${defaultCell(s.default)} | ${desc} |`);
  }
  if (inputs.length === 0) lines.push('| — | | | no inputs |');
  const outputs = Object.entries(a.outputs ?? {});
  lines.push('', '| Output | Description |', '|---|---|');
  for (const [name, spec] of outputs) lines.push(`| \`${name}\` | ${cell(spec?.description ?? '')} |`);
  if (outputs.length === 0) lines.push('| — | no outputs |');
  return lines.join('\n');
}

/** README text with the action's block replaced; throws when the markers are missing or out of order. */
export function replaceBlock(readme: string, action: string, body: string): string {
  const { start, end } = markers(action);
  const i = readme.indexOf(start);
  const j = readme.indexOf(end);
  if (i < 0 || j < 0 || j < i)
    throw new Error(
      `README.md has no "${start}" … "${end}" block for actions/${action}; add the two markers`,
    );
  return `${readme.slice(0, i + start.length)}\n${body}\n${readme.slice(j)}`;
}

/** The current text between an action's markers, or undefined. */
export function currentBlock(readme: string, action: string): string | undefined {
  const { start, end } = markers(action);
  const i = readme.indexOf(start);
  const j = readme.indexOf(end);
  if (i < 0 || j < 0 || j < i) return undefined;
  return readme
    .slice(i + start.length, j)
    .replace(/^\n/, '')
    .replace(/\n$/, '');
}

/** Every action directory with an action.yml, sorted. */
export function listActions(root: string): string[] {
  const dir = join(root, 'actions');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => existsSync(join(dir, n, 'action.yml')))
    .sort();
}

/** README with every action's block regenerated. */
export function generateReadme(root: string, readme: string): string {
  let out = readme;
  for (const action of listActions(root)) {
    const file = join('actions', action, 'action.yml');
    let body: string;
    try {
      body = renderActionDocs(action, readFileSync(join(root, file), 'utf8'));
    } catch (err) {
      throw new Error(`${file}: ${err instanceof Error ? err.message : String(err)}`);
    }
    out = replaceBlock(out, action, body);
  }
  return out;
}

function main(argv: string[]): number {
  const root = process.cwd();
  const readmePath = join(root, 'README.md');
  const readme = readFileSync(readmePath, 'utf8');
  const next = generateReadme(root, readme);
  if (argv.includes('--check')) {
    if (next === readme) return 0;
    process.stderr.write(
      'action-docs: README.md is out of date with actions/*/action.yml; run npm run docs:actions\n',
    );
    return 1;
  }
  if (next !== readme) writeFileSync(readmePath, next);
  process.stdout.write(
    `action-docs: ${listActions(root).join(', ') || 'no actions'} ${next === readme ? 'up to date' : 'updated'}\n`,
  );
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`action-docs: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
