#!/bin/sh
# Simulation (test infrastructure): an image's docker-entrypoint.sh reduced to what matters when the
# container already runs as its user: the first argument `-x` means `<cmd> -x`, then exec.
# (docker-library/redis `docker-entrypoint.sh`: `if [ "${1#-}" != "$1" ]; then set -- redis-server "$@"`.)
set -e
if [ "${1#-}" != "$1" ]; then set -- "$SIM_DEFAULT_CMD" "$@"; fi
exec "$@"
