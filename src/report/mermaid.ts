/** A Mermaid flowchart of components and their dependencies, each node coloured by its state. */
export type NodeState = 'pass' | 'fail' | 'pending' | 'skipped';

const STYLE: Record<NodeState, string> = {
  pass: 'fill:#2da44e,color:#fff,stroke:#1a7f37',
  fail: 'fill:#cf222e,color:#fff,stroke:#a40e26',
  pending: 'fill:#bf8700,color:#fff,stroke:#9a6700',
  skipped: 'fill:#eaeef2,color:#57606a,stroke:#afb8c1',
};

export interface GraphNode {
  name: string;
  dependsOn: readonly string[];
  state: NodeState;
  /** Extra text under the name, e.g. `12.3s` or `2/3 checks`. */
  note?: string;
}

export function stackGraph(nodes: readonly GraphNode[]): string {
  const id = (n: string) => n.replace(/[^A-Za-z0-9_]/g, '_');
  const names = new Set(nodes.map((n) => n.name));
  const lines = ['```mermaid', 'flowchart LR'];
  for (const n of nodes) {
    const label = n.note ? `${n.name}<br/><small>${escapeLabel(n.note)}</small>` : n.name;
    lines.push(`  ${id(n.name)}["${escapeLabel(label)}"]:::${n.state}`);
  }
  for (const n of nodes)
    for (const d of n.dependsOn) if (names.has(d)) lines.push(`  ${id(d)} --> ${id(n.name)}`);
  for (const [state, style] of Object.entries(STYLE)) lines.push(`  classDef ${state} ${style}`);
  lines.push('```');
  return lines.join('\n');
}

function escapeLabel(s: string): string {
  return s.replace(/"/g, '#quot;');
}
