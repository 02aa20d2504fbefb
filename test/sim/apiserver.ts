/**
 * Simulation (test infrastructure): the API server's defaulting and mutating admission that
 * kindling depends on, registered on the API stand-in's `mutators` hook. Each rule names its source
 * in kubernetes/kubernetes.
 */
import { createHash } from 'node:crypto';
import type { KubeApiStandin } from '../standins/kube-api.ts';

// biome-ignore lint/suspicious/noExplicitAny: API objects are open JSON
export type Obj = Record<string, any>;

/** kind's default StorageClass (kind `pkg/cluster/internal/create/actions/installstorage/storage.go`). */
export const DEFAULT_STORAGE_CLASS = 'standard';

let nextClusterIp = 10;

/** One defaulting function per kind; applied to the object about to be stored. */
const DEFAULTS: Record<string, (o: Obj, existing: Obj | undefined) => void> = {
  // pkg/apis/core/v1/conversion.go (Convert_v1_Secret_To_core_Secret): stringData is merged into
  // data (base64 on the wire) and never stored.
  Secret(o) {
    if (o.stringData) {
      o.data = { ...(o.data ?? {}) };
      for (const [k, v] of Object.entries(o.stringData as Record<string, string>))
        o.data[k] = Buffer.from(v).toString('base64');
      delete o.stringData;
    }
    o.type ??= 'Opaque';
  },
  // pkg/apis/core/v1/defaults.go SetDefaults_Service: type ClusterIP, protocol TCP, targetPort = port;
  // pkg/registry/core/service/ipallocator: a ClusterIP from the service CIDR (kind: 10.96.0.0/16).
  Service(o, existing) {
    o.spec ??= {};
    const spec = o.spec;
    spec.type ??= 'ClusterIP';
    spec.sessionAffinity ??= 'None';
    for (const p of spec.ports ?? []) {
      p.protocol ??= 'TCP';
      p.targetPort ??= p.port;
    }
    if (spec.clusterIP !== 'None') {
      spec.clusterIP = existing?.spec?.clusterIP ?? spec.clusterIP ?? `10.96.0.${nextClusterIp++}`;
      spec.clusterIPs = [spec.clusterIP];
    }
  },
  // pkg/apis/apps/v1/defaults.go SetDefaults_StatefulSet.
  StatefulSet(o) {
    o.spec ??= {};
    const spec = o.spec;
    spec.replicas ??= 1;
    spec.podManagementPolicy ??= 'OrderedReady';
    spec.updateStrategy ??= { type: 'RollingUpdate' };
    if (spec.updateStrategy.type === 'RollingUpdate')
      spec.updateStrategy.rollingUpdate = { partition: 0, ...(spec.updateStrategy.rollingUpdate ?? {}) };
    spec.revisionHistoryLimit ??= 10;
    spec.persistentVolumeClaimRetentionPolicy ??= { whenDeleted: 'Retain', whenScaled: 'Retain' };
    defaultPodSpec(spec.template?.spec);
  },
  // pkg/apis/apps/v1/defaults.go SetDefaults_Deployment: RollingUpdate 25%/25%, 600 s deadline.
  Deployment(o) {
    o.spec ??= {};
    const spec = o.spec;
    spec.replicas ??= 1;
    spec.strategy ??= { type: 'RollingUpdate' };
    if (spec.strategy.type === 'RollingUpdate')
      spec.strategy.rollingUpdate = {
        maxUnavailable: '25%',
        maxSurge: '25%',
        ...(spec.strategy.rollingUpdate ?? {}),
      };
    spec.revisionHistoryLimit ??= 10;
    spec.progressDeadlineSeconds ??= 600;
    defaultPodSpec(spec.template?.spec);
  },
  // pkg/apis/batch/v1/defaults.go SetDefaults_Job (completions/parallelism 1, backoffLimit 6) and
  // pkg/registry/batch/job/strategy.go generateSelector: unless manualSelector, the selector is the
  // Job's uid and the template gets controller-uid and job-name labels (both spellings).
  Job(o, existing) {
    o.spec ??= {};
    const spec = o.spec;
    spec.completions ??= 1;
    spec.parallelism ??= 1;
    spec.backoffLimit ??= 6;
    spec.completionMode ??= 'NonIndexed';
    spec.suspend ??= false;
    if (!spec.manualSelector) {
      const uid = existing?.metadata?.uid ?? o.metadata.uid;
      const labels = {
        'batch.kubernetes.io/controller-uid': uid,
        'controller-uid': uid,
        'batch.kubernetes.io/job-name': o.metadata.name,
        'job-name': o.metadata.name,
      };
      spec.selector = { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } };
      spec.template ??= {};
      spec.template.metadata = {
        ...(spec.template.metadata ?? {}),
        labels: { ...(spec.template.metadata?.labels ?? {}), ...labels },
      };
    }
    defaultPodSpec(spec.template?.spec);
  },
  // plugin/pkg/admission/storage/storageclass/setdefault/admission.go (DefaultStorageClass):
  // a claim without a class gets the cluster's default class.
  PersistentVolumeClaim(o) {
    o.spec ??= {};
    const spec = o.spec;
    spec.storageClassName ??= DEFAULT_STORAGE_CLASS;
    spec.volumeMode ??= 'Filesystem';
  },
};

/** pkg/apis/core/v1/defaults.go: restartPolicy Always, enableServiceLinks true, grace 30 s. */
function defaultPodSpec(spec: Obj | undefined): void {
  if (!spec) return;
  spec.restartPolicy ??= 'Always';
  spec.enableServiceLinks ??= true;
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
    c.imagePullPolicy ??= /:latest$|^[^:]+$/.test(c.image ?? '') ? 'Always' : 'IfNotPresent';
    for (const probe of [c.readinessProbe, c.livenessProbe, c.startupProbe].filter(Boolean)) {
      probe.periodSeconds ??= 10;
      probe.timeoutSeconds ??= 1;
      probe.successThreshold ??= 1;
      probe.failureThreshold ??= 3;
      probe.initialDelaySeconds ??= 0;
    }
  }
}

/** Registers the defaulting on the stand-in's apply path. */
export function installDefaulting(api: KubeApiStandin): void {
  api.mutators.push((o, existing) => DEFAULTS[o.kind]?.(o, existing));
}

/** Applies the same defaulting to an object a simulated controller creates (they go through `put`). */
export function defaulted(o: Obj): Obj {
  DEFAULTS[o.kind]?.(o, undefined);
  if (o.kind === 'Pod') defaultPodSpec(o.spec);
  return o;
}

/** A short stable hash, like the controllers' `controller.ComputeHash` of a pod template. */
export function hashOf(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 10);
}

/** `generateName` suffix: 5 characters from the API server's alphabet (k8s.io/apiserver names). */
export function randomSuffix(): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  let s = '';
  for (let i = 0; i < 5; i++) s += alphabet[Math.floor(Math.random() * alphabet.length)];
  return s;
}
