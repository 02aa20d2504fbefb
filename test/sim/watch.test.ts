/**
 * The API stand-in's watch deadlines and bookmarks (test/standins/kube-api.ts watch()), and
 * kindling's informer (src/kube/informer.ts) living through them: a watch the server ends at its
 * randomized min-request-timeout is re-opened from the last resourceVersion, a BOOKMARK moves that
 * version past events of other kinds, and no event is missed.
 */
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { KubeClient } from '../../src/kube/client.ts';
import { ObjectCache } from '../../src/kube/informer.ts';
import { KubeApiStandin, watchTimeoutMs } from '../standins/kube-api.ts';

const NS = 'voiceassistant-infra';
let api: KubeApiStandin | undefined;
afterEach(async () => {
  await api?.stop();
  api = undefined;
});

async function standin(opts: ConstructorParameters<typeof KubeApiStandin>[0]) {
  api = await new KubeApiStandin(opts).start();
  api.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  return api;
}

/** One raw watch request: its lines and how long the server kept it open. */
function rawWatch(a: KubeApiStandin, query: string): Promise<{ lines: string[]; ms: number; code: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const req = request(
      `${a.url}/api/v1/namespaces/${NS}/configmaps?watch=true&${query}`,
      { headers: { authorization: 'Bearer standin-token' }, timeout: 10_000 },
      (res) => {
        let body = '';
        res.on('data', (c) => {
          body += c;
        });
        res.on('end', () =>
          resolve({
            lines: body.split('\n').filter(Boolean),
            ms: Date.now() - started,
            code: res.statusCode ?? 0,
          }),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error('watch not ended by the server within 10 s')));
    req.on('error', reject);
    req.end();
  });
}

const cm = (name: string, v: string) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: NS },
  data: { v },
});

describe('API stand-in watch deadlines (apiserver endpoints/handlers/get.go ListResource)', () => {
  it('timeoutSeconds is the deadline; without it, a random time in [min-request-timeout, 2·min)', () => {
    expect(watchTimeoutMs(new URLSearchParams('timeoutSeconds=7'), 1000)).toBe(7000);
    expect(watchTimeoutMs(new URLSearchParams(''), 1000, () => 0)).toBe(1000);
    expect(watchTimeoutMs(new URLSearchParams(''), 1000, () => 0.999)).toBeCloseTo(1999);
  });

  it('the server ends a watch cleanly at timeoutSeconds=1, and a watch without it after min-request-timeout', async () => {
    const a = await standin({ minRequestTimeoutMs: 300 });
    const timed = await rawWatch(a, 'timeoutSeconds=1');
    expect(timed.code).toBe(200);
    expect(timed.ms).toBeGreaterThanOrEqual(950);
    expect(timed.ms).toBeLessThan(1600);
    const defaulted = await rawWatch(a, '');
    expect(defaulted.ms).toBeGreaterThanOrEqual(280);
    expect(defaulted.ms).toBeLessThan(900);
  });
});

