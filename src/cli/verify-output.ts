/** How verify results look on a terminal: progress as checks settle, the table, failures in full. */
import type { CheckResult, VerifyReport } from '../report/results.ts';
import { detail, renderTable } from '../report/verify-console.ts';
import { formatDuration } from '../util/duration.ts';
import { redact } from '../util/redact.ts';
import { useColour } from './colour.ts';

/** One line per check as it settles, so a long verify is never silent (pure). */
export const progressLine = (r: CheckResult): string =>
  `  ${r.status.toUpperCase()} ${r.component}/${r.check}${r.status === 'skip' ? '' : ` (${formatDuration(r.durationMs)}, ${r.attempts} attempt${r.attempts === 1 ? '' : 's'})`}`;

/** One line per component once all of its checks have settled (pure). */
export function componentLine(name: string, results: readonly CheckResult[]): string {
  const count = (s: CheckResult['status']) => results.filter((r) => r.status === s).length;
  const [failed, passed, skipped] = [count('fail'), count('pass'), count('skip')];
  const parts = [
    failed ? `${failed} failed` : '',
    passed ? `${passed} passed` : '',
    skipped ? `${skipped} skipped` : '',
  ].filter(Boolean);
  const slowest = Math.max(0, ...results.map((r) => r.durationMs));
  const mark = failed ? 'FAIL' : passed ? 'ok' : 'skip';
  return `  ${mark.padEnd(4)} ${name}: ${parts.join(', ')}${slowest ? ` (${formatDuration(slowest)})` : ''}`;
}

/** Progress on stderr while verify runs: each component as it settles. */
export const printProgress = (name: string, results: readonly CheckResult[]): void => {
  process.stderr.write(`${componentLine(name, results)}\n`);
};

/** Every failing check with what was seen first, then expected, in full (the table cuts it) (pure). */
export function failureDetails(report: VerifyReport): string {
  const failed = report.results.filter((r) => r.status === 'fail');
  if (failed.length === 0) return '';
  const lines = ['', 'failing checks:'];
  for (const r of failed) {
    lines.push(`  ${r.component}/${r.check}${r.where ? ` (${r.where})` : ''}`);
    if (r.actual) lines.push(`    saw:      ${redact(r.actual)}`);
    if (r.expected) lines.push(`    expected: ${redact(r.expected)}`);
    lines.push(`    ${redact(r.status === 'fail' ? r.message : detail(r))}`);
  }
  return `${lines.join('\n')}\n`;
}

export function printReport(report: VerifyReport): void {
  const colour = useColour(process.stdout);
  process.stdout.write(renderTable(report, { color: colour, width: process.stdout.columns }));
  process.stdout.write(failureDetails(report));
}
