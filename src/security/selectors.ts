/**
 * Label selectors as the API defines them (apimachinery `pkg/apis/meta/v1/types.go` LabelSelector;
 * docs "Labels and Selectors"): matchLabels and matchExpressions are ANDed; an empty selector
 * matches everything; `null`/absent is decided by the caller (it means "nothing" for a NetworkPolicy
 * peer field that is not set, "everything" for `spec.podSelector: {}`).
 */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

export type Labels = Readonly<Record<string, string>>;

export function matches(selector: LabelSelector, labels: Labels): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
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
        return false; // the API rejects unknown operators; never widen a policy on one
    }
  }
  return true;
}

/** The labels every set has in common: a selector for all of them (undefined for none). */
export function commonLabels(sets: readonly Labels[]): Record<string, string> | undefined {
  if (sets.length === 0) return undefined;
  const out: Record<string, string> = { ...sets[0] };
  for (const s of sets.slice(1)) for (const k of Object.keys(out)) if (s[k] !== out[k]) delete out[k];
  return out;
}
