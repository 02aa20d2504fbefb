/** One finding, with where it is. Shared by the catalog loader, validate and every report. */
export interface Problem {
  severity: 'error' | 'warning';
  /** Path as the user sees it (relative to the working directory when possible). */
  file?: string;
  line?: number;
  column?: number;
  /** Short rule id, e.g. `schema`, `unknown-field`, `image-tag`. */
  rule: string;
  message: string;
}

export function formatProblem(p: Problem): string {
  const where = p.file ? `${p.file}${p.line ? `:${p.line}${p.column ? `:${p.column}` : ''}` : ''}: ` : '';
  return `${where}${p.severity}: ${p.message} [${p.rule}]`;
}

export const hasErrors = (problems: readonly Problem[]): boolean =>
  problems.some((p) => p.severity === 'error');
