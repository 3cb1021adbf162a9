"""Test helpers that talk to the broker with a plain aiokafka client."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from contextlib import asynccontextmanager
from datetime import datetime, timezone

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from tindaklanjut.adapters import kafka
from tindaklanjut.bootstrap import bootstrap
from tindaklanjut.config import Settings


async def produce(settings: Settings, topic: str, values: list[bytes], keys: list[str | None] | None = None) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        for value, key in zip(values, keys or [None] * len(values)):
            await producer.send_and_wait(settings.topic(topic), value=value, key=key.encode() if key else None)
    finally:
        await producer.stop()


async def produce_documents(settings: Settings, documents: list[dict]) -> None:
    await produce(settings, "assessment.published", [json.dumps(d).encode() for d in documents],
                  [d["data"]["unit"]["id"] for d in documents])


async def consume(settings: Settings, topic: str, expected: int, timeout: float = 30.0, settle: float = 0.0):
    """Read from the beginning until `expected` messages arrived (then keep
    listening `settle` seconds to catch extra ones)."""
    consumer = AIOKafkaConsumer(settings.topic(topic), bootstrap_servers=settings.kafka_bootstrap,
                                group_id=None, auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    messages = []
    loop = asyncio.get_running_loop()
    try:
        deadline = loop.time() + timeout
        while len(messages) < expected and loop.time() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            messages.extend(m for ms in batch.values() for m in ms)
        settle_until = loop.time() + settle
        while loop.time() < settle_until:
            batch = await consumer.getmany(timeout_ms=200)
            messages.extend(m for ms in batch.values() for m in ms)
    finally:
        await consumer.stop()
    return messages


def settings_env(settings: Settings) -> dict[str, str]:
    """Environment that makes a child `tindaklanjut` process use these settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TINDAKLANJUT_")}
    return env | settings.to_env()


def cli(*args: str, env: dict[str, str], cwd: Path | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tindaklanjut.cli", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


def start(*args: str, env: dict[str, str], log: Path, cwd: Path | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tindaklanjut.cli", *args], env=env, cwd=cwd,
                            stdout=open(log, "wb"), stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen, timeout: float = 20) -> int:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


@asynccontextmanager
async def relay_container(settings: Settings, now: datetime = datetime(2024, 12, 21, tzinfo=timezone.utc)):
    """Topics created, a container on a fixed clock and a started producer, for relay tests."""
    await kafka.ensure_topics(settings)
    container = bootstrap(settings, clock=lambda: now)
    producer = kafka.producer(settings)
    await producer.start()
    try:
        yield container, producer
    finally:
        await producer.stop()
        await container.close()
