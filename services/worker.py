"""The faust application: the recommender agent and the outbox relay.

Agents stay thin: they turn messages into commands and hand them to the
service layer. Offsets are acknowledged only after the batch's transaction
has committed (at-least-once); the handlers make redelivery harmless.
"""

from __future__ import annotations

import faust

from tindaklanjut.bootstrap import Container
from tindaklanjut.config import Settings
from tindaklanjut.services import api, cycles, recommender, relay, reminders


def build_app(settings: Settings, container: Container) -> faust.App:
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    app = faust.App(
        f"{settings.consumer_group}-recommender",
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
    )
    recommender.register(app, settings, container)
    relay.register(app, settings, container)
    reminders.register(app, settings, container)
    cycles.register(app, settings, container)
    if settings.api_enabled:
        api.register(app, settings, container)
    return app
