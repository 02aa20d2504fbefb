/**
 * The URL of a backup's endpoint, wherever the target is: the `--endpoint` URL on target local, a
 * port-forward to the endpoint's Service port on target kube (the target owns and closes it). No
 * exec: the API-based sources work on images without a shell. Credentials come from the URL
 * (local) or the Secrets the catalog names (kube; registered as secrets, never printed).
 */
import type { BackupSpec, Component } from '../../catalog/types.ts';
import { UsageError } from '../../util/errors.ts';
import type { TargetAccess } from '../types.ts';
import { localEndpoint } from './common.ts';

export async function endpointUrl(
  target: TargetAccess,
  component: Component,
  spec: BackupSpec,
): Promise<URL> {
  if (target.kind === 'local') return localEndpoint(target, component, spec);
  const ep = component.endpoints.find((e) => e.name === spec.endpoint) ?? component.endpoints[0];
  if (!ep) throw new UsageError(`backup "${spec.name}" of ${component.name}: the component has no endpoint`);
  return target.resolve(component, ep);
}

/** `http://user:pass@host:port/…` → the origin plus a Basic authorization header (if any). */
export function httpAuth(url: URL): { origin: string; headers: Record<string, string> } {
  const headers: Record<string, string> = {};
  if (url.username || url.password) {
    const user = decodeURIComponent(url.username);
    const pass = decodeURIComponent(url.password);
    headers.authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
  }
  return { origin: url.origin, headers };
}
