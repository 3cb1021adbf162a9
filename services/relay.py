"""Outbox relay, run as a task of the worker."""

from __future__ import annotations

import faust

from tindaklanjut.adapters.outbox_relay import OutboxRelay, relay_producer
from tindaklanjut.bootstrap import Container
from tindaklanjut.config import Settings


def register(app: faust.App, settings: Settings, container: Container) -> None:
    @app.task
    async def outbox_relay() -> None:
        producer = relay_producer(settings)
        await producer.start()
        relay = OutboxRelay(container.sessions, producer, settings, write_turn=container.write_turn)
        container.on_outbox_commit.append(relay.notify)
        try:
            await relay.run()
        finally:
            await producer.stop()
