// A deploy after a rotation keeps the rotated Secret key (src/kube/secret-keep.ts), against the API
// stand-in (test/standins/kube-api.ts; server-side apply and Secret stringData as the API server
// does them, test/standins/kube-ssa.ts): the rendered redis-secret (stringData, the seed's empty
// password) applied by deploy, the key applied as data by kindling rotate's own apply
// (src/rotate/kube.ts secretKeyApply, field manager kindling-rotate), then deploy again.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadStack, resolveSelection } from '../../src/catalog/index.ts';
import { KubeClient } from '../../src/kube/client.ts';
import { deployPlan } from '../../src/kube/deploy.ts';
import { COMPONENT_LABEL } from '../../src/manifests/ownership.ts';
import { type KubeObject, renderSizing } from '../../src/manifests/render.ts';
import { buildPlan } from '../../src/plan/order.ts';
import { deploySummary, deployTable } from '../../src/report/deploy-summary.ts';
import { ROTATE_FIELD_MANAGER, secretKeyApply } from '../../src/rotate/kube.ts';
import { ExitCode, exitCodeOf } from '../../src/util/errors.ts';
import { KubeApiStandin } from '../standins/kube-api.ts';

const NS = 'voiceassistant-infra';
const ROTATED = 'rotated-Zq8vXk2mP4wN7tR1';
const stack = loadStack();
let redisObjects: KubeObject[];
beforeAll(async () => {
  // the redis component's Secret and ConfigMap as rendered (no workload: nothing to wait for)
  redisObjects = (await renderSizing(stack, 'kind')).filter(
    (o) => o.metadata.labels?.[COMPONENT_LABEL] === 'redis' && ['Secret', 'ConfigMap'].includes(o.kind),
  );
}, 60_000);

const started: KubeApiStandin[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.stop()));
});
async function standin(rbac?: ConstructorParameters<typeof KubeApiStandin>[0]) {
  const api = await new KubeApiStandin(rbac).start();
  started.push(api);
  api.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  return api;
}
/** The rendered objects, the redis Secret with one more key (`EXTRA`, not rotated) set to `extra`. */
const objects = (extra: string) =>
  redisObjects.map((o) =>
    o.kind === 'Secret'
      ? ({
          ...o,
          stringData: { ...(o as unknown as { stringData: object }).stringData, EXTRA: extra },
        } as KubeObject)
      : o,
  );
const redisPlan = (extra: string) => {
  const p = buildPlan(stack, resolveSelection(stack, 'redis'), objects(extra));
  // redis alone: its Secret and ConfigMap (the dependency-free component; waitFor is empty)
  return { ...p, waves: p.waves.map((w) => w.filter((c) => c.name === 'redis')).filter((w) => w.length) };
};
const secretOf = (api: KubeApiStandin) => api.get('v1', 'Secret', NS, 'redis-secret')!;
const value = (api: KubeApiStandin, key: string) =>
  Buffer.from(secretOf(api).data[key], 'base64').toString('utf8');
// biome-ignore lint/suspicious/noExplicitAny: API objects are open JSON
const ownedBy = (api: KubeApiStandin, manager: string): any =>
  secretOf(api).metadata.managedFields.find((m: { manager: string }) => m.manager === manager)?.fieldsV1;

