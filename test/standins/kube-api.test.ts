// The stand-in must behave like the real API server on the points kindling relies on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeApiStandin } from './kube-api.ts';

const auth = { authorization: 'Bearer standin-token' };
const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo' } };

describe('Kubernetes API stand-in (wire protocol)', () => {
  const api = new KubeApiStandin();
  beforeAll(async () => {
    await api.start();
    api.put(ns);
  });
  afterAll(() => api.stop());

  const patch = (path: string, body: unknown, query: string, contentType = 'application/apply-patch+yaml') =>
    fetch(`${api.url}${path}?${query}`, {
      method: 'PATCH',
      headers: { ...auth, 'content-type': contentType },
      body: JSON.stringify(body),
    });

  it('rejects an apply without fieldManager and a non-apply content type with Status bodies', async () => {
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'demo' } };
    const noManager = await patch('/api/v1/namespaces/demo/configmaps/c', cm, 'force=true');
    expect(noManager.status).toBe(422);
    expect(await noManager.json()).toMatchObject({
      kind: 'Status',
      code: 422,
      message: /fieldManager: Required value/,
    });
    const wrongType = await patch(
      '/api/v1/namespaces/demo/configmaps/c',
      cm,
      'fieldManager=x',
      'application/json',
    );
    expect(wrongType.status).toBe(415);
  });

  it('creates on apply (201), updates on re-apply (200), and 404s in a missing namespace', async () => {
    const cm = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'c', namespace: 'demo' },
      data: { a: '1' },
    };
    expect(
      (await patch('/api/v1/namespaces/demo/configmaps/c', cm, 'fieldManager=t&force=true')).status,
    ).toBe(201);
    expect(
      (await patch('/api/v1/namespaces/demo/configmaps/c', cm, 'fieldManager=t&force=true')).status,
    ).toBe(200);
    const missing = await patch(
      '/api/v1/namespaces/nope/configmaps/c',
      { ...cm, metadata: { name: 'c', namespace: 'nope' } },
      'fieldManager=t',
    );
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({
      reason: 'NotFound',
      message: 'namespaces "nope" not found',
    });
  });

  it('lists with a resourceVersion and streams watch events after it as newline-delimited JSON', async () => {
    const list = (await (
      await fetch(`${api.url}/api/v1/namespaces/demo/configmaps`, { headers: auth })
    ).json()) as { metadata: { resourceVersion: string } };
    expect(list).toMatchObject({ kind: 'ConfigMapList', metadata: { resourceVersion: expect.any(String) } });
    const ctl = new AbortController();
    const res = await fetch(
      `${api.url}/api/v1/namespaces/demo/configmaps?watch=true&resourceVersion=${list.metadata.resourceVersion}`,
      {
        headers: auth,
        signal: ctl.signal,
      },
    );
    const reader = res.body!.getReader();
    api.put({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'd', namespace: 'demo' } });
    const { value } = await reader.read();
    const line = JSON.parse(new TextDecoder().decode(value).trim());
    expect(line).toMatchObject({ type: 'ADDED', object: { metadata: { name: 'd' } } });
    ctl.abort();
  });

  it('answers a watch from a compacted version with 410: as an ERROR event, or as HTTP 410', async () => {
    api.compact();
    const res = await fetch(`${api.url}/api/v1/namespaces/demo/configmaps?watch=true&resourceVersion=101`, {
      headers: auth,
    });
    expect(res.status).toBe(200);
    expect(JSON.parse((await res.text()).trim())).toMatchObject({
      type: 'ERROR',
      object: { kind: 'Status', code: 410, reason: 'Expired' },
    });
    const http = new KubeApiStandin({ goneMode: 'http' });
    await http.start();
    http.put(ns);
    http.compact();
    const gone = await fetch(`${http.url}/api/v1/namespaces?watch=true&resourceVersion=50`, {
      headers: auth,
    });
    expect(gone.status).toBe(410);
    expect(await gone.json()).toMatchObject({ code: 410, reason: 'Gone' });
    await http.stop();
  });
});
