#!/usr/bin/env bash
# Stop the servers that scripts/brokers/up.sh started (each stop is a no-op when it is not running).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
status=0
for b in ${BROKERS:-rabbitmq kafka postgres}; do "$HERE/$b.sh" stop >/dev/null 2>&1 || status=1; done
exit $status
