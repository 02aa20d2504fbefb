import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { SecretRef } from '../catalog/types.ts';
import { UsageError } from '../util/errors.ts';
import type { Step } from './types.ts';

/**
 * The secrets file (`--write-secrets FILE`, mode 0600): the credentials `kindling rotate` made,
 * and the rotation state. It plays the part of Secrets Manager's versions: `current` (AWSCURRENT),
 * `pending` (AWSPENDING, recorded before the service is changed), `previous` (AWSPREVIOUS).
 * A pending credential left by a crash is finished or rolled back by the next run.
 */
export interface CredentialState {
  component: string;
  rotation: string;
  user: string;
  /** The stack's Secret holding this credential (for target kube and for the reader of the file). */
  secret?: SecretRef;
  current?: string;
  pending?: string;
  previous?: string;
  /** The last step completed. */
  step?: Step;
  updatedAt: string;
}

export interface SecretsFile {
  kind: 'kindling-rotated-secrets';
  version: 1;
  credentials: Record<string, CredentialState>;
}

export const credentialKey = (component: string, rotation: string) => `${component}/${rotation}`;

export function readSecretsFile(file: string): SecretsFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      return { kind: 'kindling-rotated-secrets', version: 1, credentials: {} };
    throw new UsageError(
      `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`,
      '--write-secrets',
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new UsageError(`${file} is not a kindling secrets file (not JSON)`, '--write-secrets');
  }
  const d = data as Partial<SecretsFile>;
  if (
    d?.kind !== 'kindling-rotated-secrets' ||
    d.version !== 1 ||
    typeof d.credentials !== 'object' ||
    !d.credentials
  )
    throw new UsageError(`${file} is not a kindling secrets file (kind/version)`, '--write-secrets');
  return d as SecretsFile;
}

/**
 * Replaces the file atomically: a 0600 temp file in the same directory, fsynced, renamed over the
 * old one, then the directory fsynced — a crash leaves the old state or the new, never half of one.
 */
export function writeSecretsFile(file: string, data: SecretsFile): void {
  const tmp = join(dirname(file), `.${process.pid}.${Date.now()}.kindling-secrets.tmp`);
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, `${JSON.stringify(data, null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  try {
    const dir = openSync(dirname(file), 'r');
    fsyncSync(dir);
    closeSync(dir);
  } catch {
    // directories cannot be fsynced on every platform; the rename is still atomic
  }
}
