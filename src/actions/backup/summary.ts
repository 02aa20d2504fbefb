/** The backup action's job summary for a run, early failures included (pure). */
import type { BackupRun } from '../../app/backup.ts';
import { backupMarkdown, drillText, pruneText } from '../../backup/report.ts';
import { redact } from '../../util/redact.ts';

const block = (text: string) => `\n\`\`\`\n${text}\n\`\`\`\n`;

export function runSummary(run: BackupRun, store: string, s3Endpoint?: string): string {
  const parts = [run.outcome ? backupMarkdown(run.outcome, store, s3Endpoint) : '## ❌ Backup failed\n'];
  if (run.notApplicable.length)
    parts.push(`\nNot applicable (no backups in the catalog): ${run.notApplicable.join(', ')}\n`);
  if (run.drill)
    parts.push(`\n**Restore drill** ${run.drill.ok ? 'passed' : 'FAILED'}\n${block(drillText(run.drill))}`);
  if (run.pruned)
    parts.push(`\n<details><summary>Retention</summary>\n${block(pruneText(run.pruned, false))}</details>\n`);
  if (run.error) parts.push(block(redact(run.error.message)));
  return parts.join('');
}
