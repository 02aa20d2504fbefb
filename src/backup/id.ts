import { randomBytes } from 'node:crypto';

/**
 * Backup ids sort by time and never collide: UTC start time to the second plus 48 random bits,
 * e.g. `20260114T031502Z-9f3a2c81d4e0`. Two overlapping runs in the same second still differ.
 */
export function newBackupId(now: Date = new Date(), random: Buffer = randomBytes(6)): string {
  const t = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${t}-${random.toString('hex')}`;
}

const ID = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z-[0-9a-f]{6,}$/;

export function isBackupId(text: string): boolean {
  return ID.test(text);
}

/** The start time encoded in an id, or undefined for something that is not a backup id. */
export function backupIdTime(id: string): Date | undefined {
  const m = ID.exec(id);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m;
  return new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)));
}
