import { formatProblem, type Problem } from '../util/problem.ts';
import { redact } from '../util/redact.ts';
import type { ValidateResult } from './validate.ts';

/** Output of `kindling validate`: text for people, JSON for programs, annotations for GitHub. */

export function counts(problems: readonly Problem[]): { errors: number; warnings: number } {
  const errors = problems.filter((p) => p.severity === 'error').length;
  return { errors, warnings: problems.length - errors };
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export function summaryLine(r: ValidateResult): string {
  const { errors, warnings } = counts(r.problems);
  const files = new Set(r.problems.map((p) => p.file)).size;
  const scope = r.sizing ? `sizing ${r.sizing}, ${plural(r.objects, 'object')}` : 'catalog';
  const note = r.sizing && !r.rendered ? ' (not rendered: base objects checked as written)' : '';
  if (errors + warnings === 0) return `validate (${scope}): no problems${note}`;
  return `validate (${scope}): ${plural(errors, 'error')}, ${plural(warnings, 'warning')} in ${plural(files, 'file')}${note}`;
}

/** Problems grouped by file (a blank line between files), then the summary line. */
export function formatText(r: ValidateResult): string {
  const lines: string[] = [];
  let file: string | undefined;
  for (const p of r.problems) {
    if (lines.length && p.file !== file) lines.push('');
    file = p.file;
    lines.push(formatProblem(p));
  }
  if (lines.length) lines.push('');
  lines.push(summaryLine(r));
  return redact(`${lines.join('\n')}\n`);
}

export function formatJson(r: ValidateResult): string {
  const c = counts(r.problems);
  return redact(
    `${JSON.stringify(
      {
        sizing: r.sizing ?? null,
        ok: c.errors === 0,
        ...c,
        objects: r.objects,
        rendered: r.rendered,
        problems: r.problems,
      },
      null,
      2,
    )}\n`,
  );
}

export interface Annotation {
  level: 'error' | 'warning';
  message: string;
  title: string;
  file?: string;
  startLine?: number;
}

/**
 * GitHub shows at most 10 annotations of each level per step: past that, the first nine are
 * kept and the tenth summarises the rest, so nothing is silently dropped.
 */
export function annotations(problems: readonly Problem[], perLevel = 10): Annotation[] {
  const out: Annotation[] = [];
  for (const level of ['error', 'warning'] as const) {
    const list = problems.filter((p) => p.severity === level);
    const shown = list.length > perLevel ? list.slice(0, perLevel - 1) : list;
    for (const p of shown)
      out.push({
        level,
        message: redact(p.message),
        title: `kindling validate [${p.rule}]`,
        file: p.file,
        startLine: p.line,
      });
    const rest = list.slice(shown.length);
    if (rest.length) {
      const where = rest.map(
        (p) => `${p.file ?? ''}${p.line ? `:${p.line}` : ''}: ${redact(p.message)} [${p.rule}]`,
      );
      out.push({
        level,
        title: `kindling validate (${rest.length} more ${level}s)`,
        message: `${rest.length} more ${level}s (see the job log):\n${where.join('\n')}`,
      });
    }
  }
  return out;
}

/** Writes annotations and, when the step has a summary file, a table of every problem. */
export async function writeGithub(r: ValidateResult): Promise<void> {
  const core = await import('@actions/core');
  for (const a of annotations(r.problems)) {
    const props = { title: a.title, file: a.file, startLine: a.startLine };
    if (a.level === 'error') core.error(a.message, props);
    else core.warning(a.message, props);
  }
  if (!process.env.GITHUB_STEP_SUMMARY) return;
  const { errors, warnings } = counts(r.problems);
  core.summary.addHeading(`kindling validate${r.sizing ? ` (${r.sizing})` : ''}`, 2);
  core.summary.addRaw(`${summaryLine(r)}\n\n`);
  if (errors + warnings > 0) {
    core.summary.addTable([
      [
        { data: 'Severity', header: true },
        { data: 'Location', header: true },
        { data: 'Rule', header: true },
        { data: 'Problem', header: true },
      ],
      ...r.problems.map((p) => [
        p.severity,
        `${p.file ?? ''}${p.line ? `:${p.line}` : ''}`,
        p.rule,
        escapeHtml(redact(p.message)),
      ]),
    ]);
  }
  await core.summary.write();
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
