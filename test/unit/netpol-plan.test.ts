/** `kindling plan` prints the reachability the rendered NetworkPolicies give the selected components. */
import { expect, it } from 'vitest';
import { runCli } from '../harness/cli.ts';
import { describeWithKubectl } from './validate-helpers.ts';

describeWithKubectl('kindling plan: the network matrix (real kubectl kustomize)', () => {
  it('text: one line per selected destination, its sources and ports', async () => {
    const r = await runCli(['plan', '--profile', 'minimal']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(
      /network reachability \(\d+ NetworkPolicies evaluated on the rendered pods; egress incl\. DNS open\):/,
    );
    expect(r.out).toMatch(/^ {2}nacos-mysql +← nacos :3306; nacos-mysql \(all ports\)$/m);
    expect(r.out).toMatch(/^ {2}etcd +← etcd \(all ports\); milvus :2379; prometheus :2379$/m);
    // not selected: no line for it
    expect(r.out).not.toMatch(/^ {2}kafka +←/m);
    expect(r.out).not.toContain('violation:');
  });

  it('json: the cells and no violations', async () => {
    const r = await runCli(['plan', '--components', 'kafka-ui', '--json']);
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out) as {
      network: { cells: { from: string; to: string; ports: string[] }[]; violations: string[] };
    };
    expect(j.network.violations).toEqual([]);
    expect(j.network.cells).toContainEqual({ from: 'kafka-ui', to: 'kafka', ports: ['9092'] });
    expect(j.network.cells.every((c) => c.to === 'kafka' || c.to === 'kafka-ui')).toBe(true);
  });
});
