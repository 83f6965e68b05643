#!/usr/bin/env bash
# Single-node Apache Kafka (KRaft, broker+controller in one JVM) from Maven Central jars, no Docker.
# Needs: bash, java 17+, mvn 3.8+ (only for `deps`), Maven Central reachable once (jars are cached).
# Usage: scripts/brokers/kafka.sh deps|start|restart|stop|status|clean
#   deps     download the broker classpath into $KAFKA_CI_DIR/libs-$KAFKA_VERSION (skipped if present)
#   start    deps if needed, write config, wipe+format data (KAFKA_KEEP_DATA=1 keeps it), start, wait ready
#   restart  stop (SIGTERM, controlled shutdown) + start keeping the data (same cluster id)
#   stop     SIGTERM the JVM by its pid file, wait up to 30 s, then SIGKILL
#   clean    stop + remove data and logs (keeps the downloaded jars)
# Env: KAFKA_VERSION (4.1.2; 3.9.x selects -Pkafka39), KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (9093),
#      KAFKA_CI_DIR (.brokers/kafka), KAFKA_LIBS_CACHE (~/.cache/scaffold-brokers: jars kept between runs), KAFKA_HEAP_OPTS ("-Xms256m -Xmx256m"), KAFKA_START_TIMEOUT (120 s),
#      KAFKA_JIT_OPTS ("-XX:TieredStopAtLevel=1"; empty = full C2), KAFKA_JVM_EXTRA, KAFKA_KEEP_DATA (0),
#      MVN_ARGS (extra mvn args, e.g. -Dmaven.repo.local=/cache/m2), JAVA (java)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
VER=${KAFKA_VERSION:-4.1.2}
WORK=${KAFKA_CI_DIR:-$HERE/../../.brokers/kafka}
mkdir -p "$WORK" && WORK=$(cd "$WORK" && pwd)
CACHE=${KAFKA_LIBS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/scaffold-brokers}
LIBS=$CACHE/kafka-libs-$VER DATA=$WORK/data LOGS=$WORK/logs PIDF=$WORK/kafka.pid
HOST=127.0.0.1 PORT=${KAFKA_PORT:-9092} CPORT=${KAFKA_CONTROLLER_PORT:-9093}
JAVA=${JAVA:-java}
HEAP=${KAFKA_HEAP_OPTS:--Xms256m -Xmx256m}
JIT=${KAFKA_JIT_OPTS--XX:TieredStopAtLevel=1}   # C1 only: less JIT CPU on a 2-core box; KAFKA_JIT_OPTS= for C2
LOGOPTS="-Dkafka.logs.dir=$LOGS -Dlog4j2.configurationFile=file:$WORK/log4j2.properties -Dlog4j.configuration=file:$WORK/log4j.properties"
case "$VER" in 3.*) PROFILE=-Pkafka39 ;; *) PROFILE= ;; esac

deps() {   # 1. download broker classpath once into a cache kept between runs
  [ -f "$LIBS/.complete" ] && return 0
  local tmp="$LIBS.tmp.$$"; rm -rf "$tmp"; mkdir -p "$tmp"
  mkdir -p "$WORK" "$CACHE"
  mvn -B -Dstyle.color=never -f "$HERE/kafka-pom.xml" ${MVN_ARGS:-} $PROFILE -Dkafka.version="$VER" \
      dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp" > "$WORK/mvn-deps.log" 2>&1 \
    || { tail -40 "$WORK/mvn-deps.log" >&2; rm -rf "$tmp"; return 1; }
  ls "$tmp"/kafka_2.13-"$VER".jar >/dev/null
  ls "$tmp" | grep -Eq '^(log4j-slf4j-impl|slf4j-reload4j)' \
    || { echo "ERROR: no SLF4J binding in $tmp (broker would log nothing)" >&2; return 1; }
  touch "$tmp/.complete"; rm -rf "$LIBS"; mv "$tmp" "$LIBS"
}

