/**
 * Target kube for `kindling rotate` (edge): the endpoints through port-forwards with the credential
 * the stack's Secret holds, and the publish step — the Secret key applied, a `rollout restart` of
 * exactly the workloads that read it, and the wait until they are ready again by kindling's own
 * readiness rules. Decisions are in kube.ts.
 */
import { Readable, Writable } from 'node:stream';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Stack } from '../catalog/types.ts';
import { KubeClient } from '../kube/client.ts';
import { connectKubeCluster } from '../kube/cluster.ts';
import { selectorString } from '../kube/rollout.ts';
import { ClusterWatch, waitForComponent } from '../kube/wait.ts';
import { kubeTarget } from '../targets/kube.ts';
import type { Target } from '../targets/types.ts';
import { FailedError } from '../util/errors.ts';
import {
  consumersOf,
  mayStick,
  RESTARTABLE,
  ROTATE_FIELD_MANAGER,
  restartApply,
  secretKeyApply,
  stuckReaders,
} from './kube.ts';
import type { InPod, RotationSpec } from './types.ts';

export interface KubeRotation {
  /** `component.endpoint` → URL with the Secret's credential, for planRotations. */
  endpoints: Map<string, URL>;
  publish: (job: { component: string; spec: RotationSpec }, password: string) => Promise<URL | undefined>;
  /** The endpoint's pod, resolved at each use (a restart replaces the pod and its IP). */
  inPod: (job: { component: string; spec: RotationSpec }) => InPod | undefined;
  close: () => Promise<void>;
}

const API_VERSION: Record<string, string> = {
  Deployment: 'apps/v1',
  StatefulSet: 'apps/v1',
  DaemonSet: 'apps/v1',
};

