#!/usr/bin/env bash
# Run a command with RabbitMQ, Kafka and PostgreSQL started on loopback and their addresses exported,
# then stop them whatever the command's outcome:  scripts/with-brokers.sh .venv/bin/pytest tests/test_brokers.py
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
trap '"$HERE/brokers/down.sh"' EXIT
"$HERE/brokers/up.sh"
# shellcheck source=/dev/null
. "$HERE/../.brokers/env"
"$@"
