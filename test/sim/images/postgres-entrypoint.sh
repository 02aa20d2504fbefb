#!/bin/sh
# Simulation (test infrastructure): the postgres image's entrypoint, as docker-library/postgres
# `docker-entrypoint.sh` (16/alpine) behaves, run with this machine's PostgreSQL 15 binaries:
# `-x` arguments mean `postgres -x`; an empty PGDATA is initialised with POSTGRES_USER/PASSWORD
# (refused without a password), listen_addresses '*' (the image's postgresql.conf.sample) and
# `host all all all scram-sha-256`; /docker-entrypoint-initdb.d/*.sql|*.sh run once against a
# temporary socket-only server; then `exec postgres "$@"`. pg_hba.conf as the image leaves it:
# docker_init_database_dir runs initdb without --auth (initdb's default: trust for local, 127.0.0.1/32
# and ::1/128), then pg_setup_hba_conf appends `host all all all $POSTGRES_HOST_AUTH_METHOD`
# (scram-sha-256 unless set) — so loopback is trusted and every other address needs the password.
set -eu
PGBIN=/usr/lib/postgresql/15/bin
if [ "${1#-}" != "$1" ]; then set -- postgres "$@"; fi
if [ "$1" != postgres ]; then exec "$@"; fi
shift
: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"
: "${PGDATA:=/var/lib/postgresql/data}"
export PGDATA
mkdir -p "$PGDATA"
chmod 700 "$PGDATA"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "${POSTGRES_HOST_AUTH_METHOD:-}" != trust ]; then
    echo 'Error: Database is uninitialized and superuser password is not specified.' >&2
    echo '       You must specify POSTGRES_PASSWORD to a non-empty value for the' >&2
    echo '       superuser. For example, "-e POSTGRES_PASSWORD=password" on "docker run".' >&2
    exit 1
  fi
  pw="$(mktemp)"
  printf '%s' "${POSTGRES_PASSWORD:-}" >"$pw"
  "$PGBIN/initdb" -D "$PGDATA" --username="$POSTGRES_USER" --pwfile="$pw" ${POSTGRES_INITDB_ARGS:-} >/dev/null
  rm -f "$pw"
  echo "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"
  printf '\nhost all all all %s\n' "${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}" >>"$PGDATA/pg_hba.conf"
  "$PGBIN/pg_ctl" -D "$PGDATA" -o "-c listen_addresses='' -p 5432" -w start >/dev/null
  if [ "$POSTGRES_DB" != postgres ]; then
    psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc --dbname postgres \
      -c "CREATE DATABASE \"$POSTGRES_DB\""
  fi
  for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
      *.sh) echo "$0: running $f"; . "$f" ;;
      *.sql) echo "$0: running $f"; psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc --dbname "$POSTGRES_DB" -f "$f" ;;
      *) [ -e "$f" ] && echo "$0: ignoring $f" ;;
    esac
  done
  "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
  echo 'PostgreSQL init process complete; ready for start up.'
fi
exec "$PGBIN/postgres" "$@"