export async function kubeRotation(
  kc: KubeConfig,
  stack: Stack,
  components: readonly string[],
  o: { timeoutMs: number; readyTimeoutMs: number; log?: (line: string) => void; now?: () => Date },
): Promise<KubeRotation> {
  const cluster = await connectKubeCluster(kc);
  const client = new KubeClient(kc);
  const ns = stack.namespace;
  let target: Target = kubeTarget(cluster, ns);

  const endpointOf = (component: string, spec: RotationSpec) => {
    const c = stack.components[component]!;
    return spec.endpoint ? c.endpoints.find((e) => e.name === spec.endpoint) : c.endpoints[0];
  };
  // a way in, retried while the pods behind the Service are not ready yet (NotReadyError)
  const resolve = async (component: string, spec: RotationSpec): Promise<URL | undefined> => {
    const ep = endpointOf(component, spec);
    if (!ep) return undefined;
    const deadline = Date.now() + o.readyTimeoutMs;
    for (;;)
      try {
        return await target.resolve(stack.components[component]!, ep);
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 500));
      }
  };

  const endpoints = new Map<string, URL>();
  for (const name of components)
    for (const spec of stack.components[name]?.rotation ?? []) {
      const ep = endpointOf(name, spec);
      const url = await resolve(name, spec);
      if (ep && url) {
        // the rotation's account, and the current credential from the Secret it rotates
        if (spec.user) url.username = encodeURIComponent(spec.user);
        if (spec.secret) {
          const current = await cluster.readSecret(ns, spec.secret.secret, spec.secret.key);
          url.password = current ? encodeURIComponent(current) : '';
        }
        endpoints.set(`${name}.${ep.name}`, url);
      }
    }

  const publish = async (job: { component: string; spec: RotationSpec }, password: string) => {
    const ref = job.spec.secret;
    if (!ref) return undefined;
    if ((await cluster.readSecret(ns, ref.secret, ref.key)) !== password) {
      await client.apply(secretKeyApply(ns, ref, password), {
        fieldManager: ROTATE_FIELD_MANAGER,
        timeoutMs: o.timeoutMs,
      });
      o.log?.(
        `${job.component}: secret/${ref.secret} key ${ref.key} applied (field manager ${ROTATE_FIELD_MANAGER})`,
      );
    }
    const workloads = (
      await Promise.all(RESTARTABLE.map((k) => client.list(API_VERSION[k]!, k, ns, undefined, o.timeoutMs)))
    ).flatMap((l) => l.items);
    const readers = consumersOf(workloads, ref);
    const at = (o.now ?? (() => new Date()))();
    for (const w of readers)
      await client.apply(restartApply({ ...w, metadata: { ...w.metadata, namespace: ns } }, at), {
        fieldManager: ROTATE_FIELD_MANAGER,
        timeoutMs: o.timeoutMs,
      });
    const names = readers.map((w) => `${w.kind}/${w.metadata.name}`);
    o.log?.(`${job.component}: restarted ${names.join(', ') || 'nothing (no workload reads the key)'}`);
    if (readers.length) {
      const targets = readers.map((w) => ({
        apiVersion: w.apiVersion,
        kind: w.kind,
        namespace: ns,
        name: w.metadata.name,
      }));
      const watch = new ClusterWatch(client);
      // an OrderedReady reader's pod that lost its credential is never replaced by the restart:
      // delete it while waiting (stuckReaders), as the docs' forced rollback does
      let waiting = true;
      const unstick = (async () => {
        while (waiting) {
          for (const set of readers) {
            const retired = set.status?.updateRevision as string | undefined;
            if (!mayStick(set) || !retired) continue;
            const pods = await client
              .list('v1', 'Pod', ns, selectorString(set), o.timeoutMs)
              .catch(() => ({ items: [] as Record<string, unknown>[] }));
            for (const p of stuckReaders(set, pods.items, retired)) {
              await client
                .delete({ apiVersion: 'v1', kind: 'Pod', metadata: { name: p.metadata.name, namespace: ns } })
                .catch(() => {});
              o.log?.(
                `${job.component}: deleted Pod/${p.metadata.name}: not Ready on the credential before the rotation, and its OrderedReady StatefulSet/${set.metadata.name} would not replace it (forced rollback)`,
              );
            }
          }
          for (let i = 0; i < 10 && waiting; i++) await new Promise((r) => setTimeout(r, 200));
        }
      })();
      try {
        await watch.ensure(targets);
        const r = await waitForComponent(job.component, targets, watch, { timeoutMs: o.readyTimeoutMs });
        if (r.verdict.state !== 'ready')
          throw new FailedError(
            `${names.join(', ')} not ready after the restart: ${r.verdict.reasons.join('; ') || (r.timedOut ? 'timed out' : r.verdict.state)}`,
          );
      } finally {
        waiting = false;
        await unstick;
        await watch.stop();
      }
    }
    // the old port-forwards went with the restarted pods
    await target.close();
    target = kubeTarget(cluster, ns);
    const url = await resolve(job.component, job.spec);
    if (url) {
      url.username = '';
      url.password = '';
    }
    return url;
  };

  const inPod = (job: { component: string; spec: RotationSpec }): InPod | undefined => {
    const ep = endpointOf(job.component, job.spec);
    if (!ep) return undefined;
    return {
      resolve: async () => {
        const [services, slices] = await Promise.all([
          cluster.listServices(ns),
          cluster.listEndpointSlices(ns),
        ]);
        const svcPort = services
          .find((s) => s.metadata?.name === ep.service)
          ?.spec?.ports?.find((p) => p.port === ep.port);
        if (!svcPort) throw new Error(`service/${ep.service} has no port ${ep.port}`);
        // the EndpointSlice's port of the same name is the resolved target port
        for (const slice of slices.filter(
          (x) => x.metadata?.labels?.['kubernetes.io/service-name'] === ep.service,
        )) {
          const port = slice.ports?.find((p) => (p.name ?? '') === (svcPort.name ?? ''))?.port;
          const e = (slice.endpoints ?? []).find(
            (x) => x.conditions?.ready !== false && x.targetRef?.kind === 'Pod' && x.addresses[0],
          );
          if (port === undefined || !e) continue;
          const pod = e.targetRef!.name!;
          return {
            podIP: e.addresses[0]!,
            port,
            run: async (command: readonly string[], stdin: string) => {
              const out = collect();
              const err = collect();
              const { exitCode } = await cluster.exec({
                namespace: ns,
                pod,
                command,
                stdin: Readable.from([Buffer.from(stdin)]),
                stdout: out.stream,
                stderr: err.stream,
                timeoutMs: o.timeoutMs,
              });
              return { exitCode, stdout: out.text(), stderr: err.text() };
            },
          };
        }
        throw new Error(`service/${ep.service}:${ep.port} has no ready pod`);
      },
    };
  };

  return { endpoints, publish, inPod, close: () => target.close() };
}

/** A bounded sink for an exec's output (64 KiB is plenty for a client's answer). */
function collect() {
  const chunks: Buffer[] = [];
  let size = 0;
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (size < 65_536) chunks.push(chunk);
      size += chunk.length;
      cb();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}
