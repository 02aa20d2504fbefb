import { formatDuration } from '../util/duration.ts';
import type { DrillOutcome } from './drill.ts';
import { formatBytes } from './format.ts';
import type { StoredBackup } from './inventory.ts';
import type { BackupOutcome } from './outcome.ts';
import type { RestoreOutcome } from './restore.ts';
import type { PrunePlan } from './retention.ts';
import type { RehashResult } from './verify.ts';

/** The command that restores this backup's component, to copy from a report. */
export function restoreCommand(store: string, id: string, component: string, s3Endpoint?: string): string {
  return `kindling restore --backup ${id} --components ${component} --store ${store}${s3Endpoint ? ` --s3-endpoint ${s3Endpoint}` : ''}`;
}

export function componentBytes(outcome: BackupOutcome): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of outcome.components)
    if (c.record)
      out[c.component] = (out[c.component] ?? 0) + c.record.artifacts.reduce((n, a) => n + a.bytes, 0);
  return out;
}

export function backupText(o: BackupOutcome): string {
  const lines = o.components.map((c) => {
    if (!c.ok)
      return `  ✗ ${c.component}/${c.backup} (${c.type}) failed after ${formatDuration(c.durationMs)}: ${c.error}`;
    const arts = c.record!.artifacts;
    const bytes = arts.reduce((n, a) => n + a.bytes, 0);
    return `  ✓ ${c.component}/${c.backup} (${c.type}): ${arts.length} artifact(s), ${formatBytes(bytes)} in ${formatDuration(c.durationMs)}`;
  });
  const head = o.ok
    ? `backup ${o.id} complete in ${formatDuration(o.durationMs)}: ${o.manifestUri}`
    : `backup ${o.id} FAILED (${o.components.filter((c) => !c.ok).length} of ${o.components.length} component(s)); no manifest written, so this is not a backup — prune removes its objects after the grace period`;
  return [head, ...lines].join('\n');
}

/** Markdown for the job summary: one row per component with bytes, sha256, duration and the restore command. */
export function backupMarkdown(o: BackupOutcome, store: string, s3Endpoint?: string): string {
  const rows = o.components.map((c) => {
    if (!c.ok)
      return `| ❌ ${c.component} | ${c.type} | – | – | ${formatDuration(c.durationMs)} | ${c.error?.replace(/\|/g, '\\|').replace(/\n/g, ' ')} |`;
    const arts = c.record!.artifacts;
    const bytes = arts.reduce((n, a) => n + a.bytes, 0);
    const shas = arts.map((a) => `\`${a.name}\` \`${a.sha256.slice(0, 16)}…\``).join('<br>');
    return `| ✅ ${c.component} | ${c.type} | ${formatBytes(bytes)} | ${shas} | ${formatDuration(c.durationMs)} | \`${restoreCommand(store, o.id, c.component, s3Endpoint)}\` |`;
  });
  return [
    `### Backup \`${o.id}\` ${o.ok ? 'complete' : 'FAILED — no manifest written'}`,
    '',
    o.manifestUri
      ? `Manifest: \`${o.manifestUri}\` · ${formatDuration(o.durationMs)}`
      : `Duration: ${formatDuration(o.durationMs)}`,
    '',
    '| component | type | bytes | sha256 | duration | restore / error |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

export function restoreText(o: RestoreOutcome): string {
  return [
    `restore of ${o.id} ${o.ok ? 'done' : 'FAILED'} in ${formatDuration(o.durationMs)}`,
    ...o.components.map(
      (c) =>
        `  ${c.ok ? '✓' : '✗'} ${c.component}/${c.backup} ${formatDuration(c.durationMs)}${c.error ? `: ${c.error}` : ''}${c.notes.map((n) => `\n      note: ${n}`).join('')}`,
    ),
  ].join('\n');
}

export function verifyText(id: string, results: readonly RehashResult[]): string {
  const bad = results.filter((r) => !r.ok);
  return [
    `backup ${id}: ${results.length - bad.length}/${results.length} artifact(s) match the manifest`,
    ...results.map(
      (r) =>
        `  ${r.ok ? '✓' : '✗'} ${r.component}/${r.artifact}${r.ok ? ` ${formatBytes(r.bytes ?? 0)}` : `: ${r.problem}`}`,
    ),
  ].join('\n');
}

export function drillText(d: DrillOutcome): string {
  return [
    `restore drill ${d.ok ? 'passed' : 'FAILED'}: time to restore ${formatDuration(d.restoreMs)}`,
    ...d.components.map(
      (c) =>
        `  ${c.ok ? '✓' : '✗'} ${c.component}: ${c.error ?? `${c.compared} fact(s) compared, ${c.differences.length} difference(s)`}${c.differences.map((x) => `\n      ${x}`).join('')}`,
    ),
  ].join('\n');
}

export function listText(backups: readonly StoredBackup[], now: Date, graceMs: number): string {
  if (backups.length === 0) return 'no backups in the store';
  const rows = backups.map((b) => {
    const state = b.manifest
      ? 'complete'
      : now.getTime() - b.lastWrite.getTime() < graceMs
        ? 'in progress'
        : 'incomplete (orphan)';
    const comps = b.manifest ? b.manifest.components.map((c) => c.component).join(',') : '-';
    return [
      b.id,
      formatDuration(Math.max(0, now.getTime() - b.time.getTime())),
      comps,
      formatBytes(b.bytes),
      state,
    ];
  });
  const header = ['ID', 'AGE', 'COMPONENTS', 'BYTES', 'STATE'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows]
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function pruneText(plan: PrunePlan, dryRun: boolean): string {
  const verb = dryRun ? 'would delete' : 'deleted';
  return [
    `prune${dryRun ? ' (dry run)' : ''}: keep ${plan.keep.length}, ${verb} ${plan.remove.length}, in progress ${plan.inProgress.length}`,
    ...plan.keep.map((k) => `  keep    ${k.id}  (${k.reasons.join('; ')})`),
    ...plan.remove.map((r) => `  ${dryRun ? 'delete?' : 'deleted'} ${r.id}  (${r.reason})`),
    ...plan.inProgress.map(
      (p) => `  skip    ${p.id}  (no manifest yet, within the grace period: may be running)`,
    ),
  ].join('\n');
}
