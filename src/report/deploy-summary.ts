/** Deploy results as a console table, a job-summary Markdown table with a Mermaid graph, and JSON outputs. */
import type { ComponentResult } from '../kube/deploy.ts';
import { formatDuration } from '../util/duration.ts';
import { type NodeState, stackGraph } from './mermaid.ts';

const STATE: Record<ComponentResult['state'], NodeState> = {
  ready: 'pass',
  applied: 'pass',
  failed: 'fail',
  skipped: 'skipped',
};

const ICON: Record<ComponentResult['state'], string> = {
  ready: '✅',
  applied: '☑️',
  failed: '❌',
  skipped: '⏭️',
};

export function deployTable(components: readonly ComponentResult[]): string {
  const rows = components.map((c) => [
    c.name,
    c.state,
    c.state === 'ready' ? formatDuration(c.elapsedMs) : '-',
    [...c.reasons, ...c.notes].join('; ') || '-',
  ]);
  const head = ['component', 'state', 'ready in', 'detail'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 3 ? c : c.padEnd(widths[i]!))).join('  ');
  return [line(head), ...rows.map(line)].join('\n');
}

const md = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function deploySummary(
  components: readonly ComponentResult[],
  meta: Record<string, string> = {},
): string {
  const lines = ['## kindling deploy', ''];
  const metaLine = Object.entries(meta)
    .map(([k, v]) => `**${k}** \`${v}\``)
    .join(' · ');
  if (metaLine) lines.push(metaLine, '');
  lines.push('| component | state | ready in | detail |', '|---|---|---|---|');
  for (const c of components)
    lines.push(
      `| ${md(c.name)} | ${ICON[c.state]} ${c.state} | ${c.state === 'ready' ? formatDuration(c.elapsedMs) : '-'} | ${md([...c.reasons, ...c.notes].join('; ') || '')} |`,
    );
  lines.push(
    '',
    stackGraph(
      components.map((c) => ({
        name: c.name,
        dependsOn: c.dependsOn,
        state: STATE[c.state],
        ...(c.state === 'ready' ? { note: formatDuration(c.elapsedMs) } : {}),
      })),
    ),
  );
  return `${lines.join('\n')}\n`;
}

/** `{component: ms}` for every component that became ready. */
export function timeToReady(components: readonly ComponentResult[]): Record<string, number> {
  return Object.fromEntries(
    components.filter((c) => c.readyAtMs !== undefined).map((c) => [c.name, c.readyAtMs!]),
  );
}
