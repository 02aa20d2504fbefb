/**
 * Connections shared by the checks of one verify run (e.g. one PostgreSQL session for every SQL check
 * of an endpoint: one authentication instead of one per check). A failed connection is forgotten,
 * so the next attempt opens a fresh one.
 */
export interface RunScope {
  reuse<T>(key: string, open: () => Promise<T>, close: (value: T) => Promise<void>): Promise<T>;
  forget(key: string): void;
  closeAll(): Promise<void>;
}

export function createScope(): RunScope {
  const open = new Map<string, { value: Promise<unknown>; close: (v: unknown) => Promise<void> }>();
  const scope: RunScope = {
    reuse<T>(key: string, create: () => Promise<T>, close: (value: T) => Promise<void>): Promise<T> {
      const hit = open.get(key);
      if (hit) return hit.value as Promise<T>;
      const value = create();
      open.set(key, { value, close: close as (v: unknown) => Promise<void> });
      value.catch(() => scope.forget(key));
      return value;
    },
    forget(key) {
      const hit = open.get(key);
      if (!hit) return;
      open.delete(key);
      hit.value.then(hit.close, () => {}).catch(() => {});
    },
    async closeAll() {
      const all = [...open.values()];
      open.clear();
      await Promise.all(all.map((h) => h.value.then(h.close, () => {}).catch(() => {})));
    },
  };
  return scope;
}
