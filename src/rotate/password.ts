import { randomInt } from 'node:crypto';

/**
 * Letters and digits only: accepted by every service of the stack and by everything a password
 * passes through — URLs (no `@:/?#%`), shell and Kubernetes `$(VAR)` expansion (no `$`), SQL string
 * literals (no quotes or backslashes), env files, Redis' protocol. 62 symbols: 32 characters carry
 * 190 bits, and stay inside MinIO's 8-40 character limit for its root password.
 */
export const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
export const MIN_LENGTH = 24;

/** A password from node:crypto's CSPRNG; randomInt draws without modulo bias. */
export function generatePassword(length = 32): string {
  if (!Number.isInteger(length) || length < MIN_LENGTH)
    throw new RangeError(`a rotated password has at least ${MIN_LENGTH} characters`);
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHABET[randomInt(ALPHABET.length)];
  return out;
}