config() { # 2. single-node combined broker+controller, static quorum (works on 3.3+ and 4.x)
  mkdir -p "$WORK" "$LOGS"
  cat > "$WORK/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$CPORT
listeners=PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CPORT
advertised.listeners=PLAINTEXT://$HOST:$PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$DATA
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=${KAFKA_OFFSETS_PARTITIONS:-10}
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=${KAFKA_TXN_PARTITIONS:-10}
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
# Topics are created by the services with their planned partition counts, never implicitly.
auto.create.topics.enable=false
delete.topic.enable=true
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.retention.hours=1
log.segment.bytes=67108864
log.cleaner.dedupe.buffer.size=${KAFKA_CLEANER_BUFFER:-8388608}
PROPS
  cat > "$WORK/log4j2.properties" <<'L4J2'
status = warn
appender.out.type = Console
appender.out.name = STDOUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = STDOUT
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.state.name = state.change.logger
logger.state.level = WARN
logger.cfg.name = org.apache.kafka.common.config
logger.cfg.level = WARN
L4J2
  cat > "$WORK/log4j.properties" <<'L4J1'
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.state.change.logger=WARN
log4j.logger.org.apache.kafka.common.config=WARN
L4J1
}

format() { # 3. == bin/kafka-storage.sh format -t ID -c server.properties (once per data dir)
  [ -f "$DATA/meta.properties" ] && return 0
  local cid   # cluster id = 16 random bytes, base64url without padding (what `StorageTool random-uuid` prints)
  cid=$(head -c16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n'); cid="A${cid:1}"
  "$JAVA" -Xmx128m -XX:TieredStopAtLevel=1 $LOGOPTS -cp "$LIBS/*" kafka.tools.StorageTool \
      format -t "$cid" -c "$WORK/server.properties" --ignore-formatted > "$LOGS/format.out" 2>&1 \
    || { cat "$LOGS/format.out" >&2; return 1; }
}

ours() { [ -f "$PIDF" ] && tr '\0' ' ' < "/proc/$(cat "$PIDF")/cmdline" 2>/dev/null | grep -q 'kafka\.Kafka'; }

start() {  # 4. == bin/kafka-server-start.sh server.properties (JVM opts from kafka-run-class.sh, smaller heap)
  if ours; then echo "kafka already running (pid $(cat "$PIDF"))"; return 0; fi
  deps; config
  [ "${KAFKA_KEEP_DATA:-0}" = 1 ] || rm -rf "$DATA"
  format
  local t0; t0=$(date +%s%N)
  # shellcheck disable=SC2086
  nohup "$JAVA" $HEAP -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
    -XX:+ExplicitGCInvokesConcurrent -XX:MaxInlineLevel=15 -XX:MaxDirectMemorySize=256m \
    -Djava.awt.headless=true $JIT $LOGOPTS ${KAFKA_JVM_EXTRA:-} -cp "$LIBS/*" kafka.Kafka "$WORK/server.properties" \
    > "$LOGS/console.out" 2>&1 < /dev/null &
  echo $! > "$PIDF"
  local n=$(( ${KAFKA_START_TIMEOUT:-120} * 4 ))
  for _ in $(seq 1 "$n"); do          # 5. wait until the broker says so AND the port accepts
    if ! kill -0 "$(cat "$PIDF")" 2>/dev/null; then echo "broker exited:" >&2; tail -50 "$LOGS/console.out" >&2; rm -f "$PIDF"; return 1; fi
    if grep -q "Kafka Server started" "$LOGS/console.out" && (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null; then
      echo "kafka $VER ready on $HOST:$PORT after $(( ($(date +%s%N) - t0) / 1000000 )) ms (pid $(cat "$PIDF"))"; return 0; fi
    sleep 0.25
  done
  echo "timeout waiting for kafka" >&2; tail -50 "$LOGS/console.out" >&2; stop; return 1
}

stop() {   # 6. SIGTERM -> Kafka's shutdown hook does a controlled shutdown
  ours || { rm -f "$PIDF"; return 0; }
  local pid; pid=$(cat "$PIDF")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 120); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$PIDF"
}

restart() { stop; KAFKA_KEEP_DATA=1 start; }
clean()   { stop; rm -rf "$DATA" "$LOGS"; }
status()  { if ours; then echo "running (pid $(cat "$PIDF"))"; else echo stopped; return 1; fi; }

"${1:-start}"
