/** The short summary of an e2e run: steps, components ready, time-to-ready, checks, artifacts. */
import type { PipelineResult } from './pipeline.ts';

export function summarize(r: PipelineResult): string {
  const lines = ['kindling e2e on the simulated cluster (test/sim) — stand-in cluster, real action entries'];
  lines.push(
    `entries: ${Object.entries(r.entries)
      .map(([a, k]) => `${a}=${k}`)
      .join(' ')}`,
  );
  for (const s of r.steps)
    lines.push(
      `  ${s.ok ? '✓' : '✗'} ${s.name.padEnd(8)} ${(s.ms / 1000).toFixed(1).padStart(6)} s  ${s.detail.split('\n')[0]!.slice(0, 160)}`,
    );
  if (r.components.length)
    lines.push(`components ready: ${r.components.length} (${r.components.join(', ')})`);
  const ttr = r.deploy?.outputs['time-to-ready'];
  if (ttr) {
    try {
      const t = JSON.parse(ttr) as Record<string, unknown>;
      lines.push(
        `time-to-ready: ${Object.entries(t)
          .map(([c, v]) => `${c} ${typeof v === 'number' ? `${(v / 1000).toFixed(1)}s` : String(v)}`)
          .join(', ')}`,
      );
    } catch {
      lines.push(`time-to-ready: ${ttr}`);
    }
  }
  if (r.verify)
    lines.push(
      `checks: ${r.verify.outputs.passed ?? '?'} passed, ${r.verify.outputs.failed ?? '?'} failed, ${r.verify.outputs.skipped ?? '?'} skipped`,
    );
  if (r.backup) {
    // the drill's own count ("12/12 artifact(s) match the manifest"), not a count of its output lines
    const artifacts = /(\d+)\/\d+ artifact\(s\) match the manifest/.exec(
      `${r.drill?.stdout}\n${r.drill?.stderr}`,
    )?.[1];
    lines.push(
      `backup: ${r.backup.outputs['backup-id'] ?? '-'}, ${bytesOf(r.backup.outputs.bytes)}${artifacts ? `, ${artifacts} artifacts re-hashed` : ''}`,
    );
  }
  lines.push(`result: ${r.ok ? 'PASSED' : 'FAILED'}; diagnostics: ${r.diagnosticsDir}`);
  return lines.join('\n');
}

/** `{"postgres":4191,...}` → `5.6 KiB (postgres 4191 B, ...)`; anything else as given. */
function bytesOf(json: string | undefined): string {
  try {
    const per = JSON.parse(json ?? '') as Record<string, number>;
    const total = Object.values(per).reduce((n, b) => n + b, 0);
    return `${(total / 1024).toFixed(1)} KiB (${Object.entries(per)
      .map(([c, b]) => `${c} ${b} B`)
      .join(', ')})`;
  } catch {
    return `${json ?? '?'} bytes`;
  }
}
