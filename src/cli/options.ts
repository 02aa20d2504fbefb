import { Option } from 'commander';
import { fromFlag, type Setting } from '../app/settings.ts';

/** Commander parser for a repeatable flag that collects its values. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** A flag's value as a setting that names the flag in every error. */
export const flag = <T>(name: string, value: T): Setting<T> => fromFlag(name, value);

export const catalogOption = () =>
  new Option('--catalog <file>', 'the stack catalog').default('manifests/stack.yaml').env('KINDLING_CATALOG');

/** Target kube/local flags shared by verify, backup, restore and backups verify. */
export const targetFlags = (o: {
  target: string;
  endpoint?: string[];
  kubeconfig?: string;
  context?: string;
}) => ({
  target: flag('--target', o.target),
  endpoints: flag('--endpoint', o.endpoint ?? []),
  kubeconfig: flag('--kubeconfig', o.kubeconfig),
  context: flag('--context', o.context),
});

/** Store flags shared by the backup commands (credentials come from AWS_* in the environment). */
export const storeFlags = (o: { store?: string; s3Endpoint?: string }) => ({
  store: flag('--store', o.store),
  s3Endpoint: flag('--s3-endpoint', o.s3Endpoint),
});
