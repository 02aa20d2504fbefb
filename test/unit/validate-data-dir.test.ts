import { describe, expect, it } from 'vitest';
import type { DataDirectoryRule } from '../../src/catalog/types.ts';
import { dataDirectory, dataDirFindings, imageName } from '../../src/manifests/data-dirs.ts';
import type { KubeObject } from '../../src/manifests/render.ts';

// Rule `data-dir`: a database must not keep its files at a volume's root (ext4 lost+found: MySQL 8's
// --initialize and PostgreSQL's initdb refuse a non-empty directory; docker-library/mysql and
// docker-library/postgres docker-entrypoint.sh docker_init_database_dir). The rules are catalog data.
const RULES: DataDirectoryRule[] = [
  { image: 'mysql', arg: '--datadir', default: '/var/lib/mysql' },
  { image: 'postgres', env: 'PGDATA', default: '/var/lib/postgresql/data' },
];

const sts = (container: Record<string, unknown>, volumes?: unknown[]): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'StatefulSet',
  metadata: { name: 'db', namespace: 'demo' },
  spec: {
    template: { spec: { containers: [{ name: 'db', ...container }], ...(volumes ? { volumes } : {}) } },
    volumeClaimTemplates: [{ metadata: { name: 'data' } }],
  },
});
const paths = (o: KubeObject) => dataDirFindings([o], RULES).map((f) => (f.path ?? []).join('.'));

describe('data-dir: a database data directory is never the mount point of its volume', () => {
  it('names images as the registry does', () => {
    expect(imageName('mysql:8.0.40')).toBe('mysql');
    expect(imageName('docker.io/library/postgres:16.6-alpine')).toBe('postgres');
    expect(imageName('quay.io/org/db@sha256:abc')).toBe('quay.io/org/db');
    expect(imageName('registry.local:5000/mysql')).toBe('registry.local:5000/mysql');
  });

  it('takes the directory from the env var, then the option (both spellings), then the default', () => {
    expect(dataDirectory({ env: [{ name: 'PGDATA', value: '/d/pg' }] }, RULES[1]!).dir).toBe('/d/pg');
    expect(dataDirectory({ args: ['--datadir=/d/my'] }, RULES[0]!).dir).toBe('/d/my');
    expect(dataDirectory({ command: ['mysqld', '--datadir', '/d/my2'] }, RULES[0]!).dir).toBe('/d/my2');
    expect(dataDirectory({}, RULES[0]!)).toEqual({ dir: '/var/lib/mysql', from: "the image's default" });
  });

  it('reports MySQL at its default directory on the volume root, and not once it uses a subdirectory', () => {
    const mount = { volumeMounts: [{ name: 'data', mountPath: '/var/lib/mysql/' }] };
    expect(paths(sts({ image: 'mysql:8.0.40', ...mount }))).toEqual([
      'spec.template.spec.containers.0.volumeMounts.0.mountPath',
    ]);
    expect(paths(sts({ image: 'mysql:8.0.40', args: ['--datadir=/var/lib/mysql/data'], ...mount }))).toEqual(
      [],
    );
    expect(
      paths(
        sts({
          image: 'mysql:8.0.40',
          ...mount,
          volumeMounts: [{ ...mount.volumeMounts[0], subPath: 'mysql' }],
        }),
      ),
    ).toEqual([]);
  });

  it('reports PGDATA on a claim volume root, not on an emptyDir, not for other images', () => {
    const pg = { env: [{ name: 'PGDATA', value: '/pg' }], volumeMounts: [{ name: 'v', mountPath: '/pg' }] };
    expect(
      paths(sts({ image: 'postgres:16', ...pg }, [{ name: 'v', persistentVolumeClaim: { claimName: 'c' } }])),
    ).toHaveLength(1);
    expect(paths(sts({ image: 'postgres:16', ...pg }, [{ name: 'v', emptyDir: {} }]))).toEqual([]);
    expect(
      paths(sts({ image: 'redis:7', ...pg }, [{ name: 'v', persistentVolumeClaim: { claimName: 'c' } }])),
    ).toEqual([]);
    expect(
      dataDirFindings(
        [sts({ image: 'mysql:8', volumeMounts: [{ name: 'data', mountPath: '/var/lib/mysql' }] })],
        [],
      ),
    ).toEqual([]);
  });
});
