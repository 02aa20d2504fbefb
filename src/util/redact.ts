/**
 * Secrets never reach output: URLs lose their password, and known secret values are masked
 * wherever they appear. Only values that are secret by origin are registered — read from a
 * Kubernetes Secret, a secret input, a URL's password — never names written in the catalog (a
 * literal user name `postgres` masked would turn pod `postgres-0` into `***-0`). The actions pass
 * exactly these values on to `core.setSecret` through `onSecret`.
 */
const secrets = new Set<string>();
const listeners = new Set<(value: string) => void>();

/** Remembers a secret value so `redact` masks it from then on (and tells the `onSecret` listeners). */
export function addSecret(value: string | undefined): void {
  if (!value || value.length < 3 || secrets.has(value)) return;
  secrets.add(value);
  for (const l of listeners) l(value);
}

/** Calls `listener` for every secret registered so far and from now on (the actions: core.setSecret). */
export function onSecret(listener: (value: string) => void): () => void {
  listeners.add(listener);
  for (const s of secrets) listener(s);
  return () => listeners.delete(listener);
}

export function redactUrl(url: string | URL): string {
  try {
    const u = new URL(String(url));
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return String(url).replace(/\/\/([^:/@\s]*):([^@\s]+)@/g, '//$1:***@');
  }
}

/** Masks every registered secret and every `user:password@` in a text. */
export function redact(text: string): string {
  let out = text.replace(/\/\/([^:/@\s]*):([^@\s]+)@/g, '//$1:***@');
  for (const s of secrets) out = out.split(s).join('***');
  return out;
}
