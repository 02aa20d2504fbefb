import { UsageError } from '../util/errors.ts';
import { grafanaAdminRotator } from './grafana-admin.ts';
import { milvusUserRotator } from './milvus-user.ts';
import { minioRootRotator } from './minio-root.ts';
import { mysqlUserRotator } from './mysql-user.ts';
import { nacosUserRotator } from './nacos-user.ts';
import { postgresRoleRotator } from './postgres-role.ts';
import { redisPasswordRotator } from './redis-password.ts';
import type { Rotator } from './types.ts';

/** Every rotation type by name: a new kind of credential is one file and one line here. */
export const rotators: ReadonlyMap<string, Rotator> = new Map(
  [
    postgresRoleRotator,
    redisPasswordRotator,
    mysqlUserRotator,
    grafanaAdminRotator,
    nacosUserRotator,
    milvusUserRotator,
    minioRootRotator,
  ].map((r) => [r.type, r]),
);

export function rotatorFor(type: string): Rotator {
  const r = rotators.get(type);
  if (!r) throw new UsageError(`unknown rotation type "${type}"; known: ${[...rotators.keys()].join(', ')}`);
  return r;
}
