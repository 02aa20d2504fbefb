/** How verify results look on a terminal: progress as checks settle, the table, failures in full. */
import type { CheckResult, VerifyReport } from '../report/results.ts';
import { detail, renderTable } from '../report/verify-console.ts';
import { formatDuration } from '../util/duration.ts';
import { redact } from '../util/redact.ts';
import { useColour } from './colour.ts';

/** One line per check as it settles, so a long verify is never silent (pure). */
export const progressLine = (r: CheckResult): string =>
  `  ${r.status.toUpperCase()} ${r.component}/${r.check}${r.status === 'skip' ? '' : ` (${formatDuration(r.durationMs)}, ${r.attempts} attempt${r.attempts === 1 ? '' : 's'})`}`;

export const printProgress = (r: CheckResult): void => {
  process.stderr.write(`${progressLine(r)}\n`);
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
