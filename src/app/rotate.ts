import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { loadStack } from '../catalog/index.ts';
import { resolveSelection } from '../catalog/resolve.ts';
import { type RotationResult, rotate } from '../rotate/run.ts';
import { STEPS, type Step } from '../rotate/types.ts';
import { parseEndpointFlags } from '../targets/endpoints.ts';
import { parseDuration } from '../util/duration.ts';
import { UsageError } from '../util/errors.ts';
import { redact } from '../util/redact.ts';

export interface RotateRequest {
  catalog: string;
  /** Components (or profiles: their members that have a `rotation:`), comma separated. */
  components?: string;
  target: string;
  endpoints: readonly string[];
  writeSecrets?: string;
  timeout: string;
  /** Target kube: a kubeconfig path (empty: $KUBECONFIG or ~/.kube/config) and context. */
  kubeconfig?: string;
  context?: string;
  /** Target kube: the stack's namespace when it is not the catalog's. */
  namespace?: string;
  /** Target kube: how long the restarted workloads may take to be ready again (default 5m). */
  readyTimeout?: string;
}

export interface RotateHooks {
  log?: (line: string) => void;
  afterStep?: (step: Step, key: string) => void;
}

/**
 * `kindling rotate`: rotates the catalog's credentials of the selected components, resumably.
 * Target local: the services at the `--endpoint` URLs. Target kube: through port-forwards, the
 * current credential from the stack's Secret; once the service takes the new one, the Secret key is
 * applied and the workloads reading it restarted (src/rotate/kube-target.ts). The new credentials
 * go to the secrets file, never to output.
 */
export async function rotateStack(req: RotateRequest, hooks: RotateHooks = {}): Promise<RotationResult[]> {
  if (req.target !== 'local' && req.target !== 'kube')
    throw new UsageError(`unknown target "${req.target}" (kube, local)`, '--target');
  if (req.target === 'kube' && req.endpoints.length)
    throw new UsageError(
      'is for target local; target kube reaches components through the cluster',
      '--endpoint',
    );
  if (!req.writeSecrets)
    throw new UsageError(
      'is required: the file (mode 0600) that receives the new credentials',
      '--write-secrets',
    );
  const file = resolve(req.writeSecrets);
  if (!existsSync(dirname(file)) || !statSync(dirname(file)).isDirectory())
    throw new UsageError(`directory ${dirname(req.writeSecrets)} does not exist`, '--write-secrets');
  if (existsSync(file) && statSync(file).isDirectory())
    throw new UsageError(`${req.writeSecrets} is a directory`, '--write-secrets');
  if (!req.components)
    throw new UsageError('is required: the components whose credentials rotate', '--components');
  if (req.namespace !== undefined && req.target !== 'kube')
    throw new UsageError('is for target kube', '--namespace');
  // a namespace name is an RFC 1123 label (kubernetes.io/docs/concepts/overview/working-with-objects/names/)
  if (req.namespace !== undefined && !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(req.namespace))
    throw new UsageError(
      `"${req.namespace}" is not a namespace name (lower-case letters, digits and '-', at most 63)`,
      '--namespace',
    );
  const timeoutMs = parseDuration(req.timeout, '--timeout');
  const readyTimeoutMs = parseDuration(req.readyTimeout ?? '5m', '--ready-timeout');
  const loaded = loadStack(req.catalog);
  const stack = req.namespace ? { ...loaded, namespace: req.namespace } : loaded;
  const endpoints =
    req.target === 'local' ? parseEndpointFlags(stack, req.endpoints) : new Map<string, URL>();
  const names = new Set<string>();
  for (const word of req.components
    .split(',')
    .map((w) => w.trim())
    .filter(Boolean)) {
    if (Object.hasOwn(stack.components, word)) names.add(word);
    else for (const c of resolveSelection(stack, word)) if (c.rotation?.length) names.add(c.name);
  }
  const log = hooks.log && ((line: string) => hooks.log!(redact(line)));
  const kube =
    req.target === 'kube'
      ? await (await import('../rotate/kube-target.ts')).kubeRotation(
          (await import('../kube/config.ts')).loadKubeConfig({
            ...(req.kubeconfig ? { path: req.kubeconfig } : {}),
            ...(req.context ? { context: req.context } : {}),
          }),
          stack,
          [...names],
          { timeoutMs, readyTimeoutMs, ...(log ? { log } : {}) },
        )
      : undefined;
  try {
    return await rotate({
      stack,
      components: [...names],
      endpoints: kube?.endpoints ?? endpoints,
      secretsFile: file,
      timeoutMs,
      afterStep: hooks.afterStep,
      log,
      ...(kube ? { publish: kube.publish, inPod: kube.inPod } : {}),
    });
  } finally {
    await kube?.close();
  }
}

/** `KINDLING_FAULT_ROTATE_AFTER=<step>`: the step after which the tests crash the process. */
export function faultStep(value: string | undefined): Step | undefined {
  if (!value) return undefined;
  if (!(STEPS as readonly string[]).includes(value))
    throw new UsageError(`KINDLING_FAULT_ROTATE_AFTER must be one of ${STEPS.join(', ')}`);
  return value as Step;
}
