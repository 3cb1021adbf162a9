"""What an operator or an orchestrator asks a process: is it alive, is it
ready (database reachable and at the schema head, broker reachable), and its
Prometheus metrics. Counts that every replica shares (outbox backlog, dead
letters, processed events) are read from the database at scrape time, so any
replica reports the same numbers."""

from __future__ import annotations

import asyncio
import time

import structlog
from datetime import datetime, timezone

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select, text

from tindaklanjut.adapters import kafka, migrate, orm, orm_reminders
from tindaklanjut.bootstrap import Container
from tindaklanjut.observability import PROCESS
from tindaklanjut.services.consumer import CONSUMED

log = structlog.get_logger(__name__)

PROBE_TIMEOUT = 3.0


async def database_check(container: Container) -> tuple[bool, str]:
    try:
        async with asyncio.timeout(PROBE_TIMEOUT), container.sessions() as session:
            await session.execute(text("SELECT 1"))
            current = set(await session.scalars(text("SELECT version_num FROM alembic_version")))
    except Exception as exc:      # noqa: BLE001 - any failure means "not ready", with its reason
        return False, f"database unreachable: {type(exc).__name__}"
    heads = migrate.head_revisions()
    if current != heads:
        return False, f"schema at {sorted(current)}, head is {sorted(heads)}"
    return True, "ok"


async def broker_check(container: Container) -> tuple[bool, str]:
    """A TCP connection to one of the bootstrap servers (a Kafka client would wait much longer)."""
    failures = []
    for server in container.settings.kafka_bootstrap.split(","):
        host, _, port = server.strip().rpartition(":")
        try:
            async with asyncio.timeout(PROBE_TIMEOUT):
                _reader, writer = await asyncio.open_connection(host.strip("[]"), int(port))
            writer.close()
            return True, "ok"
        except (OSError, ValueError, TimeoutError) as exc:
            failures.append(f"{server.strip()}: {type(exc).__name__}")
    return False, "broker unreachable: " + "; ".join(failures)


class DatabaseCollector:
    """Shared counts, read when Prometheus scrapes."""

    def __init__(self, container: Container) -> None:
        self.container = container
        self.latest: list = []

    def collect(self):
        yield from self.latest

    async def refresh(self) -> None:
        now = datetime.now(timezone.utc)
        families = []
        async with self.container.sessions() as session:
            pending = orm.OutboxRow.published_at.is_(None) & orm.OutboxRow.parked_at.is_(None)
            backlog, oldest = (await session.execute(select(func.count(), func.min(orm.OutboxRow.created_at))
                                                     .where(pending))).one()
            parked = await session.scalar(select(func.count()).select_from(orm.OutboxRow)
                                          .where(orm.OutboxRow.parked_at.is_not(None)))
            dead = (await session.execute(select(orm.DeadLetterRow.reason_code, func.count())
                                          .group_by(orm.DeadLetterRow.reason_code))).all()
            attempts = (await session.execute(select(orm_reminders.ReminderAttemptRow.channel,
                                                     orm_reminders.ReminderAttemptRow.outcome, func.count())
                                              .group_by(orm_reminders.ReminderAttemptRow.channel,
                                                        orm_reminders.ReminderAttemptRow.outcome))).all()
            processed = (await session.execute(select(orm.ProcessedEventRow.event_type, orm.ProcessedEventRow.outcome,
                                                      func.count())
                                               .group_by(orm.ProcessedEventRow.event_type,
                                                         orm.ProcessedEventRow.outcome))).all()
        backlog_family = GaugeMetricFamily("tindaklanjut_outbox_backlog", "Outbox messages not yet published")
        backlog_family.add_metric([], backlog)
        age = GaugeMetricFamily("tindaklanjut_outbox_oldest_unpublished_seconds",
                                "Age of the oldest unpublished outbox message (0 when none)")
        age.add_metric([], (now - oldest).total_seconds() if oldest else 0.0)
        parked_family = GaugeMetricFamily("tindaklanjut_outbox_parked", "Outbox messages parked (refused by the broker)")
        parked_family.add_metric([], parked)
        dead_family = GaugeMetricFamily("tindaklanjut_dead_letters", "Dead-lettered inputs by reason", labels=["reason"])
        for reason, count in dead:
            dead_family.add_metric([reason], count)
        consumed = GaugeMetricFamily("tindaklanjut_events_processed", "Processed input events by type and outcome",
                                     labels=["type", "outcome"])
        for event_type, outcome, count in processed:
            consumed.add_metric([event_type or "", outcome or ""], count)
        deliveries = GaugeMetricFamily("tindaklanjut_deliveries", "Delivery attempts of reminder digests by channel "
                                       "and outcome (sent, retry, failed; interrupted while under way)",
                                       labels=["channel", "outcome"])
        for channel, outcome, count in attempts:
            deliveries.add_metric([channel, outcome or "interrupted"], count)
        families.extend([backlog_family, age, parked_family, dead_family, consumed, deliveries])
        self.latest = families


class LagCollector:
    """The recommender group's consumer lag per topic and partition, asked of the brokers at most
    every `every` seconds (each scrape of every replica would otherwise open two Kafka clients)."""

    def __init__(self, container: Container, every: float = 15.0) -> None:
        self.settings, self.every = container.settings, every
        self.latest: list = []
        self.asked_at: float | None = None

    def collect(self):
        yield from self.latest

    async def refresh(self) -> None:
        if self.asked_at is not None and time.monotonic() - self.asked_at < self.every:
            return
        self.asked_at = time.monotonic()
        lag = GaugeMetricFamily("tindaklanjut_consumer_lag", "Messages the recommender group has not yet "
                                "consumed, per topic and partition", labels=["topic", "partition"])
        up = GaugeMetricFamily("tindaklanjut_consumer_lag_up", "1 when the last lag reading reached the brokers")
        try:
            readings = await kafka.consumer_lag(self.settings, self.settings.worker_group, list(CONSUMED))
        except Exception as exc:      # noqa: BLE001 - an unreachable broker must not fail the scrape
            log.warning("metrics.lag_unavailable", error=type(exc).__name__)
            up.add_metric([], 0)
            self.latest = [up]
            return
        for (topic, partition), behind in sorted(readings.items()):
            lag.add_metric([topic, str(partition)], behind)
        up.add_metric([], 1)
        self.latest = [lag, up]


class ProcessCollector:
    """What this process measured of its own work (tindaklanjut.observability)."""

    def collect(self):
        yield from PROCESS.collect()


class Metrics:
    """One registry per application: HTTP requests by route and status with their latency, and the
    shared counts of the database (read at scrape time)."""

    def __init__(self, container: Container) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("tindaklanjut_http_requests_total", "HTTP requests by route and status",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("tindaklanjut_http_request_seconds", "HTTP request latency by route", ["route"],
                                 registry=self.registry,
                                 buckets=(.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))
        Gauge("tindaklanjut_process_start_time_seconds", "When this process started",
              registry=self.registry).set(time.time())
        self.database = DatabaseCollector(container)
        self.lag = LagCollector(container)
        for collector in (self.database, self.lag, ProcessCollector()):
            self.registry.register(collector)

    async def exposition(self) -> bytes:
        await asyncio.gather(self.database.refresh(), self.lag.refresh())
        return generate_latest(self.registry)


class HttpMetrics:
    """ASGI middleware: counts every request by its route template (not its path) and status."""

    def __init__(self, app, *, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), {"code": 500}

        async def observe(message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, observe)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            self.metrics.requests.labels(scope["method"], route, str(status["code"])).inc()
            self.metrics.latency.labels(route).observe(time.perf_counter() - started)
