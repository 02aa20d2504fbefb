import type { RotationSpec } from './types.ts';

const COMMON = ['name', 'type', 'endpoint', 'user', 'secret'];

/** Keys a rotation type does not know (a typo must not pass silently). */
export function unknownParams(spec: RotationSpec, own: readonly string[]): string[] {
  return Object.keys(spec)
    .filter((k) => !COMMON.includes(k) && !own.includes(k))
    .map(
      (k) =>
        `unknown parameter "${k}" for rotation type ${spec.type} (known: ${[...COMMON, ...own].join(', ')})`,
    );
}

/** Rejects `promise` after `ms` (every network call of a rotation is bounded). */
export async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(Object.assign(new Error(`${what} timed out after ${ms}ms`), { code: 'ETIMEDOUT' })),
      ms,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
