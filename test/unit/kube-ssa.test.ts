// Server-side apply in the API stand-in (test/standins/kube-ssa.ts), over the wire: ownership per
// manager, merge, removal, 409 conflicts as kubernetes/kubernetes
// staging/src/k8s.io/apimachinery/pkg/util/managedfields/internal/conflict.go words them, and
// docs kubernetes.io/docs/reference/using-api/server-side-apply/ (conflicts, force, shared ownership).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeApiStandin } from '../standins/kube-api.ts';
import { fieldsOf, fromFieldsV1, toFieldsV1 } from '../standins/kube-ssa.ts';

const auth = { authorization: 'Bearer standin-token' };

describe('API stand-in: server-side apply field ownership (kube-ssa.ts)', () => {
  const api = new KubeApiStandin();
  beforeAll(async () => {
    await api.start();
    api.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo' } });
  });
  afterAll(() => api.stop());

  const apply = async (path: string, body: unknown, manager: string, force = false) => {
    const res = await fetch(`${api.url}${path}?fieldManager=${manager}${force ? '&force=true' : ''}`, {
      method: 'PATCH',
      headers: { ...auth, 'content-type': 'application/apply-patch+yaml' },
      body: JSON.stringify(body),
    });
    // biome-ignore lint/suspicious/noExplicitAny: API objects are open JSON
    return { status: res.status, body: (await res.json()) as any };
  };
  const secret = (data: Record<string, string>) => ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 's', namespace: 'demo' },
    data,
  });
  const S = '/api/v1/namespaces/demo/secrets/s';

  it('keeps the keys another manager applied, removes the ones the applier dropped, and records both managers', async () => {
    expect((await apply(S, secret({ a: 'QQ==', b: 'Qg==' }), 'kindling')).status).toBe(201);
    expect((await apply(S, secret({ extra: 'WA==' }), 'operator')).status).toBe(200);
    // kindling applies only `a` now: its `b` goes, operator's `extra` stays
    const r = await apply(S, secret({ a: 'QTI=' }), 'kindling');
    expect(r.status).toBe(200);
    expect(r.body.data).toEqual({ a: 'QTI=', extra: 'WA==' });
    const managers = r.body.metadata.managedFields.map((m: { manager: string }) => m.manager).sort();
    expect(managers).toEqual(['kindling', 'operator']);
    const op = r.body.metadata.managedFields.find((m: { manager: string }) => m.manager === 'operator');
    expect(op).toMatchObject({
      operation: 'Apply',
      fieldsType: 'FieldsV1',
      fieldsV1: { 'f:data': { 'f:extra': {} } },
    });
  });

  it('409 Conflict naming the manager and the field when another manager owns a value that differs; force takes it over', async () => {
    const c = await apply(S, secret({ extra: 'Wg==' }), 'kindling');
    expect(c.status).toBe(409);
    expect(c.body).toMatchObject({
      kind: 'Status',
      code: 409,
      reason: 'Conflict',
      message: 'Apply failed with 1 conflict: conflict with "operator": .data.extra',
      details: {
        causes: [
          { reason: 'FieldManagerConflict', message: 'conflict with "operator"', field: '.data.extra' },
        ],
      },
    });
    // nothing changed
    expect(api.get('v1', 'Secret', 'demo', 's')?.data.extra).toBe('WA==');
    // the same value is shared ownership, not a conflict
    expect((await apply(S, secret({ a: 'QTI=', extra: 'WA==' }), 'kindling')).status).toBe(200);
    const f = await apply(S, secret({ a: 'QTI=', extra: 'Wg==' }), 'kindling', true);
    expect(f.status).toBe(200);
    expect(f.body.data.extra).toBe('Wg==');
    // operator owned only `extra`, which force moved to kindling: its entry is gone
    expect(f.body.metadata.managedFields.map((m: { manager: string }) => m.manager)).toEqual(['kindling']);
  });

  it('merges containers and env by name, so one manager changing one env var leaves the rest', async () => {
    const D = '/apis/apps/v1/namespaces/demo/deployments/d';
    const deploy = (containers: unknown[], annotations?: Record<string, string>) => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'd', namespace: 'demo' },
      spec: { template: { metadata: annotations ? { annotations } : {}, spec: { containers } } },
    });
    await apply(
      D,
      deploy([
        {
          name: 'app',
          image: 'a:1',
          env: [
            { name: 'A', value: '1' },
            { name: 'B', value: '2' },
          ],
        },
        { name: 'side', image: 's:1', args: ['x', 'y'] },
      ]),
      'kindling',
    );
    const r = await apply(
      D,
      deploy([{ name: 'app', env: [{ name: 'B', value: '3' }] }], {
        'kubectl.kubernetes.io/restartedAt': 't',
      }),
      'other',
    );
    expect(r.status).toBe(409);
    expect(r.body.message).toBe(
      'Apply failed with 1 conflict: conflict with "kindling": .spec.template.spec.containers[name="app"].env[name="B"].value',
    );
    const ok = await apply(
      D,
      deploy([{ name: 'app', env: [{ name: 'C', value: '9' }] }], {
        'kubectl.kubernetes.io/restartedAt': 't',
      }),
      'other',
    );
    expect(ok.status).toBe(200);
    const spec = ok.body.spec.template.spec;
    expect(spec.containers.map((c: { name: string }) => c.name)).toEqual(['app', 'side']);
    expect(spec.containers[0].env).toEqual([
      { name: 'A', value: '1' },
      { name: 'B', value: '2' },
      { name: 'C', value: '9' },
    ]);
    expect(spec.containers[1].args).toEqual(['x', 'y']);
    expect(ok.body.spec.template.metadata.annotations).toEqual({ 'kubectl.kubernetes.io/restartedAt': 't' });
    // an atomic list is replaced whole, and two managers disagreeing on it conflict
    const atomic = await apply(D, deploy([{ name: 'side', args: ['z'] }]), 'other');
    expect(atomic.body.message).toMatch(
      /conflict with "kindling": \.spec\.template\.spec\.containers\[name="side"\]\.args$/,
    );
  });

  it('a keyed item the applier no longer applies is removed with its fields, unless another manager owns part of it', async () => {
    const D = '/apis/apps/v1/namespaces/demo/deployments/r';
    const deploy = (containers: unknown[]) => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'r', namespace: 'demo' },
      spec: { template: { spec: { containers } } },
    });
    await apply(
      D,
      deploy([
        { name: 'a', image: 'a:1' },
        { name: 'b', image: 'b:1' },
        { name: 'c', image: 'c:1' },
      ]),
      'kindling',
    );
    // another manager sets an env var in c: c stays when kindling drops it, with only what the other owns
    await apply(D, deploy([{ name: 'c', env: [{ name: 'X', value: '1' }] }]), 'other');
    const r = await apply(D, deploy([{ name: 'a', image: 'a:1' }]), 'kindling');
    expect(r.status).toBe(200);
    expect(r.body.spec.template.spec.containers).toEqual([
      { name: 'a', image: 'a:1' },
      { name: 'c', env: [{ name: 'X', value: '1' }] },
    ]);
  });

  it('a probe switched from tcpSocket back to httpGet by the same manager has no empty tcpSocket left (a map emptied by removals goes too)', async () => {
    const D = '/apis/apps/v1/namespaces/demo/deployments/p';
    const deploy = (readinessProbe: unknown) => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'p', namespace: 'demo' },
      spec: { template: { spec: { containers: [{ name: 'a', image: 'a:1', readinessProbe }] } } },
    });
    await apply(D, deploy({ tcpSocket: { port: 'peer' } }), 'kindling');
    const r = await apply(D, deploy({ httpGet: { path: '/health', port: 'client' } }), 'kindling');
    expect(r.body.spec.template.spec.containers[0].readinessProbe).toEqual({
      httpGet: { path: '/health', port: 'client' },
    });
  });

  it('FieldsV1 round-trips (f: fields, k: keyed items with their "." marker)', () => {
    const set = fieldsOf({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', labels: { app: 'x' } },
      spec: { containers: [{ name: 'c', ports: [{ containerPort: 80 }] }] },
    });
    const tree = toFieldsV1(set);
    expect(tree).toEqual({
      'f:metadata': { 'f:labels': { 'f:app': {} } },
      'f:spec': {
        'f:containers': {
          'k:{"name":"c"}': {
            '.': {},
            'f:name': {},
            'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } },
          },
        },
      },
    });
    expect([...fromFieldsV1(tree).keys()].sort()).toEqual([...set.keys()].sort());
  });
});
