#!/usr/bin/env bash
# Run every benchmark one after the other (never in parallel: they would disturb each other).
# Tables go to the terminal and to bench/results/<name>.txt, figures to bench/results/<name>.json.
# Usage: bench/run_all.sh [name ...]   e.g. bench/run_all.sh bench_wire
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
python="${PYTHON:-$root/.venv/bin/python}"
mkdir -p "$here/results"
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  names=(bench_rest_service bench_rest_client bench_grpc_client bench_wire bench_generate bench_checks)
  # The broker benchmarks need RabbitMQ and Kafka (PostgreSQL too for the stores' PostgreSQL candidates):
  # scripts/brokers/up.sh, then `. .brokers/env`.
  if [ -n "${SCAFFOLD_TEST_AMQP_URL:-}" ] && [ -n "${SCAFFOLD_TEST_KAFKA_BOOTSTRAP:-}" ]; then
    names+=(bench_queue_producer bench_stream_producer bench_consumer_inbox bench_outbox)
  fi
fi
for name in "${names[@]}"; do
  echo "=== $name ($(date +%H:%M:%S), load $(cut -d' ' -f1-3 /proc/loadavg))"
  "$python" "$here/$name.py" 2>&1 | tee "$here/results/$name.txt"
  echo
done
