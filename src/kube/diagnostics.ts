/**
 * Writes the diagnostics directory for a failed rollout: events sorted by time, describe-equivalent
 * YAML of the failing objects, current and previous container logs, storage, node conditions.
 * What to collect is decided in src/plan/diagnostics.ts; this only fetches and writes.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import type { Snapshot } from '../plan/component.ts';
import {
  type ComponentOutcome,
  describeDoc,
  diagnosticsFor,
  formatEvent,
  sortEvents,
} from '../plan/diagnostics.ts';
import { redact } from '../util/redact.ts';
import { type KubeClient, plain } from './client.ts';
import { describeApiError } from './errors.ts';

const safe = (s: string) => s.replace(/[^A-Za-z0-9_.-]/g, '_');

export async function collectDiagnostics(
  dir: string,
  client: KubeClient,
  failed: readonly ComponentOutcome[],
  snap: Snapshot,
  namespaces: readonly string[],
  summary: string,
): Promise<string[]> {
  const written: string[] = [];
  const put = async (rel: string, text: string) => {
    const file = join(dir, rel);
    await mkdir(join(file, '..'), { recursive: true });
    await writeFile(file, redact(text));
    written.push(rel);
  };
  const attempt = async (what: string, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (err) {
      await put(`errors/${safe(what)}.txt`, `${what}: ${describeApiError(err)}\n`);
    }
  };
  await mkdir(dir, { recursive: true });
  await put('summary.txt', `${summary}\n`);
  const core = client.kc.makeApiClient(CoreV1Api);
  let events = [...snap.events];
  for (const ns of namespaces)
    await attempt(`events ${ns}`, async () => {
      events = [
        ...events.filter((e) => e.metadata?.namespace !== ns),
        ...(await client.list('v1', 'Event', ns)).items,
      ];
    });
  await put('events.txt', `${sortEvents(events).map(formatEvent).join('\n')}\n`);

  const request = diagnosticsFor(failed, snap);
  for (const d of request.describe) {
    await attempt(`describe ${d.kind} ${d.name}`, async () => {
      const live =
        snap.objects.get(`${d.kind}/${d.namespace}/${d.name}`) ??
        snap.pods.find((p) => p.metadata?.name === d.name && d.kind === 'Pod');
      if (!live) throw new Error('not found');
      // Secrets are never described: their data would end up in an uploaded artifact
      if (d.kind === 'Secret') return;
      await put(`describe/${safe(d.kind)}-${safe(d.name)}.yaml`, stringify(describeDoc(live, events)));
    });
  }
  for (const l of request.logs) {
    await attempt(`logs ${l.pod} ${l.container}${l.previous ? ' previous' : ''}`, async () => {
      const text = await core.readNamespacedPodLog({
        name: l.pod,
        namespace: l.namespace,
        container: l.container,
        previous: l.previous,
        tailLines: 5000,
      });
      await put(`logs/${safe(l.pod)}_${safe(l.container)}${l.previous ? '.previous' : ''}.log`, String(text));
    });
  }
  await attempt('storage', async () => {
    const pvcs = await Promise.all(namespaces.map((ns) => client.list('v1', 'PersistentVolumeClaim', ns)));
    const pvs = await client.list('v1', 'PersistentVolume');
    const scs = await client.list('storage.k8s.io/v1', 'StorageClass');
    await put(
      'storage.yaml',
      stringify({
        persistentVolumeClaims: pvcs
          .flatMap((l) => l.items)
          .map((o) => ({
            name: o.metadata.name,
            namespace: o.metadata.namespace,
            spec: o.spec,
            status: o.status,
          })),
        persistentVolumes: pvs.items.map((o) => ({ name: o.metadata.name, spec: o.spec, status: o.status })),
        storageClasses: scs.items.map(({ metadata, provisioner, volumeBindingMode, reclaimPolicy }) => ({
          name: metadata.name,
          default: metadata.annotations?.['storageclass.kubernetes.io/is-default-class'] === 'true',
          provisioner,
          volumeBindingMode,
          reclaimPolicy,
        })),
      }),
    );
  });
  await attempt('nodes', async () => {
    const nodes = plain(await core.listNode()).items ?? [];
    await put(
      'nodes.yaml',
      stringify(
        nodes.map(
          (n: {
            metadata: { name: string };
            status: { conditions: unknown; allocatable: unknown; nodeInfo: unknown };
          }) => ({
            name: n.metadata.name,
            conditions: n.status?.conditions,
            allocatable: n.status?.allocatable,
            nodeInfo: n.status?.nodeInfo,
          }),
        ),
      ),
    );
  });
  return written;
}
