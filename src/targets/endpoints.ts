import type { Stack } from '../catalog/types.ts';
import { UsageError } from '../util/errors.ts';
import { addSecret, redactUrl } from '../util/redact.ts';

/**
 * `--endpoint NAME=URL` values for target local. NAME is a component (its default endpoint)
 * or COMPONENT.ENDPOINT. Returns a map keyed `component.endpoint`.
 */
export function parseEndpointFlags(stack: Stack, flags: readonly string[]): Map<string, URL> {
  const out = new Map<string, URL>();
  for (const flag of flags) {
    const eq = flag.indexOf('=');
    if (eq <= 0) {
      // the value may hold a password in a form no URL parser recognises: do not echo it
      const shown = flag.includes('@') ? '(value hidden: it may hold a password)' : `"${flag}"`;
      throw new UsageError(
        `--endpoint ${shown} must be NAME=URL, e.g. postgres=postgresql://127.0.0.1:5432/postgres`,
      );
    }
    const name = flag.slice(0, eq).trim();
    const raw = flag.slice(eq + 1).trim();
    const [componentName, endpointName] = name.split('.', 2) as [string, string | undefined];
    const component = stack.components[componentName];
    if (!component) {
      throw new UsageError(
        `--endpoint ${name}: unknown component "${componentName}"; components: ${Object.keys(stack.components).join(', ')}`,
      );
    }
    if (component.endpoints.length === 0)
      throw new UsageError(
        `--endpoint ${name}: component "${componentName}" has no endpoints in the catalog`,
      );
    const endpoint = endpointName
      ? component.endpoints.find((e) => e.name === endpointName)
      : component.endpoints[0];
    if (!endpoint) {
      throw new UsageError(
        `--endpoint ${name}: component "${componentName}" has no endpoint "${endpointName}"; it has ${component.endpoints.map((e) => e.name).join(', ')}`,
      );
    }
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new UsageError(`--endpoint ${name}: malformed URL "${redactUrl(raw)}"`);
    }
    if (!url.hostname) throw new UsageError(`--endpoint ${name}: URL "${redactUrl(raw)}" has no host`);
    if (url.password) addSecret(decodeURIComponent(url.password));
    out.set(`${componentName}.${endpoint.name}`, url);
  }
  return out;
}
