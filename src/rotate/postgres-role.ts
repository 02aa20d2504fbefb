import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import pg from 'pg';
import { unknownParams, within } from './params.ts';
import type { Login, Rotator, RotatorContext } from './types.ts';

/**
 * `type: postgres-role` — `ALTER ROLE … PASSWORD` for a PostgreSQL role, logged in as that role.
 * The statement carries a SCRAM-SHA-256 verifier computed here, not the password: PostgreSQL
 * stores an already-encrypted password as given (docs "CREATE ROLE", PASSWORD), so the plaintext
 * never reaches the server's logs or pg_stat_activity. Sessions already open keep working:
 * PostgreSQL authenticates only when a connection starts.
 */
export const postgresRoleRotator: Rotator = {
  type: 'postgres-role',
  params: ['database'],
  validate: (spec) => [
    ...unknownParams(spec, postgresRoleRotator.params),
    ...(spec.database !== undefined && typeof spec.database !== 'string'
      ? ['database must be a string']
      : []),
  ],
  login: async (ctx, password) => {
    if (ctx.inPod) return podLogin(ctx, password);
    const client = clientFor(ctx, password);
    try {
      await within(ctx.timeoutMs, 'PostgreSQL login', client.connect());
      await within(ctx.timeoutMs, 'PostgreSQL SELECT 1', client.query('SELECT 1'));
      return 'accepted';
    } catch (err) {
      // 28P01 invalid_password, 28000 invalid_authorization_specification (no pg_hba entry / no password)
      const code = (err as { code?: string }).code;
      if (code === '28P01' || code === '28000') return 'rejected' as Login;
      // no password given where the server asks for one: pg refuses before sending anything
      if (password === '' && /client password must be a string/.test(String(err))) return 'rejected' as Login;
      throw err;
    } finally {
      await client.end().catch(() => {});
    }
  },
  set: async (ctx, current, next) => {
    const client = clientFor(ctx, current);
    try {
      await within(ctx.timeoutMs, 'PostgreSQL login', client.connect());
      const role = `"${ctx.user.replace(/"/g, '""')}"`;
      await within(
        ctx.timeoutMs,
        'ALTER ROLE',
        client.query(`ALTER ROLE ${role} PASSWORD '${scramVerifier(next)}'`),
      );
    } finally {
      await client.end().catch(() => {});
    }
  },
};

/**
 * Target kube: the postgres image's pg_hba trusts loopback (docker-library/postgres
 * docker-entrypoint.sh runs initdb without --auth, whose default is `trust` for local and
 * 127.0.0.1/::1, then pg_setup_hba_conf appends `host all all all scram-sha-256`), and a
 * port-forward arrives on loopback. So the login is psql inside the pod to the pod's own IP: that
 * source address matches the appended line, and the password is really checked. The password
 * travels on the exec's stdin into PGPASSWORD of psql's environment only; `-w` never prompts.
 */
async function podLogin(ctx: RotatorContext, password: string): Promise<Login> {
  const pod = await ctx.inPod!.resolve();
  const script =
    'IFS= read -r PGPASSWORD || true; export PGPASSWORD; exec psql -X -w -h "$1" -p "$2" -U "$3" -d "$4" -tAc "SELECT 1"';
  const r = await within(
    ctx.timeoutMs,
    'psql in the pod',
    pod.run(
      ['sh', '-c', script, 'sh', pod.podIP, String(pod.port), ctx.user, databaseOf(ctx)],
      `${password}\n`,
    ),
  );
  if (r.exitCode === 0 && r.stdout.trim() === '1') return 'accepted';
  // libpq: "password authentication failed for user", "fe_sendauth: no password supplied"
  if (/password authentication failed|no password supplied/.test(r.stderr)) return 'rejected';
  throw new Error(
    `psql in the pod (to ${pod.podIP}:${pod.port}) exited ${r.exitCode}: ${r.stderr.trim().split('\n')[0]?.slice(0, 200) ?? ''}`,
  );
}

const databaseOf = (ctx: RotatorContext) =>
  typeof ctx.spec.database === 'string'
    ? ctx.spec.database
    : decodeURIComponent(ctx.url.pathname.slice(1)) || 'postgres';

function clientFor(ctx: RotatorContext, password: string): pg.Client {
  // explicit fields, no connectionString: pg lets a connection string's (empty) password override
  const database = databaseOf(ctx);
  const client = new pg.Client({
    host: ctx.url.hostname.replace(/^\[|\]$/g, ''),
    port: Number(ctx.url.port || 5432),
    database,
    user: ctx.user,
    password,
    connectionTimeoutMillis: ctx.timeoutMs,
    application_name: 'kindling-rotate',
  });
  client.on('error', () => {});
  return client;
}

/**
 * The verifier PostgreSQL stores for SCRAM-SHA-256 (RFC 5802 / RFC 7677; postgres
 * src/common/scram-common.c scram_build_secret): `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`,
 * base64, 16-byte salt, 4096 iterations (PostgreSQL's default scram_iterations). The generated
 * passwords are ASCII letters and digits, which SASLprep leaves unchanged.
 */
export function scramVerifier(password: string, salt = randomBytes(16), iterations = 4096): string {
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}
