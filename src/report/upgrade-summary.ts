/**
 * Upgrade results (pure): a console table and the job-summary section — old → new per component,
 * the strategy, what happened, time-to-ready, the verify result (of the new version, and after a
 * rollback or switch), and what remains on the cluster when it did not end cleanly.
 */

import { type ComponentChange, planLines } from '../upgrade/diff.ts';
import type { ComponentUpgrade } from '../upgrade/outcome.ts';
import { formatDuration } from '../util/duration.ts';
import type { VerifyReport } from './results.ts';

const ICON: Record<ComponentUpgrade['state'], string> = {
  upgraded: '✅',
  switched: '✅',
  finished: '✅',
  'rolled-back': '↩️',
  'switched-back': '↩️',
  'rollback-failed': '❌',
  failed: '❌',
  skipped: '⏭️',
};

const images = (u: ComponentUpgrade): string =>
  u.images.map((i) => `${i.container}: ${i.from ?? '(new)'} → ${i.to}`).join('; ') || '-';

export const verifyText = (r: VerifyReport | undefined): string =>
  r
    ? `${r.ok ? 'pass' : 'fail'} (${r.passed} passed, ${r.failed} failed${r.skipped ? `, ${r.skipped} skipped` : ''})`
    : '-';

export function upgradeTable(components: readonly ComponentUpgrade[]): string {
  const rows = components.map((u) => [
    u.component,
    u.strategy,
    u.state,
    u.timeToReadyMs !== undefined ? formatDuration(u.timeToReadyMs) : '-',
    verifyText(u.verify),
    verifyText(u.after),
    images(u),
  ]);
  const head = ['component', 'strategy', 'state', 'ready in', 'verify', 'after', 'images'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  const details = components.flatMap((u) => [
    ...u.reasons.map((r) => `${u.component}: ${r}`),
    ...u.notes.map((n) => `${u.component}: ${n}`),
    ...u.remaining.map((r) => `${u.component}: remains ${r}`),
  ]);
  return [line(head), ...rows.map(line), ...(details.length ? ['', ...details] : [])].join('\n');
}

const md = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function upgradeSummary(
  changes: readonly ComponentChange[],
  components: readonly ComponentUpgrade[],
  opts: { dryRun?: boolean } = {},
): string {
  const lines = [`## kindling upgrade${opts.dryRun ? ' (dry run: the plan only)' : ''}`, ''];
  if (opts.dryRun || !components.length) {
    lines.push('```', ...planLines(changes), '```', '');
    return lines.join('\n');
  }
  lines.push(
    '| | component | strategy | old → new | state | time to ready | verify | after rollback / switch |',
    '|---|---|---|---|---|---|---|---|',
  );
  for (const u of components)
    lines.push(
      `| ${ICON[u.state]} | ${md(u.component)} | ${u.strategy} | ${md(images(u))} | ${u.state} | ${
        u.timeToReadyMs !== undefined ? formatDuration(u.timeToReadyMs) : '-'
      } | ${verifyText(u.verify)} | ${verifyText(u.after)} |`,
    );
  const details = components.filter((u) => u.reasons.length || u.notes.length || u.remaining.length);
  if (details.length) {
    lines.push('');
    for (const u of details) {
      lines.push(`### ${md(u.component)}`, '');
      for (const r of u.reasons) lines.push(`- ${md(r)}`);
      for (const n of u.notes) lines.push(`- ${md(n)}`);
      for (const r of u.remaining) lines.push(`- remains: ${md(r)}`);
      lines.push('');
    }
  }
  return lines.join('\n');
}
