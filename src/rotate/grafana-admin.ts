import { basic, reason, request, under } from './http.ts';
import { unknownParams } from './params.ts';
import type { Rotator } from './types.ts';

/**
 * `type: grafana-admin` — a Grafana user changes its own password through the HTTP API:
 * `PUT /api/user/password` with basic auth and {oldPassword, newPassword, confirmNew}, 200
 * "User password changed", 401 "Invalid old password", 400 when the new one is too weak
 * (grafana/grafana pkg/api/user.go ChangeUserPassword; docs "User HTTP API", Change Password).
 * A login is `GET /api/user` with basic auth: 200 or 401. The Secret's GF_SECURITY_ADMIN_PASSWORD
 * only seeds the admin on Grafana's first start (docs "Configure Grafana", admin_password), so
 * only the API changes a running Grafana's password.
 */
export const grafanaAdminRotator: Rotator = {
  type: 'grafana-admin',
  params: [],
  validate: (spec) => unknownParams(spec, []),
  login: async (ctx, password) => {
    const r = await request(
      under(ctx.url, '/api/user'),
      { method: 'GET', headers: { authorization: basic(ctx.user, password) } },
      ctx.timeoutMs,
    );
    if (r.status === 200) return 'accepted';
    if (r.status === 401) return 'rejected';
    throw new Error(`Grafana GET /api/user: ${reason(r)}`);
  },
  set: async (ctx, current, next) => {
    const r = await request(
      under(ctx.url, '/api/user/password'),
      {
        method: 'PUT',
        headers: { authorization: basic(ctx.user, current), 'content-type': 'application/json' },
        body: JSON.stringify({ oldPassword: current, newPassword: next, confirmNew: next }),
      },
      ctx.timeoutMs,
    );
    if (r.status !== 200) throw new Error(`Grafana PUT /api/user/password: ${reason(r)}`);
  },
};