describe('deploy after kindling rotate keeps the rotated Secret key (API stand-in)', () => {
  it('the rotated key survives a deploy (said as a note, no value printed); a key not rotated is still updated; deploy stops claiming the rotated key', async () => {
    const api = await standin();
    const client = new KubeClient(api.kubeConfig());
    const first = await deployPlan(redisPlan('one'), client, { timeoutMs: 5000 });
    expect(first.ok, JSON.stringify(first.components)).toBe(true);
    expect(first.components.flatMap((c) => c.notes)).toEqual([]); // no live Secret yet: nothing kept
    expect(value(api, 'REDIS_PASSWORD')).toBe('');
    expect(value(api, 'EXTRA')).toBe('one');

    // what `kindling rotate --target kube` applies (src/rotate/kube-target.ts)
    await client.apply(secretKeyApply(NS, { secret: 'redis-secret', key: 'REDIS_PASSWORD' }, ROTATED), {
      fieldManager: ROTATE_FIELD_MANAGER,
    });
    expect(value(api, 'REDIS_PASSWORD')).toBe(ROTATED);

    const lines: string[] = [];
    const second = await deployPlan(redisPlan('two'), client, {
      timeoutMs: 5000,
      log: (c, m) => lines.push(`[${c}] ${m}`),
    });
    expect(second.ok).toBe(true);
    expect(value(api, 'REDIS_PASSWORD')).toBe(ROTATED);
    expect(value(api, 'EXTRA')).toBe('two');
    const rotatedAt = secretOf(api).metadata.managedFields.find(
      (m: { manager: string }) => m.manager === ROTATE_FIELD_MANAGER,
    ).time;
    const note = `Secret redis-secret: kept REDIS_PASSWORD (rotated by kindling-rotate at ${rotatedAt})`;
    expect(second.components.find((c) => c.name === 'redis')!.notes).toEqual([note]);
    expect(lines).toContain(`[redis] ${note}`);
    // the CLI's table and the deploy action's job summary carry the component's notes
    expect(deployTable(second.components)).toContain(note);
    expect(deploySummary(second.components)).toContain(note);
    expect(JSON.stringify(second)).not.toContain(ROTATED);
    expect(lines.join('\n')).not.toContain(ROTATED);
    // deploy owns EXTRA only now; the rotation still owns its key
    expect(ownedBy(api, 'kindling')['f:stringData']).toEqual({ 'f:EXTRA': {} });
    expect(ownedBy(api, ROTATE_FIELD_MANAGER)).toEqual({ 'f:data': { 'f:REDIS_PASSWORD': {} } });
    // the applied body itself leaves the key out (it would overwrite data, with no conflict)
    const applied = api.requests.filter(
      (r) => r.method === 'PATCH' && r.path.endsWith('/secrets/redis-secret'),
    );
    expect(JSON.parse(applied.at(-1)!.body).stringData).toEqual({ EXTRA: 'two' });

    // a dry run says the same and changes nothing
    const dry = await deployPlan(redisPlan('three'), client, { timeoutMs: 5000, dryRun: true });
    expect(dry.components.find((c) => c.name === 'redis')!.notes).toEqual([note]);
    expect(value(api, 'EXTRA')).toBe('two');
    expect(value(api, 'REDIS_PASSWORD')).toBe(ROTATED);
  });

  it('handing the key back on purpose (docs/security.md): an empty apply by kindling-rotate releases it, and the next deploy applies the manifests’ value again', async () => {
    const api = await standin();
    const client = new KubeClient(api.kubeConfig());
    await deployPlan(redisPlan('one'), client, { timeoutMs: 5000 });
    await client.apply(secretKeyApply(NS, { secret: 'redis-secret', key: 'REDIS_PASSWORD' }, ROTATED), {
      fieldManager: ROTATE_FIELD_MANAGER,
    });
    // kubectl apply --server-side --field-manager=kindling-rotate of the Secret with no data
    await client.apply(
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'redis-secret', namespace: NS } },
      { fieldManager: ROTATE_FIELD_MANAGER },
    );
    expect(ownedBy(api, ROTATE_FIELD_MANAGER)?.['f:data']).toBeUndefined();
    // its key went with it (no other manager owned data.REDIS_PASSWORD): absent until the deploy
    expect(secretOf(api).data.REDIS_PASSWORD).toBeUndefined();
    const out = await deployPlan(redisPlan('one'), client, { timeoutMs: 5000 });
    expect(out.components.flatMap((c) => c.notes)).toEqual([]);
    expect(value(api, 'REDIS_PASSWORD')).toBe('');
  });

  it('without get on secrets the deploy stops before applying anything, naming it (exit 2)', async () => {
    const resources = [
      'namespaces',
      'secrets',
      'configmaps',
      'pods',
      'services',
      'persistentvolumeclaims',
      'endpointslices',
      'events',
      'pods/log',
    ];
    const rules = resources.flatMap((resource) =>
      ['get', 'list', 'watch', 'patch']
        .filter((verb) => !(verb === 'get' && resource === 'secrets'))
        .map((verb) => ({ verbs: [verb], apiGroups: ['*'], resources: [resource] })),
    );
    const api = await standin({ rbac: { user: 'deployer', rules } });
    const client = new KubeClient(api.kubeConfig());
    const err = await deployPlan(redisPlan('one'), client, { timeoutMs: 5000 }).catch((e: unknown) => e);
    expect(exitCodeOf(err)).toBe(ExitCode.Usage);
    expect((err as Error).message).toContain(
      `get secrets in namespace ${NS} (to keep the keys kindling rotate set)`,
    );
    expect(api.requests.filter((r) => r.method === 'PATCH')).toEqual([]);
  });
});
