#!/usr/bin/env bash
# Install (if missing) and start RabbitMQ, Kafka and PostgreSQL as local processes on loopback, wait until
# each accepts connections, and write their addresses to .brokers/env (source it to run the broker tests).
# Usage: scripts/brokers/up.sh            Env: BROKERS ("rabbitmq kafka postgres"), and each script's own.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT=$ROOT/.brokers
mkdir -p "$OUT"
BROKERS=${BROKERS:-rabbitmq kafka postgres}
# shellcheck source=/dev/null
. "$HERE/apt.sh"

# One apt transaction for every Debian package (servers and the independent command-line clients).
pkgs=(kcat amqp-tools)
[[ " $BROKERS " == *" rabbitmq "* ]] && pkgs+=(rabbitmq-server)
[[ " $BROKERS " == *" postgres "* ]] && pkgs+=(postgresql)
apt_install "${pkgs[@]}"
[[ " $BROKERS " == *" kafka "* ]] && "$HERE/kafka.sh" deps

# Start them side by side; each start waits until its server accepts connections.
pids=()
for b in $BROKERS; do
  "$HERE/$b.sh" start > "$OUT/$b.start.log" 2>&1 &
  pids+=("$!:$b")
done
failed=0
for entry in "${pids[@]}"; do
  if wait "${entry%%:*}"; then cat "$OUT/${entry#*:}.start.log"; else
    echo "${entry#*:} failed to start:" >&2; cat "$OUT/${entry#*:}.start.log" >&2; failed=1; fi
done
[ "$failed" = 0 ] || { "$HERE/down.sh" || true; exit 1; }

{
  [[ " $BROKERS " == *" rabbitmq "* ]] && echo "export SCAFFOLD_TEST_AMQP_URL=amqp://guest:guest@127.0.0.1:${RABBITMQ_NODE_PORT:-5672}/"
  [[ " $BROKERS " == *" kafka "* ]] && echo "export SCAFFOLD_TEST_KAFKA_BOOTSTRAP=127.0.0.1:${KAFKA_PORT:-9092}"
  [[ " $BROKERS " == *" postgres "* ]] && echo "export SCAFFOLD_TEST_POSTGRES_URL=$("$HERE/postgres.sh" url)"
  true
} > "$OUT/env"
echo "addresses written to $OUT/env:"; sed 's/^export /  /' "$OUT/env"
