/**
 * Condition and selector helpers with kubectl-wait semantics: condition type and status compare
 * case-insensitively, and a condition observed for an older generation does not count.
 */
import { type LabelSelector, matches } from '../security/selectors.ts';

export type { LabelSelector };

/** Any object as read from the API: plain JSON (timestamps as ISO strings). */
// biome-ignore lint/suspicious/noExplicitAny: API objects are open JSON; each rule narrows what it reads
export type Obj = Record<string, any>;

export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  observedGeneration?: number;
}

/** The object's condition of `type`, if it is current (not observed for an older generation). */
export function currentCondition(obj: Obj, type: string): Condition | undefined {
  const conditions: Condition[] = obj?.status?.conditions ?? [];
  const generation: number | undefined = obj?.metadata?.generation;
  const statusGen: number | undefined = obj?.status?.observedGeneration;
  const wanted = type.toLowerCase();
  for (const c of conditions) {
    if (String(c.type).toLowerCase() !== wanted) continue;
    const seen = c.observedGeneration ?? statusGen;
    if (generation !== undefined && seen !== undefined && seen < generation) return undefined;
    return c;
  }
  return undefined;
}

/** True when the object has a current condition `type` with `status` (both case-insensitive). */
export function conditionIs(obj: Obj, type: string, status: 'True' | 'False' | 'Unknown'): boolean {
  const c = currentCondition(obj, type);
  return c !== undefined && String(c.status).toLowerCase() === status.toLowerCase();
}

/** Label selector semantics of the API server; an empty selector matches nothing (never "all pods"). */
export function selectorMatches(
  selector: LabelSelector | undefined,
  labels: Record<string, string> = {},
): boolean {
  if (!selector) return false;
  // kindling never selects "all pods" with an empty selector; otherwise the API's semantics, shared
  // with the NetworkPolicy evaluator
  if (Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0)
    return false;
  return matches(selector, labels);
}

/** Milliseconds since the epoch for an API timestamp (string, or a Date from a typed client model). */
export function timeOf(t: unknown): number | undefined {
  if (t instanceof Date) return t.getTime();
  if (typeof t === 'string' && t) {
    const ms = Date.parse(t);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}
