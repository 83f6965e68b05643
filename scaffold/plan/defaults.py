"""The resilience defaults table: every value scaffold prewires, and where it comes from.

Values are grounded in what the most trusted systems ship (see the sources). Durations are
integers in milliseconds (or seconds where the unit says so) so that plans render to the same
bytes every time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Default:
    pattern: str  # rest | grpc | queue | stream | webhook | store
    key: str
    value: Any
    source: str
    variant: str = ""  # which use case or direction the value is for; "" = all

    @property
    def ref(self) -> str:
        return f"{self.pattern}.{self.key}" + (f"[{self.variant}]" if self.variant else "")


S_GUIDE = "the guide: timeouts are a must and 30 s is too long"
S_AWS = "AWS Builders' Library, 'Timeouts, retries and backoff with jitter': derive from the callee's p99.9"
S_SRE_ATTEMPTS = "Google SRE book, 'Handling Overload': at most 3 attempts per request"
S_SRE_BUDGET = "Google SRE book, 'Handling Overload': client retry budget of 10% of requests"
S_JITTER = (
    "exponential backoff with full jitter, as botocore's standard retry mode and google-api-core's retry do: "
    "https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/"
)
S_BACKOFF = "gRPC proposal A6 client retries: initialBackoff 0.1 s, maxBackoff 1 s, multiplier 2"
S_RETRY_ON = "botocore standard mode and .NET standard resilience handler: connect errors, 408, 429, 5xx"
S_RETRY_AFTER = "RFC 9110 section 10.2.3 Retry-After, honoured by the .NET standard resilience handler"
S_IDEM_KEY = "IETF draft-ietf-httpapi-idempotency-key-header: retry POST/PATCH only with Idempotency-Key"
S_IDEM_TTL = (
    "Stripe API idempotent requests: keys are kept at least 24 hours (the IETF draft leaves expiry to the server)"
)
S_BREAKER_THRESHOLD = "fabfuel/circuitbreaker default: 5 consecutive failures (no ratio window in Python breakers)"
S_BREAKER_BREAK = "App-vNext/Polly CircuitBreakerConstants and .NET standard handler: break duration 5 s"
S_BREAKER_COUNTS = "Polly / .NET standard handler: count 5xx, timeouts and connection errors, never 4xx"
S_BULKHEAD = "resilience4j BulkheadConfig: 25 concurrent calls; reject on overflow"
S_POOL = (
    "httpx's default Limits(max_connections=100, max_keepalive_connections=20), set explicitly: "
    "https://www.python-httpx.org/advanced/resource-limits/"
)
S_ONE_LAYER = "istio retry.go (2 retries by default), Envoy route_components.proto: retry at ONE layer"
S_GRPC_DEADLINE = "grpc.io deadlines guide: always set a deadline; the default is unbounded"
S_GRPC_MAX = "gRPC proposal A6: maxAttempts above 5 is silently capped to 5"
S_GRPC_CODES = (
    "gRPC status code guide: retry UNAVAILABLE and ABORTED, but 'it is not always safe to retry non-idempotent "
    "operations'; gRPC proposal A6: calls that never reached the server are retried transparently anyway"
)
S_STREAM_IDLE = (
    "Envoy HttpConnectionManager stream_idle_timeout: 5 min without activity ends a stream; a stream gets no "
    "deadline of its own, a unary deadline would end every long-lived stream"
)
S_GRPC_THROTTLE = "gRPC proposal A6 retryThrottling: maxTokens 10, tokenRatio 0.1"
S_RMQ_QUORUM = "RabbitMQ quorum queues docs: replicated, poison-message handling with x-delivery-limit"
S_RMQ_LIMIT = "RabbitMQ 4 default delivery-limit 20; 3.10 has none, so it is always set explicitly"
S_RMQ_DLX = "RabbitMQ docs: messages past the delivery limit are dropped unless a dead-letter exchange is set"
S_RMQ_PREFETCH = "RabbitMQ consumer prefetch docs: 1-10 for slow jobs; aio-pika's default 0 is unlimited"
S_RMQ_CONFIRMS = (
    "RabbitMQ publisher confirms and consumer acknowledgements, https://www.rabbitmq.com/docs/confirms: "
    "publisher confirms + persistent + manual ack"
)
S_RMQ_WINDOW = (
    "RabbitMQ publisher confirms tutorial: handle confirms asynchronously with a bounded number outstanding "
    "instead of waiting for each"
)
S_RMQ_DEADLINE = (
    "Kafka producer delivery.timeout.ms 120000: how long a producer keeps retrying a send before it reports failure"
)
S_AMQP_RECONNECT = "aio-pika RobustConnection reconnect_interval 5 s: the pace of its reconnects once connected"
S_RMQ_DLX_SAFE = (
    "RabbitMQ dead letter exchanges docs: at-least-once dead-lettering for quorum queues (3.10+, needs "
    "overflow reject-publish); the default at-most-once may drop a message in transit"
)
S_RMQ_ACK_TIMEOUT = "RabbitMQ consumer_timeout default 30 min: handlers stay well below it"
S_DELAYED_RETRY = "RabbitMQ / Kafka practice: delayed retry with backoff, not hot redelivery loops"
S_IDEM_CONSUMER = "the guide: handle duplicate messages (idempotency); dedupe on message id"
S_KAFKA_ACKS = (
    "librdkafka leaves enable.idempotence off by default: set acks=all, idempotence on "
    "(https://github.com/confluentinc/librdkafka/blob/master/CONFIGURATION.md)"
)
S_KAFKA_INFLIGHT = "Kafka producer docs: idempotence keeps order with at most 5 requests in flight"
S_KAFKA_LINGER = "KIP-1030: linger.ms default 5 in Kafka 4 (aiokafka defaults to 0)"
S_KAFKA_DELIVERY = "Kafka producer config: delivery.timeout.ms 120000"
S_KAFKA_PARTITIONER = (
    "librdkafka CONFIGURATION.md partitioner: murmur2_random is the Java producer's default (murmur2 of the key, "
    "NULL keys spread); librdkafka's own default consistent_random puts keys elsewhere: one partitioner for all"
)
S_KAFKA_COMMIT = (
    "librdkafka commits offsets automatically by default (enable.auto.commit): commit manually after "
    "processing (https://github.com/confluentinc/librdkafka/blob/master/CONFIGURATION.md)"
)
S_KAFKA_POLL = "Kafka consumer config: max.poll.interval.ms 300000"
S_KAFKA_DLT = "Kafka has no DLQ: retry topic with delay, then a dead-letter topic (FastStream REJECT commits)"
S_KAFKA_PARTITIONS = (
    "confluent CLI `kafka topic create`: --partitions default 6; the broker's num.partitions default 1 leaves a "
    "group one busy consumer"
)
S_KAFKA_REPLICATION = "confluent CLI `kafka topic create`: --replication-factor default 3"
S_KAFKA_MIN_ISR = (
    "Kafka topic config min.insync.replicas: 'create a topic with a replication factor of 3, set "
    "min.insync.replicas to 2, and produce with acks of all'"
)
S_KAFKA_BUFFER = (
    "Kafka consumer config max.poll.records 500: at most 500 records per partition wait for the handler; "
    "a fuller partition is paused until they are processed"
)
S_KAFKA_RECONNECT = (
    "librdkafka CONFIGURATION.md: reconnect.backoff.ms 100, reconnect.backoff.max.ms 10000 between tries to "
    "reach a broker"
)
S_KAFKA_GROUP = "Kafka consumer groups: one group per consuming service so each service sees every event"
S_WEBHOOK_SIG = "Standard Webhooks spec: HMAC-SHA256 over '{id}.{timestamp}.{body}', v1 signatures"
S_WEBHOOK_TOL = "Standard Webhooks spec and stripe-python: timestamp tolerance 5 min (300 s)"
S_WEBHOOK_DEDUPE = "Standard Webhooks spec: webhook-id is the idempotency key; keep ids for 2x the tolerance"
S_WEBHOOK_ACK = "Standard Webhooks spec: answer 2xx fast and process asynchronously; senders wait 15-30 s"
S_WEBHOOK_SCHEDULE = "Standard Webhooks spec retry schedule: now, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h"
S_WEBHOOK_410 = "Standard Webhooks spec: a 410 Gone response disables the endpoint"
S_OUTBOX = (
    "microservices.io 'Pattern: Transactional outbox': store the message in the same local transaction as the "
    "business data, a relay publishes it (at least once)"
)
S_SQLITE = "sqlite.org 'Appropriate Uses For SQLite': zero set-up, one file; WAL mode (sqlite.org/wal.html)"
S_OUTBOX_POLL = (
    "the relay is woken at once by a commit of its own process; polling only picks up what other processes or a "
    "crashed run stored (Debezium's outbox connector polls too, by reading the log)"
)
S_BOTOCORE_CAP = (
    "the AWS SDKs' standard retry mode: exponential backoff with full jitter, capped at 20 s: "
    "https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html"
)
S_OUTBOX_BATCH = (
    "RabbitMQ 'Consumer Acknowledgements and Publisher Confirms' docs: publish with many confirms outstanding, "
    "not one at a time; one relay pass reads at most this many rows"
)
S_OUTBOX_LEASE = (
    "one relay per outbox keeps per-key order with several replicas: a lease, as in kube-controller-manager's "
    "leader election (--leader-elect-lease-duration 15 s, renewed within 10 s)"
)
S_INBOX_RETENTION = (
    "Kafka topic config retention.ms default 604800000 (7 days): a record is never redelivered after it is "
    "deleted, so ids are kept as long; the guide: dedupe on message id"
)
S_INBOX_BATCH = (
    "one commit for the deliveries that arrive while the previous one is written: a commit is the costly "
    "step (SQLite FAQ: many statements in one transaction, https://www.sqlite.org/faq.html#q19; "
    "PostgreSQL group commit, https://www.postgresql.org/docs/current/wal-configuration.html)"
)
S_EXTERNAL_TIMEOUT = "third-party APIs are slower and further away; Stripe's client times out at 80 s: cap at 15 s"

DEFAULTS: tuple[Default, ...] = (
    # -- REST (httpx client, FastAPI server) -----------------------------------------------
    Default("rest", "attempt_timeout_ms", 1000, f"{S_GUIDE}; {S_AWS}", "user-facing"),
    Default("rest", "total_timeout_ms", 3000, S_GUIDE, "user-facing"),
    Default("rest", "attempt_timeout_ms", 300, S_AWS, "high-throughput-internal"),
    Default("rest", "total_timeout_ms", 1000, S_AWS, "high-throughput-internal"),
    Default("rest", "attempt_timeout_ms", 5000, S_EXTERNAL_TIMEOUT, "external-integration"),
    Default("rest", "total_timeout_ms", 15000, S_EXTERNAL_TIMEOUT, "external-integration"),
    Default("rest", "attempt_timeout_ms", 2000, S_AWS, "other"),
    Default("rest", "total_timeout_ms", 5000, S_GUIDE, "other"),
    Default("rest", "max_attempts", 3, S_SRE_ATTEMPTS),
    Default("rest", "backoff_initial_ms", 100, S_BACKOFF),
    Default("rest", "backoff_max_ms", 1000, S_BACKOFF),
    Default("rest", "backoff_multiplier", 2, S_BACKOFF),
    Default("rest", "backoff_jitter", "full", S_JITTER),
    Default("rest", "retry_on", ["connect-error", "timeout", "408", "429", "5xx"], S_RETRY_ON),
    Default("rest", "honour_retry_after", True, S_RETRY_AFTER),
    Default("rest", "idempotency_key", True, S_IDEM_KEY),
    Default("rest", "idempotency_key_ttl_s", 86400, S_IDEM_TTL),
    Default("rest", "retry_budget_ratio", 0.1, S_SRE_BUDGET),
    Default("rest", "breaker_failure_threshold", 5, S_BREAKER_THRESHOLD),
    Default("rest", "breaker_recovery_ms", 5000, S_BREAKER_BREAK),
    Default("rest", "breaker_counts", ["5xx", "timeout", "connect-error"], S_BREAKER_COUNTS),
    Default("rest", "concurrency_limit", 25, S_BULKHEAD),
    Default("rest", "max_connections", 100, S_POOL),
    Default("rest", "max_keepalive_connections", 20, S_POOL),
    Default("rest", "mesh_retry_attempts", 0, S_ONE_LAYER),
    # -- gRPC (grpc.aio) --------------------------------------------------------------------
    Default("grpc", "total_timeout_ms", 3000, f"{S_GRPC_DEADLINE}; {S_GUIDE}", "user-facing"),
    Default("grpc", "total_timeout_ms", 1000, f"{S_GRPC_DEADLINE}; {S_AWS}", "high-throughput-internal"),
    Default("grpc", "total_timeout_ms", 5000, S_GRPC_DEADLINE, "other"),
    Default("grpc", "max_attempts", 3, f"{S_SRE_ATTEMPTS}; {S_GRPC_MAX}"),
    Default("grpc", "backoff_initial_ms", 100, S_BACKOFF),
    Default("grpc", "backoff_max_ms", 1000, S_BACKOFF),
    Default("grpc", "backoff_multiplier", 2, S_BACKOFF),
    Default("grpc", "retryable_status_codes", [], S_GRPC_CODES, "not idempotent"),
    Default("grpc", "retryable_status_codes", ["UNAVAILABLE", "ABORTED"], S_GRPC_CODES, "idempotent"),
    Default("grpc", "stream_idle_timeout_ms", 300000, S_STREAM_IDLE),
    Default("grpc", "retry_throttling_max_tokens", 10, S_GRPC_THROTTLE),
    Default("grpc", "retry_throttling_token_ratio", 0.1, S_GRPC_THROTTLE),
    Default("grpc", "breaker_failure_threshold", 5, S_BREAKER_THRESHOLD),
    Default("grpc", "breaker_recovery_ms", 5000, S_BREAKER_BREAK),
    Default(
        "grpc",
        "breaker_counts",
        ["UNAVAILABLE", "DEADLINE_EXCEEDED", "INTERNAL", "UNKNOWN"],
        S_BREAKER_COUNTS,
    ),
    # General (no variant): a gRPC link can also come from a contract or a `pattern` override on any
    # use case, and a "user-facing"-only row left those without a value (KeyError in `lookup`).
    Default("grpc", "concurrency_limit", 25, S_BULKHEAD),
    Default(
        "grpc",
        "concurrency_limit",
        100,
        S_BULKHEAD + " (raised for high-throughput links)",
        "high-throughput-internal",
    ),
    Default("grpc", "mesh_retry_attempts", 0, S_ONE_LAYER),
    # -- queue (RabbitMQ) -------------------------------------------------------------------
    Default("queue", "queue_type", "quorum", S_RMQ_QUORUM),
    Default("queue", "delivery_limit", 20, S_RMQ_LIMIT),
    Default("queue", "dead_letter", True, S_RMQ_DLX),
    Default("queue", "prefetch", 10, S_RMQ_PREFETCH),
    Default("queue", "publisher_confirms", True, S_RMQ_CONFIRMS),
    Default("queue", "persistent", True, S_RMQ_CONFIRMS),
    Default("queue", "manual_ack", True, S_RMQ_CONFIRMS),
    Default("queue", "dead_letter_strategy", "at-least-once", S_RMQ_DLX_SAFE),
    Default("queue", "confirm_window", 256, S_RMQ_WINDOW),
    Default("queue", "publish_timeout_ms", 5000, S_GUIDE),
    Default("queue", "publish_deadline_ms", 120000, S_RMQ_DEADLINE),
    Default("queue", "handler_timeout_ms", 60000, S_RMQ_ACK_TIMEOUT),
    Default("queue", "connect_backoff_initial_ms", 100, S_BACKOFF),
    Default("queue", "connect_backoff_max_ms", 5000, S_AMQP_RECONNECT),
    Default("queue", "retry_delays_ms", [1000, 10000, 60000], S_DELAYED_RETRY),
    Default("queue", "dedupe_on", "message_id", S_IDEM_CONSUMER),
    # -- stream (Kafka) -----------------------------------------------------------------------
    Default("stream", "acks", "all", S_KAFKA_ACKS),
    Default("stream", "enable_idempotence", True, S_KAFKA_ACKS),
    Default("stream", "max_in_flight", 5, S_KAFKA_INFLIGHT),
    Default("stream", "linger_ms", 5, S_KAFKA_LINGER),
    Default("stream", "delivery_timeout_ms", 120000, S_KAFKA_DELIVERY),
    Default("stream", "partitioner", "murmur2_random", S_KAFKA_PARTITIONER),
    Default("stream", "partitions", 6, S_KAFKA_PARTITIONS),
    Default("stream", "replication_factor", 3, S_KAFKA_REPLICATION),
    Default("stream", "min_insync_replicas", 2, S_KAFKA_MIN_ISR),
    Default("stream", "enable_auto_commit", False, S_KAFKA_COMMIT),
    Default("stream", "commit", "after-processing", S_KAFKA_COMMIT),
    Default("stream", "max_poll_interval_ms", 300000, S_KAFKA_POLL),
    Default("stream", "buffer_per_partition", 500, S_KAFKA_BUFFER),
    Default("stream", "auto_offset_reset", "earliest", S_KAFKA_GROUP),
    Default("stream", "handler_timeout_ms", 60000, S_KAFKA_POLL),
    Default("stream", "retry_delays_ms", [1000, 10000, 60000], S_KAFKA_DLT),
    Default("stream", "dedupe_on", "message_id", S_IDEM_CONSUMER),
    Default("stream", "connect_backoff_initial_ms", 100, S_KAFKA_RECONNECT),
    Default("stream", "connect_backoff_max_ms", 10000, S_KAFKA_RECONNECT),
    # -- the service's database: outbox and inbox -----------------------------------------------
    Default("store", "database_url", "sqlite:///data/{service}.sqlite3", S_SQLITE),
    Default("store", "outbox", "same transaction as the handler's writes", S_OUTBOX),
    Default("store", "outbox_poll_interval_ms", 1000, S_OUTBOX_POLL),
    Default("store", "outbox_batch_size", 500, S_OUTBOX_BATCH),
    Default("store", "outbox_concurrency", 256, S_OUTBOX_BATCH),
    Default("store", "outbox_backoff_initial_ms", 100, S_BACKOFF),
    Default("store", "outbox_backoff_max_ms", 20000, S_BOTOCORE_CAP),
    Default("store", "outbox_lease_ms", 15000, S_OUTBOX_LEASE),
    Default("store", "inbox_retention_s", 604800, S_INBOX_RETENTION),
    Default("store", "inbox_batch_max", 64, S_INBOX_BATCH),
    # -- webhooks (Standard Webhooks) ---------------------------------------------------------
    Default("webhook", "signature", "standard-webhooks-v1-hmac-sha256", S_WEBHOOK_SIG),
    Default("webhook", "tolerance_s", 300, S_WEBHOOK_TOL),
    Default("webhook", "dedupe_on", "webhook-id", S_WEBHOOK_DEDUPE),
    Default("webhook", "ack_within_ms", 2000, S_WEBHOOK_ACK, "inbound"),
    Default("webhook", "attempt_timeout_ms", 15000, S_WEBHOOK_ACK, "outbound"),
    Default(
        "webhook",
        "send_schedule_s",
        [0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400],
        S_WEBHOOK_SCHEDULE,
        "outbound",
    ),
    Default("webhook", "disable_on_410", True, S_WEBHOOK_410, "outbound"),
)


def lookup(pattern: str, key: str, variant: str = "") -> Default:
    """The default for ``key`` of ``pattern``, preferring the one for ``variant``."""
    general = None
    for item in DEFAULTS:
        if item.pattern == pattern and item.key == key:
            if item.variant == variant:
                return item
            if item.variant in ("", "other"):
                general = item
    if general is None:
        raise KeyError(f"{pattern}.{key}[{variant}]")
    return general


def value(pattern: str, key: str, variant: str = "") -> Any:
    return lookup(pattern, key, variant).value


def _duration(seconds: int) -> str:
    parts = [(seconds // 3600, "h"), (seconds % 3600 // 60, "min"), (seconds % 60, "s")]
    return " ".join(f"{amount} {unit}" for amount, unit in parts if amount) or "0 s"


def schedule_text(schedule_s: list[int]) -> str:
    """A webhook send schedule in words, e.g. "3 attempts: at once, then waits of 5 s and 5 min between
    attempts (5 min 5 s from the first attempt to the last)"; docs are written from this, not by hand."""
    first, *retries = schedule_s
    start = "at once" if first == 0 else f"after {_duration(first)}"
    count = f"{len(schedule_s)} attempt{'s' * (len(schedule_s) != 1)}"
    if not retries:
        return f"{count}: {start}"
    waits = [_duration(delay) for delay in retries]
    listed = waits[0] if len(waits) == 1 else f"{', '.join(waits[:-1])} and {waits[-1]}"
    span = _duration(sum(retries))
    return f"{count}: {start}, then waits of {listed} between attempts ({span} from the first attempt to the last)"
