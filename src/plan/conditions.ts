/**
 * Condition and selector helpers with kubectl-wait semantics: condition type and status compare
 * case-insensitively, and a condition observed for an older generation does not count.
 */

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

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** Label selector semantics of the API server; an empty selector matches nothing (never "all pods"). */
export function selectorMatches(
  selector: LabelSelector | undefined,
  labels: Record<string, string> = {},
): boolean {
  if (!selector) return false;
  const ml = Object.entries(selector.matchLabels ?? {});
  const me = selector.matchExpressions ?? [];
  if (ml.length === 0 && me.length === 0) return false;
  for (const [k, v] of ml) if (labels[k] !== v) return false;
  for (const e of me) {
    const has = Object.hasOwn(labels, e.key);
    const values = e.values ?? [];
    switch (e.operator) {
      case 'In':
        if (!has || !values.includes(labels[e.key]!)) return false;
        break;
      case 'NotIn':
        if (has && values.includes(labels[e.key]!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
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
