"""The faust application: the recommender agent and the outbox relay.

Agents stay thin: they turn messages into commands and hand them to the
service layer. Offsets are acknowledged only after the batch's transaction
has committed (at-least-once); the handlers make redelivery harmless.
"""

from __future__ import annotations

import gc
import os
import sys
import threading

import faust
import structlog

from tindaklanjut.bootstrap import Container
from tindaklanjut.config import Settings
from tindaklanjut.services import api, consumer, cycles, relay, reminders


log = structlog.get_logger(__name__)
EXIT_FORCED = 70
YOUNGEST_GENERATION = 100_000     # allocations between young collections (CPython's default: 700)


class Worker(faust.Worker):
    """A faust worker that always stops: when a graceful stop hangs (the broker
    is gone and the consumer waits for it forever), the process exits after a
    grace period instead of ignoring Ctrl-C and SIGTERM."""

    def __init__(self, *args, shutdown_grace: float, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.shutdown_grace = shutdown_grace
        # faust's terminal spinner turns once per log record: it sets the root logger to DEBUG, so
        # every library built a debug record it then dropped (aiosqlite two per statement, aiokafka
        # several per request), about 1 % of the worker's CPU during ingest. Without it the root
        # logger keeps the worker's level, and what is printed is unchanged.
        self.spinner = None

    async def on_stop(self) -> None:
        timer = threading.Timer(self.shutdown_grace, self._force_exit)
        timer.daemon = True
        timer.start()
        await super().on_stop()

    def _force_exit(self) -> None:
        sys.stderr.write(f"graceful stop took over {self.shutdown_grace:g}s; exiting now\n")
        sys.stderr.flush()
        os._exit(EXIT_FORCED)


def settle_heap() -> None:
    """Move everything built at start-up (modules, settings, the app) out of the collector's way.

    The cyclic collector's full passes scan every live container; the worker's start-up heap is
    large (SQLAlchemy, faust, pydantic schemas), and the objects each batch allocates trigger
    those passes: they took about a fifth of the worker's CPU during ingest (docs/benchmarks.md).
    Frozen objects are never scanned; they live as long as the process anyway. A larger youngest
    generation lets a batch's short-lived objects die before they are promoted: collector time
    over a 5,000-assessment run, start-up included, went from 2.4 s (defaults) to 0.6–0.9 s
    (frozen, 10,000) and 0.4 s (frozen, 100,000), with the same peak RSS."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNGEST_GENERATION, *gc.get_threshold()[1:])


def broker_credentials(settings: Settings):
    """The configured Kafka security as faust credentials (None for PLAINTEXT)."""
    options = settings.kafka_security()
    if not options:
        return None
    if "sasl_mechanism" in options:
        return faust.SASLCredentials(username=options["sasl_plain_username"],
                                     password=options["sasl_plain_password"], mechanism=options["sasl_mechanism"],
                                     ssl_context=options.get("ssl_context"))
    return faust.SSLCredentials(options["ssl_context"])


ROLES = ("recommender", "relay", "scheduler", "api")


def parse_roles(text: str) -> tuple[str, ...]:
    """`recommender,relay` -> ("recommender", "relay"); unknown names are refused."""
    roles = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    unknown = [role for role in roles if role not in ROLES]
    if unknown or not roles:
        raise ValueError(f"unknown role(s) {', '.join(unknown) or '(none given)'}: choose from {', '.join(ROLES)}")
    return roles


def build_app(settings: Settings, container: Container) -> faust.App:
    """One process with the configured roles (`TINDAKLANJUT_WORKER_ROLES`, default all):
    recommender (consumers), relay (outbox), scheduler (reminders, cycle windows), api (HTTP)."""
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    roles = parse_roles(settings.worker_roles)
    app = faust.App(
        # Not the recommender's group: the consumer (services.consumer) is a plain Kafka client.
        f"{settings.consumer_group}-worker",
        broker=[f"kafka://{server}" for server in settings.kafka_bootstrap.split(",")],
        value_serializer="raw",
        key_serializer="raw",
        web_enabled=False,
        datadir=str(settings.var_dir / "faust"),
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=settings.topic_replication,
        topic_allow_declare=False,  # topics are created explicitly at startup
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=settings.kafka_session_timeout_ms / 1000,
        broker_heartbeat_interval=settings.kafka_heartbeat_interval_ms / 1000,
        broker_rebalance_timeout=settings.kafka_rebalance_timeout_ms / 1000,
        broker_commit_every=settings.ingest_batch_size,
        broker_commit_interval=0.5,
        producer_acks=-1,
        producer_max_request_size=settings.max_message_bytes + 64 * 1024,
        broker_credentials=broker_credentials(settings),
    )

    # Every Kafka client of the worker is its own (the recommender's consumer, the relay's producer):
    # faust hosts the roles as tasks and runs no consumer or producer of its own. (An idle faust
    # consumer hung the worker's stop for 15 s after a broker restart.)
    app.boot_strategy = faust.app.base.BootStrategy(app, enable_kafka=False)

    @app.task
    async def announce_started() -> None:
        # Signal handlers are installed by now: tools may wait for this line.
        log.info("worker.started", app=app.conf.id)

    log.info("worker.roles", roles=",".join(roles))
    if "recommender" in roles:
        consumer.register(app, settings, container)
    if "relay" in roles:
        relay.register(app, settings, container)
    if "scheduler" in roles:
        reminders.register(app, settings, container)
        cycles.register_window_closer(app, settings, container)
    if "api" in roles and settings.api_enabled:
        api.register(app, settings, container)
    elif settings.health_port:
        api.register_health(app, settings, container)
    return app
