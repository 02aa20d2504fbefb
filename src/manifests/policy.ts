import type { Finding } from './findings.ts';
import { showObject, text } from './findings.ts';
import { asArray, containersOf, isRecord, type PodTemplate, podTemplate, secretValues } from './objects.ts';
import type { KubeObject } from './render.ts';

const PASSWORD_KEY = /pass(word)?|secret|token|credential/i;

/** Which values are published defaults: from the catalog's `policy` (facts about the stack, not kindling). */
export interface CredentialPolicy {
  defaultCredentials: readonly string[];
  defaultCredentialsInPasswordFields: readonly string[];
  strictSizings: readonly string[];
}

export const NO_CREDENTIAL_POLICY: CredentialPolicy = {
  defaultCredentials: [],
  defaultCredentialsInPasswordFields: [],
  strictSizings: [],
};

export function isDefaultCredential(key: string, value: string, policy: CredentialPolicy): boolean {
  const v = value.trim();
  return (
    policy.defaultCredentials.includes(v) ||
    (PASSWORD_KEY.test(key) && policy.defaultCredentialsInPasswordFields.includes(v))
  );
}

export function policyFindings(
  objects: readonly KubeObject[],
  sizing: string,
  credentials: CredentialPolicy = NO_CREDENTIAL_POLICY,
): Finding[] {
  const templates = objects.map(podTemplate).filter((t): t is PodTemplate => t !== undefined);
  const credentialSeverity = credentials.strictSizings.includes(sizing) ? 'error' : 'warning';
  return [
    ...templates.flatMap(serviceLinkFindings),
    ...templates.flatMap(containerFindings),
    ...objects.flatMap((o) => credentialFindings(o, credentialSeverity, credentials)),
    ...templates.flatMap((t) => envCredentialFindings(t, credentialSeverity, credentials)),
  ];
}

/**
 * Rule `service-links`: every pod template sets `enableServiceLinks: false`. Otherwise the kubelet
 * gives each container `<SVC>_PORT=tcp://IP:PORT`, `<SVC>_SERVICE_HOST`, ... for every Service in the
 * namespace (kubernetes/kubernetes pkg/kubelet/kubelet_pods.go getServiceEnvVarMap), and images that
 * map environment variables onto configuration read them as settings: Milvus turns `MINIO_PORT` into
 * `minio.port` over its user.yaml (milvus-io/milvus pkg/config/env_source.go), the Kafka image turns
 * every `KAFKA_*` variable into a server.properties key (apache/kafka docker/resources/common-scripts/
 * configure → `utility render-properties` with kafka-propertiesSpec.json, prefix KAFKA). The
 * `kubernetes` Service's variables (KUBERNETES_SERVICE_HOST, which in-cluster clients such as
 * Prometheus' discovery read) are added whatever the setting (same function, masterServices).
 */
function serviceLinkFindings(t: PodTemplate): Finding[] {
  if (t.spec.enableServiceLinks === false) return [];
  const set = t.spec.enableServiceLinks !== undefined;
  return [
    {
      severity: 'error',
      rule: 'service-links',
      preferBase: !set,
      message: `${showObject(t.object)}: set enableServiceLinks: false in the pod template (${set ? `it is ${text(t.spec.enableServiceLinks)}` : 'the default is true'}): the kubelet would add <SERVICE>_PORT=tcp://… variables for every Service of the namespace, which images that read their configuration from the environment (Milvus, Kafka) take as settings`,
      object: t.object,
      path: [...t.path, 'spec', ...(set ? ['enableServiceLinks'] : [])],
    },
  ];
}

/** `name:tag`, `name@sha256:...`, or why it is not pinned. */
export function imageProblem(image: unknown): string | undefined {
  if (typeof image !== 'string' || image.trim() === '') return 'has no image';
  if (image.includes('@')) return undefined; // a digest pins it exactly
  const lastSlash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  if (colon <= lastSlash) return `image "${image}" has no tag (pin a version, e.g. ${image}:1.2.3)`;
  const tag = image.slice(colon + 1);
  if (tag === 'latest') return `image "${image}" uses the tag "latest" (pin a version)`;
  return undefined;
}

function containerFindings(t: PodTemplate): Finding[] {
  const out: Finding[] = [];
  for (const c of containersOf(t)) {
    const who = `${c.init ? 'init container' : 'container'} ${text(c.value.name ?? '?')} of ${showObject(t.object)}`;
    const imageIssue = imageProblem(c.value.image);
    if (imageIssue)
      out.push({
        severity: 'error',
        rule: 'image-tag',
        preferBase: c.value.image === undefined,
        message: `${who}: ${imageIssue}`,
        object: t.object,
        path: [...c.path, c.value.image === undefined ? 'name' : 'image'],
      });

    const res = isRecord(c.value.resources) ? c.value.resources : {};
    const missing: string[] = [];
    for (const kind of ['requests', 'limits']) {
      const r = isRecord(res[kind]) ? (res[kind] as Record<string, unknown>) : {};
      for (const what of ['cpu', 'memory'])
        if (r[what] === undefined || r[what] === null) missing.push(`${kind}.${what}`);
    }
    if (missing.length)
      out.push({
        severity: 'error',
        rule: 'resources',
        preferBase: true,
        message: `${who} has no resources.${missing.join(', resources.')}`,
        object: t.object,
        path: [...c.path, ...(c.value.resources === undefined ? ['name'] : ['resources'])],
      });

    // an init container that is a sidecar (restartPolicy Always) runs as long as the pod
    const longRunning = t.longRunning && (!c.init || c.value.restartPolicy === 'Always');
    if (longRunning) {
      const probes = ['readinessProbe', 'livenessProbe'].filter((p) => c.value[p] === undefined);
      if (probes.length)
        out.push({
          severity: 'error',
          rule: 'probes',
          preferBase: true,
          message: `${who} has no ${probes.join(' and no ')}`,
          object: t.object,
          path: [...c.path, 'name'],
        });
    }
  }
  return out;
}

function credentialFindings(
  o: KubeObject,
  severity: Finding['severity'],
  policy: CredentialPolicy,
): Finding[] {
  if (o.kind !== 'Secret') return [];
  return secretValues(o)
    .filter((v) => isDefaultCredential(v.key, v.value, policy))
    .map((v) => ({
      severity,
      rule: 'default-credential',
      message: `Secret ${o.metadata.name}: ${v.path.join('.')} is a default credential published in the seed's README; set a real one`,
      object: o,
      path: v.path,
    }));
}

function envCredentialFindings(
  t: PodTemplate,
  severity: Finding['severity'],
  policy: CredentialPolicy,
): Finding[] {
  const out: Finding[] = [];
  for (const c of containersOf(t))
    asArray(c.value.env).forEach((e, i) => {
      if (
        isRecord(e) &&
        typeof e.name === 'string' &&
        typeof e.value === 'string' &&
        PASSWORD_KEY.test(e.name) &&
        isDefaultCredential(e.name, e.value, policy)
      )
        out.push({
          severity,
          rule: 'default-credential',
          message: `${showObject(t.object)}: env ${e.name} of container ${text(c.value.name)} is a default credential published in the seed's README; take it from a Secret`,
          object: t.object,
          path: [...c.path, 'env', i, 'value'],
        });
    });
  return out;
}
