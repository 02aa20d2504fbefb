/**
 * The apiserver's request checks the API stand-in (kube-api.ts) applies, each written from upstream:
 * - RBAC (kubernetes/kubernetes `plugin/pkg/auth/authorizer/rbac/rbac.go`, rule matching in
 *   `pkg/apis/rbac/v1/evaluation_helpers.go`: verbs, apiGroups, resources incl. `pods/exec`, `*`),
 *   the 403 Status the handler writes (`staging/src/k8s.io/apiserver/pkg/endpoints/handlers/
 *   responsewriters/errors.go` `forbiddenMessage`: `User "u" cannot VERB resource "R" in API group
 *   "G" in the namespace "NS"`), and SelfSubjectAccessReview answers;
 * - unknown fields in a server-side apply: the field manager converts the patch to a typed object
 *   before any `fieldValidation` check (apiserver `endpoints/handlers/patch.go` applyPatcher →
 *   apimachinery `util/managedfields/internal/structuredmerge.go`: "failed to create typed patch
 *   object (NS/NAME; GV, Kind=K): .path: field not declared in schema"), so apply rejects them with
 *   or without Strict; the error is a plain error, which `ErrorToAPIStatus` answers as 500 with an
 *   empty reason (kubernetes/kubernetes#118877, open; the 400 of PR #119178 was not merged). The
 *   fields are checked against client-node's model table (`src/manifests/generated/
 *   field-types.json`, the same one `kindling validate` uses);
 * - Job pod templates are immutable (`pkg/apis/batch/validation/validation.go` ValidateJobSpecUpdate
 *   → `spec.template: Invalid value: ...: field is immutable`, 422 Invalid).
 * Stand-in code: it models these points only, not the whole apiserver.
 */
import { unknownFieldFindings } from '../../src/manifests/fields.ts';
import type { KubeObject } from '../../src/manifests/render.ts';

// biome-ignore lint/suspicious/noExplicitAny: API objects are open JSON
type Obj = Record<string, any>;

export interface RbacRule {
  verbs: string[];
  apiGroups: string[];
  resources: string[];
  /** Only in these namespaces (a RoleBinding); absent: cluster-wide (a ClusterRoleBinding). */
  namespaces?: string[];
}

export interface RbacPolicy {
  /** The authenticated user, as named in 403 messages. */
  user: string;
  rules: RbacRule[];
}

export interface Attributes {
  verb: string;
  group: string;
  /** Plural, plus `/subresource` when there is one (`pods/exec`). */
  resource: string;
  namespace?: string;
  name?: string;
}

const has = (list: string[], v: string) => list.includes('*') || list.includes(v);

/** RBAC's rule matching (evaluation_helpers.go VerbMatches/APIGroupMatches/ResourceMatches). */
export function allowed(policy: RbacPolicy, a: Attributes): boolean {
  return policy.rules.some(
    (r) =>
      has(r.verbs, a.verb) &&
      has(r.apiGroups, a.group) &&
      (has(r.resources, a.resource) ||
        (a.resource.includes('/') && r.resources.includes(`*/${a.resource.split('/')[1]}`))) &&
      (!r.namespaces || (a.namespace !== undefined && r.namespaces.includes(a.namespace))),
  );
}

/** The 403 Status body for a denied request, as the apiserver writes it. */
export function forbidden(policy: RbacPolicy, a: Attributes): Obj {
  const [resource] = a.resource.split('/');
  const what = a.name ? `${resource} "${a.name}"` : resource;
  const scope = a.namespace ? ` in the namespace "${a.namespace}"` : ' at the cluster scope';
  const message = `${what} is forbidden: User "${policy.user}" cannot ${a.verb} resource "${a.resource}" in API group "${a.group}"${scope}`;
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason: 'Forbidden',
    details: { ...(a.name ? { name: a.name } : {}), ...(a.group ? { group: a.group } : {}), kind: resource },
    code: 403,
  };
}

/** `field not declared in schema` for each unknown field, or undefined when the object is clean. */
export function unknownFieldError(obj: Obj, namespace: string | undefined): string | undefined {
  const found = unknownFieldFindings(obj as KubeObject);
  if (found.length === 0) return undefined;
  const paths = found.map((f) => {
    const p = (f.path ?? []).map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`)).join('');
    return `${p}: field not declared in schema`;
  });
  const [group, version] = obj.apiVersion.includes('/') ? obj.apiVersion.split('/') : ['', obj.apiVersion];
  const id = `${namespace ?? ''}/${obj.metadata?.name}; ${group ? `${group}/` : '/'}${version}, Kind=${obj.kind}`;
  return `failed to create typed patch object (${id}): ${paths.length === 1 ? paths[0] : `errors:\n  ${paths.join('\n  ')}`}`;
}

/** The 422 a changed Job pod template gets, or undefined. Compared after defaulting, as the apiserver does. */
export function jobTemplateImmutable(next: Obj, existing: Obj | undefined): Obj | undefined {
  if (next.kind !== 'Job' || !existing) return undefined;
  if (JSON.stringify(next.spec?.template) === JSON.stringify(existing.spec?.template)) return undefined;
  const cause = 'Invalid value: core.PodTemplateSpec{...}: field is immutable';
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: `Job.batch "${next.metadata.name}" is invalid: spec.template: ${cause}`,
    reason: 'Invalid',
    details: {
      name: next.metadata.name,
      group: 'batch',
      kind: 'Job',
      causes: [{ reason: 'FieldValueInvalid', message: cause, field: 'spec.template' }],
    },
    code: 422,
  };
}
