#!/usr/bin/env bash
# Local RabbitMQ node from Debian's rabbitmq-server package, no systemd, no /var/lib/rabbitmq.
# Usage: scripts/brokers/rabbitmq.sh install|start|stop|status|ctl ARGS...|diag ARGS...|plugins ARGS...
#   install: apt-get install rabbitmq-server (Debian 12: 3.10.8, Erlang 25.2.3) if missing; runs as root.
# Env: RABBIT_CI_DIR (.brokers/rabbitmq), RABBITMQ_NODE_PORT (5672), RABBITMQ_NODENAME (ci@localhost),
#      RABBIT_START_TIMEOUT (90 s), RABBIT_STOP_EPMD (0)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
R=${RABBIT_CI_DIR:-$HERE/../../.brokers/rabbitmq}
mkdir -p "$R" && R=$(cd "$R" && pwd)
export HOME=$R/home                          # Erlang cookie lives in $HOME/.erlang.cookie (server and CLI)
export RABBITMQ_NODENAME=${RABBITMQ_NODENAME:-ci@localhost}
export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
export RABBITMQ_NODE_PORT=${RABBITMQ_NODE_PORT:-5672}
export RABBITMQ_DIST_PORT=$((RABBITMQ_NODE_PORT + 20000))
export ERL_EPMD_ADDRESS=127.0.0.1            # epmd (port 4369) on loopback only
export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"  # dist port on loopback
export RABBITMQ_MNESIA_BASE=$R/mnesia RABBITMQ_LOG_BASE=$R/log
export RABBITMQ_CONFIG_FILE=$R/rabbitmq      # -> $R/rabbitmq.conf
export RABBITMQ_ENABLED_PLUGINS_FILE=$R/enabled_plugins
export RABBITMQ_PID_FILE=$R/rabbit.pid
BIN=/usr/lib/rabbitmq/bin                    # bypass /usr/sbin wrappers (they su to user rabbitmq)

install() {
  [ -x "$BIN/rabbitmq-server" ] && return 0
  # shellcheck source=/dev/null
  . "$HERE/apt.sh"; apt_install rabbitmq-server
}

start() {
  install
  mkdir -p "$HOME" "$R/mnesia" "$R/log"
  [ -f "$R/rabbitmq.conf" ] || cat > "$R/rabbitmq.conf" <<CONF
listeners.tcp.default = 127.0.0.1:$RABBITMQ_NODE_PORT
loopback_users.guest = true
disk_free_limit.absolute = 200MB
vm_memory_high_watermark.absolute = 1GiB
CONF
  [ -f "$RABBITMQ_ENABLED_PLUGINS_FILE" ] || echo '[].' > "$RABBITMQ_ENABLED_PLUGINS_FILE"
  local t0 log off; t0=$(date +%s%N); log="$RABBITMQ_LOG_BASE/$RABBITMQ_NODENAME.log"
  off=$(stat -c %s "$log" 2>/dev/null || echo 0)
  nohup "$BIN/rabbitmq-server" > "$R/log/console.out" 2>&1 < /dev/null &
  echo $! > "$R/launcher.pid"
  # ready = this boot logged "Server startup complete" AND the AMQP port accepts. (The Elixir CLI,
  # `rabbitmq-diagnostics -q ping`, works too but costs 3-10 s per call on a busy 2-core box.)
  for _ in $(seq 1 $(( ${RABBIT_START_TIMEOUT:-90} * 4 ))); do
    if tail -c +$((off + 1)) "$log" 2>/dev/null | grep -q "Server startup complete" \
       && (exec 3<>"/dev/tcp/127.0.0.1/$RABBITMQ_NODE_PORT") 2>/dev/null; then
      echo "rabbitmq ready on 127.0.0.1:$RABBITMQ_NODE_PORT after $(( ($(date +%s%N) - t0) / 1000000 )) ms (beam pid $(cat "$RABBITMQ_PID_FILE" 2>/dev/null))"; return 0; fi
    kill -0 "$(cat "$R/launcher.pid")" 2>/dev/null || { echo "rabbitmq exited" >&2; tail -40 "$R/log/console.out" >&2; return 1; }
    sleep 0.25
  done
  echo "timeout" >&2; return 1
}
stop() {   # rabbitmqctl stop PIDFILE waits until the beam process has exited
  timeout 60 "$BIN/rabbitmqctl" stop "$RABBITMQ_PID_FILE" || true  # it waits for ever on a node it cannot reach
  # The CLI can fail to reach the node (a busy machine, a lost cookie): then the beam process is ended
  # by its pid, so that the next start finds the AMQP port free.
  local pid; pid=$(cat "$RABBITMQ_PID_FILE" 2>/dev/null || true)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 120); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$RABBITMQ_PID_FILE"
  # epmd (Erlang port mapper, started by the first node) outlives the node; RABBIT_STOP_EPMD=1 ends it
  # (epmd -kill refuses while other Erlang nodes are still registered)
  [ "${RABBIT_STOP_EPMD:-0}" = 1 ] && epmd -kill >/dev/null 2>&1 || true
}
status() { "$BIN/rabbitmq-diagnostics" -q ping; }
ctl() { "$BIN/rabbitmqctl" "$@"; }
diag() { "$BIN/rabbitmq-diagnostics" "$@"; }
plugins() { "$BIN/rabbitmq-plugins" "$@"; }
cmd=${1:-start}; shift || true; "$cmd" "$@"
