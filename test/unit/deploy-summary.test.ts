import { describe, expect, it } from 'vitest';
import type { ComponentResult } from '../../src/kube/deploy.ts';
import { deploySummary, deployTable, timeToReady } from '../../src/report/deploy-summary.ts';

const result = (
  name: string,
  state: ComponentResult['state'],
  extra: Partial<ComponentResult> = {},
): ComponentResult => ({
  name,
  dependsOn: [],
  state,
  elapsedMs: 0,
  reasons: [],
  notes: [],
  ...extra,
});

const components = [
  result('etcd', 'ready', { elapsedMs: 12_300, readyAtMs: 12_400 }),
  result('minio', 'failed', {
    elapsedMs: 1_800,
    reasons: ['pod minio-0 container minio: ImagePullBackOff | bad tag'],
  }),
  result('milvus', 'skipped', { dependsOn: ['etcd', 'minio'], notes: ['dependency minio failed'] }),
];

describe('deploy reports', () => {
  it('time-to-ready lists only the components that became ready, in ms from the start', () => {
    expect(timeToReady(components)).toEqual({ etcd: 12_400 });
  });

  it('the console table shows each state, the time to ready and why', () => {
    const t = deployTable(components).split('\n');
    expect(t[0]).toMatch(/^component\s+state\s+ready in\s+detail$/);
    expect(t[1]).toMatch(/^etcd\s+ready\s+12\.3s\s+-$/);
    expect(t[2]).toContain('ImagePullBackOff');
    expect(t[3]).toMatch(/^milvus\s+skipped\s+-\s+dependency minio failed$/);
  });

  it('the job summary has a Markdown table (pipes escaped) and a Mermaid graph coloured by state', () => {
    const s = deploySummary(components, { cluster: 'kind', sizing: 'kind' });
    expect(s).toContain('**cluster** `kind` · **sizing** `kind`');
    expect(s).toContain('| etcd | ✅ ready | 12.3s |');
    expect(s).toContain('ImagePullBackOff \\| bad tag'); // a raw | would break the table
    expect(s).toContain('```mermaid');
    expect(s).toMatch(/etcd\[".*"\]:::pass/);
    expect(s).toMatch(/minio\[".*"\]:::fail/);
    expect(s).toMatch(/milvus\[".*"\]:::skipped/);
    expect(s).toContain('etcd --> milvus');
    expect(s).toContain('minio --> milvus');
  });
});
