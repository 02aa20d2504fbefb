// The API stand-in's server-side apply of a Secret's `stringData` (test/standins/kube-ssa.ts), over
// the wire, as the API server does it: merged and owned in v1 (kubernetes/kubernetes
// staging/src/k8s.io/apimachinery/pkg/util/managedfields/internal/structuredmerge.go Apply, then the
// conversion pkg/apis/core/v1/conversion.go Convert_v1_Secret_To_core_Secret folds stringData into
// data); no conflict between `stringData.K` and `data.K` (kubernetes-sigs/structured-merge-diff
// merge/update.go compares the v1 objects: different paths); a dropped stringData key leaves its
// data key (kubernetes/kubernetes#108008).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeApiStandin } from '../standins/kube-api.ts';

const auth = { authorization: 'Bearer standin-token' };
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

describe('API stand-in: a Secret’s stringData under server-side apply (kube-ssa.ts)', () => {
  const api = new KubeApiStandin();
  beforeAll(async () => {
    await api.start();
    api.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo' } });
  });
  afterAll(() => api.stop());

  const S = '/api/v1/namespaces/demo/secrets/s';
  const apply = async (body: object, manager: string, force = false) => {
    const res = await fetch(`${api.url}${S}?fieldManager=${manager}${force ? '&force=true' : ''}`, {
      method: 'PATCH',
      headers: { ...auth, 'content-type': 'application/apply-patch+yaml' },
      body: JSON.stringify({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 's', namespace: 'demo' },
        ...body,
      }),
    });
    // biome-ignore lint/suspicious/noExplicitAny: API objects are open JSON
    return { status: res.status, body: (await res.json()) as any };
  };
  // biome-ignore lint/suspicious/noExplicitAny: API objects are open JSON
  const read = async (): Promise<any> => (await fetch(`${api.url}${S}`, { headers: auth })).json();
  // biome-ignore lint/suspicious/noExplicitAny: API objects are open JSON
  const owned = (o: any, manager: string) =>
    o.metadata.managedFields.find((m: { manager: string }) => m.manager === manager)?.fieldsV1;

  it('stringData is stored as base64 data and never read back; the applier owns f:stringData.f:K, not f:data', async () => {
    const r = await apply({ stringData: { PASSWORD: 'seed-default', USER: 'admin' } }, 'kindling', true);
    expect(r.status).toBe(201);
    expect(r.body.stringData).toBeUndefined();
    const live = await read();
    expect(live.stringData).toBeUndefined();
    expect(live.data).toEqual({ PASSWORD: b64('seed-default'), USER: b64('admin') });
    expect(owned(live, 'kindling')).toEqual({ 'f:stringData': { 'f:PASSWORD': {}, 'f:USER': {} } });
  });

  it('another manager’s data.K is overwritten by stringData.K without a conflict (different paths), even unforced; that manager still owns f:data.f:K', async () => {
    expect((await apply({ data: { PASSWORD: b64('rotated') } }, 'kindling-rotate', true)).status).toBe(200);
    expect((await read()).data.PASSWORD).toBe(b64('rotated'));
    const r = await apply({ stringData: { PASSWORD: 'seed-default', USER: 'admin' } }, 'kindling', false);
    expect(r.status).toBe(200);
    const live = await read();
    expect(live.data.PASSWORD).toBe(b64('seed-default'));
    expect(owned(live, 'kindling-rotate')).toEqual({ 'f:data': { 'f:PASSWORD': {} } });
  });

  it('a stringData key the applier stops sending prunes nothing stored: its data key stays (kubernetes/kubernetes#108008)', async () => {
    const r = await apply({ stringData: { USER: 'admin' } }, 'kindling', true);
    expect(r.status).toBe(200);
    const live = await read();
    expect(live.data).toEqual({ PASSWORD: b64('seed-default'), USER: b64('admin') });
    expect(owned(live, 'kindling')).toEqual({ 'f:stringData': { 'f:USER': {} } });
  });
});
