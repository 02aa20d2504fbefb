#!/bin/sh
# Simulation (test infrastructure): the mysql:8.0 image's entrypoint, as docker-library/mysql
# `8.0/docker-entrypoint.sh` behaves, run with this machine's MariaDB (the MySQL stand-in):
# `-x` arguments mean `mysqld -x`; an uninitialised datadir (no `mysql/`) must be empty (MySQL 8's
# `--initialize` refuses a directory with files, e.g. lost+found) and needs MYSQL_ROOT_PASSWORD (or
# MYSQL_ALLOW_EMPTY_PASSWORD / MYSQL_RANDOM_ROOT_PASSWORD); root@'%', MYSQL_DATABASE and
# MYSQL_USER/MYSQL_PASSWORD are created on a temporary networkless server, then
# /docker-entrypoint-initdb.d/*.sql run in MYSQL_DATABASE; then the server is exec'd.
set -eu
if [ "${1#-}" != "$1" ]; then set -- mysqld "$@"; fi
if [ "$1" != mysqld ]; then exec "$@"; fi
shift
DATADIR=/var/lib/mysql
for a in "$@"; do case "$a" in --datadir=*) DATADIR="${a#--datadir=}" ;; esac; done
SOCKET=/var/run/mysqld/mysqld.sock
if [ ! -d "$DATADIR/mysql" ]; then
  if [ -z "${MYSQL_ROOT_PASSWORD:-}" ] && [ -z "${MYSQL_ALLOW_EMPTY_PASSWORD:-}" ] && [ -z "${MYSQL_RANDOM_ROOT_PASSWORD:-}" ]; then
    echo '[ERROR] [Entrypoint]: Database is uninitialized and password option is not specified' >&2
    echo '    You need to specify one of the following as an environment variable:' >&2
    echo '    - MYSQL_ROOT_PASSWORD' >&2
    echo '    - MYSQL_ALLOW_EMPTY_PASSWORD' >&2
    echo '    - MYSQL_RANDOM_ROOT_PASSWORD' >&2
    exit 1
  fi
  mkdir -p "$DATADIR"
  if [ -n "$(ls -A "$DATADIR")" ]; then
    echo "[ERROR] [MY-010457] [Server] --initialize specified but the data directory has files in it. Aborting." >&2
    echo "[ERROR] [MY-013236] [Server] The designated data directory $DATADIR/ is unusable. You can remove all files that the server added to it." >&2
    exit 1
  fi
  echo '[Note] [Entrypoint]: Initializing database files'
  mariadb-install-db --datadir="$DATADIR" --auth-root-authentication-method=normal --skip-test-db >/dev/null
  mariadbd --datadir="$DATADIR" --skip-networking --socket="$SOCKET" "$@" >/dev/null 2>&1 &
  i=0
  until mariadb-admin --socket="$SOCKET" -uroot ping --silent >/dev/null 2>&1; do
    i=$((i + 1)); [ "$i" -lt 300 ] || { echo 'Unable to start server.' >&2; exit 1; }; sleep 0.1
  done
  {
    echo "ALTER USER 'root'@'localhost' IDENTIFIED BY '${MYSQL_ROOT_PASSWORD:-}';"
    echo "CREATE USER 'root'@'${MYSQL_ROOT_HOST:-%}' IDENTIFIED BY '${MYSQL_ROOT_PASSWORD:-}';"
    echo "GRANT ALL ON *.* TO 'root'@'${MYSQL_ROOT_HOST:-%}' WITH GRANT OPTION;"
    if [ -n "${MYSQL_DATABASE:-}" ]; then echo "CREATE DATABASE IF NOT EXISTS \`$MYSQL_DATABASE\`;"; fi
    if [ -n "${MYSQL_USER:-}" ] && [ -n "${MYSQL_PASSWORD:-}" ]; then
      echo "CREATE USER '$MYSQL_USER'@'%' IDENTIFIED BY '$MYSQL_PASSWORD';"
      if [ -n "${MYSQL_DATABASE:-}" ]; then echo "GRANT ALL ON \`$MYSQL_DATABASE\`.* TO '$MYSQL_USER'@'%';"; fi
    fi
  } | mariadb --socket="$SOCKET" -uroot
  for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
      *.sql) echo "[Note] [Entrypoint]: running $f"; mariadb --socket="$SOCKET" -uroot -p"${MYSQL_ROOT_PASSWORD:-}" ${MYSQL_DATABASE:+"$MYSQL_DATABASE"} <"$f" ;;
      *) [ -e "$f" ] && echo "[Note] [Entrypoint]: ignoring $f" ;;
    esac
  done
  mariadb-admin --socket="$SOCKET" -uroot -p"${MYSQL_ROOT_PASSWORD:-}" shutdown
  echo '[Note] [Entrypoint]: MySQL init process done. Ready for start up.'
fi
# the image's /etc/mysql/conf.d/docker.cnf (docker-library/mysql 8.0/config/conf.d/docker.cnf):
# host_cache_size=0 and skip-name-resolve — no reverse DNS of client addresses, no host cache (so no
# host blocked after max_connect_errors aborted handshakes)
exec mariadbd --datadir="$DATADIR" --socket="$SOCKET" --port=3306 --bind-address=0.0.0.0 --host-cache-size=0 --skip-name-resolve "$@"
