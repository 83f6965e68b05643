#!/usr/bin/env bash
# Local PostgreSQL server from Debian's packages, as a plain process (no systemd, no cluster manager).
# Usage: scripts/brokers/postgres.sh install|start|stop|status|url
# Env: PG_CI_DIR (.brokers/postgres), PG_PORT (55432), PG_START_TIMEOUT (60 s)
# PostgreSQL refuses to run as root: the data folder belongs to the `postgres` user the package creates.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
P=${PG_CI_DIR:-$HERE/../../.brokers/postgres}
mkdir -p "$P" && P=$(cd "$P" && pwd)
PORT=${PG_PORT:-55432}
DATA=$P/data

bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
as_pg() { runuser -u postgres -- "$@"; }

install() {
  [ -n "$(bin)" ] && [ -x "$(bin)/postgres" ] && return 0
  # shellcheck source=/dev/null
  . "$HERE/apt.sh"; apt_install postgresql
}

start() {
  install
  local b; b=$(bin)
  chown postgres "$P"
  if [ ! -f "$DATA/PG_VERSION" ]; then
    as_pg "$b/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$P/initdb.log" 2>&1 \
      || { cat "$P/initdb.log" >&2; return 1; }
  fi
  if as_pg "$b/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then echo "postgres already running on 127.0.0.1:$PORT"; return 0; fi
  local t0; t0=$(date +%s%N)
  # Sockets in the data folder, TCP on loopback only; fsync off: test data, speed over durability.
  as_pg "$b/pg_ctl" -D "$DATA" -l "$P/server.log" -w -t "${PG_START_TIMEOUT:-60}" start \
    -o "-c listen_addresses=127.0.0.1 -c port=$PORT -c unix_socket_directories=$DATA -c fsync=off -c max_connections=200" \
    >/dev/null || { tail -40 "$P/server.log" >&2; return 1; }
  as_pg "$b/psql" -h 127.0.0.1 -p "$PORT" -U postgres -qtAc "SELECT 1 FROM pg_database WHERE datname='scaffold'" | grep -q 1 \
    || as_pg "$b/createdb" -h 127.0.0.1 -p "$PORT" -U postgres scaffold
  echo "postgres ready on 127.0.0.1:$PORT after $(( ($(date +%s%N) - t0) / 1000000 )) ms"
}

stop() {
  local b; b=$(bin)
  [ -f "$DATA/postmaster.pid" ] || return 0
  as_pg "$b/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null || true
}

status() { as_pg "$(bin)/pg_ctl" -D "$DATA" status; }
url() { echo "postgresql://postgres@127.0.0.1:$PORT/scaffold"; }

"${1:-start}"
