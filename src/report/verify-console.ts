import { formatDuration } from '../util/duration.ts';
import { redact } from '../util/redact.ts';
import type { CheckResult, VerifyReport } from './results.ts';

const MARK = { pass: 'PASS', fail: 'FAIL', skip: 'SKIP' } as const;

/** One line of detail: what was expected and what was seen, or why it was skipped. */
export function detail(r: CheckResult): string {
  if (r.status === 'pass') return r.actual ? `${r.message}: ${r.actual}` : r.message;
  if (r.status === 'skip') return r.message;
  const seen = r.actual && r.actual !== r.message ? `; saw ${r.actual}` : '';
  const want = r.expected ? `; expected ${r.expected}` : '';
  return `${r.message}${want}${seen}`;
}

/** The console table of a verify report, plus a totals line. Secrets are masked. */
export function renderTable(report: VerifyReport, opts: { width?: number; color?: boolean } = {}): string {
  const width = opts.width ?? 160;
  const paint = (s: string, status: CheckResult['status']) => {
    if (!opts.color) return s;
    const code = status === 'pass' ? 32 : status === 'fail' ? 31 : 90;
    return `\u001b[${code}m${s}\u001b[0m`;
  };
  const rows = report.results.map((r) => [
    r.component,
    r.check,
    MARK[r.status],
    String(r.attempts),
    r.status === 'skip' ? '-' : formatDuration(r.durationMs),
    redact(detail(r)).replace(/\s+/g, ' '),
  ]);
  const head = ['COMPONENT', 'CHECK', 'STATUS', 'TRIES', 'TIME', 'DETAIL'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  widths[5] = Math.max(10, Math.min(widths[5]!, width - widths.slice(0, 5).reduce((a, b) => a + b + 2, 0)));
  const line = (cells: string[], status?: CheckResult['status']) =>
    cells
      .map((c, i) => {
        const cell =
          i === 5 && c.length > widths[5]! ? `${c.slice(0, widths[5]! - 1)}…` : c.padEnd(widths[i]!);
        return i === 2 && status ? paint(cell, status) : cell;
      })
      .join('  ')
      .trimEnd();
  const out = [line(head), ...rows.map((r, i) => line(r, report.results[i]!.status))];
  out.push(
    '',
    `${report.ok ? 'verified' : 'NOT verified'}: ${report.passed} passed, ${report.failed} failed, ${report.skipped} skipped in ${formatDuration(report.durationMs)} (target ${report.target}${report.namespace ? `, namespace ${report.namespace}` : ''})`,
  );
  return `${out.join('\n')}\n`;
}
