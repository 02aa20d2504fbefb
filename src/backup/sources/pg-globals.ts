/**
 * The PostgreSQL globals (`pg_dumpall --globals-only`) as restored into another server.
 *
 * pg_dumpall writes every role as `CREATE ROLE name;` then `ALTER ROLE name WITH … PASSWORD '…';`
 * (src/bin/pg_dump/pg_dumpall.c dumpRoles). Replayed as is, that also sets the password of the role
 * kindling is connected as to the source cluster's: the target's own Secret (and the next
 * connection — a drill's scratch server, a green PostgreSQL) is then locked out. So the connecting
 * role keeps the target's password; every other role gets the source's, as a restore should.
 */

/** The role name as pg_dumpall writes it: bare when it is a plain lower-case identifier, else quoted. */
function roleToken(role: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(role) ? role : `"${role.replace(/"/g, '""')}"`;
}

/** `sql` with the PASSWORD clause removed from the ALTER ROLE statement(s) of `role`. */
export function keepOwnPassword(sql: string, role: string): { sql: string; kept: boolean } {
  const token = roleToken(role).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  // PASSWORD 'literal' (quotes doubled inside) or PASSWORD NULL; one statement per line in pg_dumpall
  const line = new RegExp(`^(ALTER ROLE ${token} WITH .*?) PASSWORD (?:'(?:[^']|'')*'|NULL)(.*;)$`, 'gm');
  let kept = false;
  const out = sql.replace(line, (_m, head: string, tail: string) => {
    kept = true;
    return `${head}${tail}`;
  });
  return { sql: out, kept };
}
