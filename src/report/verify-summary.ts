import { formatDuration } from '../util/duration.ts';
import { redact } from '../util/redact.ts';
import { type GraphNode, stackGraph } from './mermaid.ts';
import type { CheckResult, VerifyReport } from './results.ts';
import { detail } from './verify-console.ts';

const ICON = { pass: '✅', fail: '❌', skip: '⏭️' } as const;

/** The job summary of a verify run: totals, a Mermaid graph coloured by result, the table (pure). */
export function verifySummary(report: VerifyReport): string {
  const nodes: GraphNode[] = report.components.map((c) => ({
    name: c.name,
    dependsOn: c.dependsOn,
    state: c.status === 'pass' ? 'pass' : c.status === 'fail' ? 'fail' : 'skipped',
    note: `${c.passed}/${c.passed + c.failed} checks${c.skipped ? `, ${c.skipped} skipped` : ''}`,
  }));
  const lines = [
    `## ${report.ok ? '✅ Stack verified' : '❌ Stack not verified'}`,
    '',
    `**${report.passed} passed, ${report.failed} failed, ${report.skipped} skipped** in ${formatDuration(report.durationMs)} — target \`${report.target}\`${report.namespace ? `, namespace \`${report.namespace}\`` : ''}`,
    '',
    stackGraph(nodes),
    '',
    '| | component | check | tries | time | detail |',
    '|---|---|---|---:|---:|---|',
    ...report.results.map(row),
    '',
    ...metricsTable(report.results),
  ];
  return redact(lines.join('\n'));
}

/**
 * The seed's metrics as the run read them from Prometheus: one row per `metrics` check, with its
 * current value(s); nothing when the run had none (pure).
 */
export function metricsTable(results: readonly CheckResult[]): string[] {
  const rows = results.filter((r) => r.type === 'metrics');
  if (rows.length === 0) return [];
  const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\s+/g, ' ');
  const value = (r: CheckResult) => {
    if (r.status === 'skip') return 'not checked';
    const seen = r.status === 'pass' ? r.actual : r.message;
    return (seen ?? '').replace(/^\d+ series: /, '').replace(/^no series$/, 'no series yet');
  };
  return [
    '### Seed metrics',
    '',
    '| | component | metric | current value |',
    '|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${ICON[r.status]} | ${cell(r.component)} | ${cell(r.check.replace(/^metric-/, ''))} | ${cell(value(r)).slice(0, 200)} |`,
    ),
    '',
  ];
}

function row(r: CheckResult): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\s+/g, ' ');
  return `| ${ICON[r.status]} | ${cell(r.component)} | ${cell(r.check)} | ${r.attempts} | ${r.status === 'skip' ? '' : formatDuration(r.durationMs)} | ${cell(detail(r)).slice(0, 400)} |`;
}

export interface Annotation {
  level: 'error' | 'warning' | 'notice';
  title: string;
  message: string;
}

/**
 * Annotations for a run, at most `max` per level (GitHub shows 10 per level per step): past the
 * limit the last one aggregates the rest, so nothing is silently dropped. Failures are errors;
 * checks that needed retries are notices.
 */
export function verifyAnnotations(report: VerifyReport, max = 10): Annotation[] {
  const failed = report.results.filter((r) => r.status === 'fail');
  const slow = report.results.filter((r) => r.status === 'pass' && r.attempts > 1);
  const errors = cap(
    failed.map((r) => ({
      level: 'error' as const,
      title: `${r.component}/${r.check} failed`,
      message: redact(detail(r)),
    })),
    max,
    (rest) => ({
      level: 'error',
      title: `${rest.length} more checks failed`,
      message: rest.map((a) => `${a.title.replace(/ failed$/, '')}: ${a.message}`).join('\n'),
    }),
  );
  const notices = cap(
    slow.map((r) => ({
      level: 'notice' as const,
      title: `${r.component}/${r.check} became ready after ${r.attempts} attempts`,
      message: `passed after ${formatDuration(r.durationMs)}`,
    })),
    max,
    (rest) => ({
      level: 'notice',
      title: `${rest.length} more checks needed retries`,
      message: rest.map((a) => a.title).join('\n'),
    }),
  );
  return [...errors, ...notices];
}

function cap(list: Annotation[], max: number, aggregate: (rest: Annotation[]) => Annotation): Annotation[] {
  if (list.length <= max) return list;
  return [...list.slice(0, max - 1), aggregate(list.slice(max - 1))];
}
