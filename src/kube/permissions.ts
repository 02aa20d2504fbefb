/**
 * Checking, before anything is applied, that the kubeconfig's identity may do what a deploy needs:
 * one SelfSubjectAccessReview per verb and resource (authorization.k8s.io/v1, which every
 * authenticated user may create: the `system:basic-user` ClusterRole). A missing permission is a
 * configuration problem (exit 2): nothing was changed, and the fix is in the RBAC or the kubeconfig.
 * Context the deploy can go without (Events) is only a warning: diagnostics degrade instead.
 */
import type { Plan } from '../plan/order.ts';
import { UsageError } from '../util/errors.ts';
import type { KubeClient } from './client.ts';

export interface Need {
  verb: string;
  apiVersion: string;
  kind: string;
  /** Cluster-scoped kinds: none. */
  namespace?: string;
  subresource?: string;
  /** Why, for the message ("apply StatefulSet/ns/postgres"). */
  why: string;
  /** Missing → this warning (what goes without it), not an error. */
  optional?: string;
}

/** Kinds the readiness rules read besides the applied ones (src/kube/wait.ts). */
const CONTEXT: [string, string][] = [
  ['v1', 'Pod'],
  ['v1', 'PersistentVolumeClaim'],
  ['v1', 'Service'],
  ['discovery.k8s.io/v1', 'EndpointSlice'],
];

/** What a deploy of `plan` needs (pure). */
export function deployNeeds(plan: Plan, opts: { dryRun?: boolean } = {}): Need[] {
  const needs: Need[] = [];
  const objects = [...plan.shared, ...plan.waves.flat().flatMap((c) => c.objects)];
  for (const o of objects) {
    const at = {
      apiVersion: o.apiVersion,
      kind: o.kind,
      ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}),
    };
    needs.push({ ...at, verb: 'patch', why: `apply ${o.kind}` });
    if (o.kind === 'Job' && !opts.dryRun)
      needs.push({
        ...at,
        verb: 'delete',
        why: 'replace a Job whose template changed',
        optional: 'a Job whose pod template changed cannot be replaced',
      });
  }
  if (opts.dryRun) return dedupe(needs);
  // list is required; without watch the caches poll (informer.ts falls back after failed watches)
  const polled = 'readiness is polled instead of watched (slower to notice)';
  for (const c of plan.waves.flat())
    for (const t of c.waitFor)
      for (const verb of ['list', 'watch'])
        needs.push({
          verb,
          apiVersion: t.apiVersion,
          kind: t.kind,
          namespace: t.namespace,
          why: `wait for ${t.kind}`,
          ...(verb === 'watch' ? { optional: polled } : {}),
        });
  for (const [apiVersion, kind] of CONTEXT)
    for (const verb of ['list', 'watch'])
      needs.push({
        verb,
        apiVersion,
        kind,
        namespace: plan.namespace,
        why: 'judge readiness',
        ...(verb === 'watch' ? { optional: polled } : {}),
      });
  for (const verb of ['list', 'watch'])
    needs.push({
      verb,
      apiVersion: 'v1',
      kind: 'Event',
      namespace: plan.namespace,
      why: 'diagnostics',
      optional: 'diagnostics will be incomplete',
    });
  needs.push({
    verb: 'get',
    apiVersion: 'v1',
    kind: 'Pod',
    namespace: plan.namespace,
    subresource: 'log',
    why: 'diagnostics',
    optional: 'diagnostics will be incomplete',
  });
  return dedupe(needs);
}

/**
 * What verify and backup need on target kube: reach pods and read the catalog's Secrets (pure).
 * exec and port-forward need `create` on the subresource: SPDY always did, and WebSocket upgrades
 * do since 1.35 (kubernetes/kubernetes#134577, AuthorizePodWebsocketUpgradeCreatePermission).
 */
export function verifyNeeds(namespace: string): Need[] {
  return [
    {
      verb: 'create',
      apiVersion: 'v1',
      kind: 'Pod',
      namespace,
      subresource: 'exec',
      why: 'run in-pod checks',
    },
    {
      verb: 'create',
      apiVersion: 'v1',
      kind: 'Pod',
      namespace,
      subresource: 'portforward',
      why: 'reach endpoints by port-forward',
    },
    { verb: 'get', apiVersion: 'v1', kind: 'Secret', namespace, why: 'read credentials from Secrets' },
    { verb: 'list', apiVersion: 'v1', kind: 'Pod', namespace, why: 'run the namespace checks' },
  ];
}

function dedupe(needs: Need[]): Need[] {
  const seen = new Map<string, Need>();
  for (const n of needs) {
    const key = `${n.verb}|${n.apiVersion}|${n.kind}|${n.subresource ?? ''}|${n.namespace ?? ''}`;
    if (!seen.has(key)) seen.set(key, n);
  }
  return [...seen.values()];
}

const describe = (n: Need, plural: string, group: string) =>
  `${n.verb} ${plural}${n.subresource ? `/${n.subresource}` : ''}${group ? `.${group}` : ''}${n.namespace ? ` in namespace ${n.namespace}` : ' (cluster-wide)'} (to ${n.why})`;

/**
 * Asks the API for every need. Throws a UsageError naming each missing verb/resource; returns the
 * warnings for optional ones. When the reviews themselves cannot be made (an old or unusual API
 * server), says so and lets the deploy find out the hard way.
 */
export async function checkPermissions(client: KubeClient, needs: readonly Need[]): Promise<string[]> {
  const missing: string[] = [];
  const warnings: string[] = [];
  let queue = [...needs];
  const worker = async () => {
    while (queue.length) {
      const n = queue.shift()!;
      const r = await client.resourceOf(n.apiVersion, n.kind);
      if (!r) continue; // not served: the apply will say so, with the object named
      const review = await client.create('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: {
          resourceAttributes: {
            verb: n.verb,
            group: r.group,
            resource: r.plural,
            ...(n.subresource ? { subresource: n.subresource } : {}),
            ...(r.namespaced && n.namespace ? { namespace: n.namespace } : {}),
          },
        },
      });
      if (review.status?.allowed === true) continue;
      if (n.optional) warnings.push(`not allowed to ${describe(n, r.plural, r.group)}: ${n.optional}`);
      else missing.push(describe(n, r.plural, r.group));
    }
  };
  try {
    await Promise.all(Array.from({ length: 8 }, worker));
  } catch (err) {
    queue = [];
    return [`could not check permissions in advance (${(err as Error).message}); going on`];
  }
  if (missing.length)
    throw new UsageError(
      `the kubeconfig's user is not allowed to:\n${missing.map((m) => `  - ${m}`).join('\n')}\ngrant these (a Role/ClusterRole bound to the user) or use a kubeconfig that has them`,
    );
  return warnings;
}
