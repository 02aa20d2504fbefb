import mysql from 'mysql2/promise';
import { unknownParams, within } from './params.ts';
import type { Login, Rotator, RotatorContext } from './types.ts';

/**
 * `type: mysql-user` — a MySQL or MariaDB account changes its own password, which needs no
 * privilege: on MySQL 8 `ALTER USER USER() IDENTIFIED BY …` (MySQL 8.0 reference "ALTER USER
 * Statement"; MySQL 8 has no PASSWORD() function), on MariaDB `SET PASSWORD = PASSWORD(…)`
 * (MariaDB "SET PASSWORD"). MariaDB 10.11 accepts `ALTER USER CURRENT_USER() IDENTIFIED BY …`
 * without an error yet leaves the password unchanged (seen on this platform's 10.11.19; the
 * rotation's testSecret caught it), hence the dialect check. Existing connections stay open: the
 * password is checked when a connection is made.
 */
export const mysqlUserRotator: Rotator = {
  type: 'mysql-user',
  params: [],
  validate: (spec) => unknownParams(spec, []),
  login: async (ctx, password) => {
    let conn: mysql.Connection | undefined;
    try {
      conn = await within(ctx.timeoutMs, 'MySQL login', connect(ctx, password));
      await within(ctx.timeoutMs, 'MySQL SELECT 1', conn.query('SELECT 1'));
      return 'accepted';
    } catch (err) {
      // ER_ACCESS_DENIED_ERROR (1045): wrong user or password
      if ((err as { errno?: number }).errno === 1045) return 'rejected' as Login;
      throw err;
    } finally {
      await conn?.end().catch(() => {});
    }
  },
  set: async (ctx, current, next) => {
    const conn = await within(ctx.timeoutMs, 'MySQL login', connect(ctx, current));
    try {
      // client-side escaping (query, not execute): neither statement takes server-side placeholders
      const [rows] = await within(ctx.timeoutMs, 'SELECT VERSION()', conn.query('SELECT VERSION() AS v'));
      const mariadb = /mariadb/i.test(String((rows as { v?: string }[])[0]?.v));
      await within(
        ctx.timeoutMs,
        'set password',
        mariadb
          ? conn.query('SET PASSWORD = PASSWORD(?)', [next])
          : conn.query('ALTER USER USER() IDENTIFIED BY ?', [next]),
      );
    } finally {
      await conn.end().catch(() => {});
    }
  },
};

function connect(ctx: RotatorContext, password: string): Promise<mysql.Connection> {
  return mysql.createConnection({
    host: ctx.url.hostname.replace(/^\[|\]$/g, ''),
    port: Number(ctx.url.port || 3306),
    user: ctx.user,
    password,
    connectTimeout: ctx.timeoutMs,
  });
}
