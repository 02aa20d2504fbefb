/**
 * Secrets never reach output: URLs lose their password, and known secret values are masked
 * wherever they appear. The actions also register each secret with `core.setSecret`.
 */
const secrets = new Set<string>();

/** Remembers a secret value so `redact` masks it from then on. */
export function addSecret(value: string | undefined): void {
  if (value && value.length >= 3) secrets.add(value);
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
