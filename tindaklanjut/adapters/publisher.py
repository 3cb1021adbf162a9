"""Publish CloudEvents JSON documents to their topics (CLI, sample data, tools)."""

from __future__ import annotations

import json
from collections.abc import Iterable

from tindaklanjut.adapters import kafka
from tindaklanjut.config import Settings
from tindaklanjut.events.envelope import CONTENT_TYPE, topic_for_type


def message_key(document: dict) -> str | None:
    """The contract's key: the unit id (falls back to the subject)."""
    data = document.get("data") or {}
    unit = data.get("unit") if isinstance(data, dict) else None
    return (unit or {}).get("id") if isinstance(unit, dict) else document.get("subject")


async def publish_documents(settings: Settings, documents: Iterable[dict], *, progress=None) -> int:
    """Send each document to the topic of its type, keyed by unit id; wait for all acks."""
    producer = kafka.producer(settings)
    await producer.start()
    sent = 0
    try:
        futures = []
        for document in documents:
            key = message_key(document)
            futures.append(await producer.send(
                settings.topic(topic_for_type(document["type"])),
                value=json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8"),
                key=key.encode("utf-8") if key else None,
                headers=[("content-type", CONTENT_TYPE.encode())]))
            sent += 1
            if progress:
                progress()
        for future in futures:
            await future
    finally:
        await producer.stop()
    return sent
