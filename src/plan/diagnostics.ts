/**
 * What to collect when a rollout fails: decided here (pure), fetched by src/kube/diagnostics.ts.
 */

import { formatDuration } from '../util/duration.ts';
import { FailedError } from '../util/errors.ts';
import type { ComponentVerdict, Snapshot } from './component.ts';
import { liveKey, podsOf } from './component.ts';
import type { Obj } from './conditions.ts';
import { eventTime } from './readiness.ts';

export interface LogRequest {
  namespace: string;
  pod: string;
  container: string;
  previous: boolean;
}

export interface DiagnosticsRequest {
  /** Objects to write describe-equivalent YAML for (kind/namespace/name). */
  describe: { kind: string; namespace: string; name: string }[];
  logs: LogRequest[];
}

export interface ComponentOutcome {
  name: string;
  verdict: ComponentVerdict;
  /** ms from apply to ready, or to the failure. */
  elapsedMs: number;
  /** Set when the per-component deadline passed. */
  timedOut?: boolean;
}

/** Failing (or not-ready) objects, their pods, and their containers' logs — current, and previous after a restart. */
export function diagnosticsFor(failed: readonly ComponentOutcome[], snap: Snapshot): DiagnosticsRequest {
  const describe = new Map<string, { kind: string; namespace: string; name: string }>();
  const logs: LogRequest[] = [];
  for (const outcome of failed) {
    for (const { target, verdict } of outcome.verdict.targets) {
      if (verdict.state === 'ready') continue;
      describe.set(liveKey(target.kind, target.namespace, target.name), target);
      const live = snap.objects.get(liveKey(target.kind, target.namespace, target.name));
      if (!live?.spec?.selector) continue;
      for (const pod of podsOf(live, snap.pods)) {
        const ns = pod.metadata.namespace;
        describe.set(liveKey('Pod', ns, pod.metadata.name), {
          kind: 'Pod',
          namespace: ns,
          name: pod.metadata.name,
        });
        const statuses: Obj[] = [
          ...(pod.status?.initContainerStatuses ?? []),
          ...(pod.status?.containerStatuses ?? []),
        ];
        for (const cs of statuses) {
          // a container that never started has no logs; asking only produces an error
          if (cs.state?.running || cs.state?.terminated)
            logs.push({ namespace: ns, pod: pod.metadata.name, container: cs.name, previous: false });
          if ((cs.restartCount ?? 0) > 0 || cs.lastState?.terminated)
            logs.push({ namespace: ns, pod: pod.metadata.name, container: cs.name, previous: true });
        }
      }
    }
  }
  return { describe: [...describe.values()], logs };
}

/** Events oldest first, so the story reads top to bottom. */
export function sortEvents(events: readonly Obj[]): Obj[] {
  return [...events].sort((a, b) => eventTime(a) - eventTime(b));
}

/** One line per event, like `kubectl get events`. */
export function formatEvent(e: Obj): string {
  const t = eventTime(e);
  const obj = e.involvedObject ?? e.regarding ?? {};
  const when = t ? new Date(t).toISOString() : '-';
  return `${when}  ${e.type ?? ''}  ${e.reason ?? ''}  ${obj.kind ?? ''}/${obj.name ?? ''}  ${(e.message ?? e.note ?? '').replace(/\s+/g, ' ')}`;
}

/** The describe-equivalent document: the object without noise, plus the events about it. */
export function describeDoc(obj: Obj, events: readonly Obj[]): Obj {
  const { managedFields: _m, ...metadata } = obj.metadata ?? {};
  const about = sortEvents(
    events.filter((e) => {
      const o = e.involvedObject ?? e.regarding;
      return o?.kind === obj.kind && o?.name === obj.metadata?.name;
    }),
  );
  return { ...obj, metadata, events: about.map(formatEvent) };
}

/** ONE error naming each failed component and why. */
export function rolloutError(failed: readonly ComponentOutcome[], diagnosticsDir?: string): FailedError {
  const problems = failed.map((f) => {
    const why = f.timedOut
      ? `not ready after ${formatDuration(f.elapsedMs)}: ${f.verdict.reasons.join('; ')}`
      : f.verdict.reasons.join('; ');
    return `${f.name}: ${why}`;
  });
  const where = diagnosticsDir ? ` (diagnostics in ${diagnosticsDir})` : '';
  return new FailedError(`${failed.length} component(s) failed to become ready${where}`, problems);
}