describe('API stand-in watch bookmarks (apiserver storage/cacher/cache_watcher.go nextBookmarkTime)', () => {
  it('allowWatchBookmarks=true gets periodic BOOKMARKs with only the current resourceVersion; without it, none', async () => {
    const a = await standin({ bookmarkEveryMs: 100 });
    a.put(cm('one', '1'));
    // a Secret advances the resourceVersion without any ConfigMap event
    a.put({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: NS } });
    const current = a.get('v1', 'Secret', NS, 's')!.metadata.resourceVersion;
    const withMarks = await rawWatch(a, 'allowWatchBookmarks=true&timeoutSeconds=1');
    const events = withMarks.lines.map((l) => JSON.parse(l));
    const marks = events.filter((e) => e.type === 'BOOKMARK');
    expect(marks.length).toBeGreaterThanOrEqual(5);
    expect(marks[0].object).toEqual({
      kind: 'ConfigMap',
      apiVersion: 'v1',
      metadata: { resourceVersion: current },
    });
    expect(events.filter((e) => e.type === 'ADDED').map((e) => e.object.metadata.name)).toEqual(['one']);
    const without = await rawWatch(a, 'timeoutSeconds=1');
    expect(without.lines.map((l) => JSON.parse(l).type)).toEqual(['ADDED']);
  });

  it('sendInitialEvents=true: the current objects, then a bookmark annotated k8s.io/initial-events-end; 422 without bookmarks', async () => {
    const a = await standin({});
    a.put(cm('one', '1'));
    a.put(cm('one', '2')); // the state, not the history: one ADDED
    const w = await rawWatch(
      a,
      'allowWatchBookmarks=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&timeoutSeconds=1',
    );
    const events = w.lines.map((l) => JSON.parse(l));
    expect(events.map((e) => e.type)).toEqual(['ADDED', 'BOOKMARK']);
    expect(events[0].object.data).toEqual({ v: '2' });
    expect(events[1].object.metadata.annotations).toEqual({ 'k8s.io/initial-events-end': 'true' });
    const bad = await rawWatch(a, 'sendInitialEvents=true&timeoutSeconds=1');
    expect(bad.code).toBe(422);
    expect(JSON.parse(bad.lines.join('')).reason).toBe('Invalid');
  });
});

describe("kindling's informer on the API stand-in's watch deadlines and bookmarks", () => {
  it('re-watches from the last resourceVersion (a bookmark’s when newer) after each server timeout, missing no event', async () => {
    const a = await standin({ minRequestTimeoutMs: 250, bookmarkEveryMs: 60 });
    const client = new KubeClient(a.kubeConfig());
    const cache = new ObjectCache(client, 'v1', 'ConfigMap', NS, { pollIntervalMs: 60_000 });
    const cmVersions = new Set<number>();
    a.listeners.add((_t, o) => {
      if (o.kind === 'ConfigMap') cmVersions.add(Number(o.metadata.resourceVersion));
    });
    await cache.start();
    const writes = 40;
    const secret = (n: string) =>
      a.put({ apiVersion: 'v1', kind: 'Secret', metadata: { name: n, namespace: NS } });
    const pause = () => new Promise((r) => setTimeout(r, 40));
    try {
      for (let i = 0; i < writes; i++) {
        a.put(cm(`cm-${i % 4}`, String(i)));
        secret(`s-${i}`);
        await pause();
        // halfway, 800 ms of other kinds only (longer than any deadline, 250–500 ms): the watch is
        // closed in that window, and only bookmarks can have told it the resourceVersion moved on
        if (i === writes / 2) for (let j = 0; j < 20; j++, await pause()) secret(`quiet-${j}`);
      }
      await expect.poll(() => cache.items.get('cm-3')?.data?.v, { timeout: 5000 }).toBe(String(writes - 1));
    } finally {
      await cache.stop();
    }
    const watches = a.requests.filter((r) => r.query.get('watch') === 'true');
    // 40 × 40 ms against deadlines of 250–500 ms: several server-side closes, each re-watched
    expect(watches.length).toBeGreaterThanOrEqual(4);
    const versions = watches.map((r) => Number(r.query.get('resourceVersion')));
    for (let i = 1; i < versions.length; i++) expect(versions[i]).toBeGreaterThanOrEqual(versions[i - 1]!);
    // at least one re-watch started from a version no ConfigMap event carried: a bookmark's
    expect(versions.slice(1).some((v) => !cmVersions.has(v))).toBe(true);
    expect(watches.every((r) => r.query.get('allowWatchBookmarks') === 'true')).toBe(true);
    // never re-listed (no 410, no fallback), and every one of the 40 changes arrived as an event
    expect(cache.stats.lists).toBe(1);
    expect(cache.stats.expired).toBe(0);
    expect(cache.stats.events).toBe(writes);
    for (let k = 0; k < 4; k++) expect(cache.items.get(`cm-${k}`)?.data?.v).toBe(String(writes - 4 + k));
  }, 20_000);
});
