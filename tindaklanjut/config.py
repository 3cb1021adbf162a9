"""Settings, read once from the environment (``TINDAKLANJUT_*``).

The defaults run the embedded stack: a local Tansu broker on 127.0.0.1:9092,
SQLite under ``./var``, and consumer-group timings short enough for Tansu,
which holds group joins for half the session timeout. Against Apache Kafka
set the ``KAFKA_*_MS`` values to the Kafka defaults (see ``deploy/``).
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from tindaklanjut.events.wire import Limits


DEFAULT_WEBHOOK_SECRET = "development-only-webhook-secret"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TINDAKLANJUT_", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    var_dir: Path = Path("var")
    database_url: str = ""

    kafka_bootstrap: str = "127.0.0.1:9092"
    topic_prefix: str = ""
    topic_partitions: int = Field(default=4, ge=1)
    topic_replication: int = Field(default=1, ge=1)
    # Producer compression; none on loopback (CPU), "gzip" across a network.
    kafka_compression: Literal["gzip"] | None = None
    consumer_group: str = "tindaklanjut"
    # Short group timings for the embedded broker; Kafka defaults are
    # 45000 / 3000 / 60000 (see deploy/production.env).
    kafka_session_timeout_ms: int = 2000
    kafka_heartbeat_interval_ms: int = 300
    kafka_rebalance_timeout_ms: int = 2000

    # Security of every Kafka client (faust, aiokafka producers, consumers and admin). Apache Kafka
    # clusters usually want SASL_SSL with SCRAM-SHA-512; the embedded broker speaks PLAINTEXT.
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "SCRAM-SHA-512"
    kafka_sasl_username: str = ""
    kafka_sasl_password: str = ""
    kafka_ssl_cafile: Path | None = None        # CA bundle for the brokers' certificates (default: the system's)

    broker_host: str = "127.0.0.1"
    broker_port: int = 9092

    # One bound for every incoming message: consumers, the relay's producer, the API's JSON bodies.
    max_message_bytes: int = Field(default=1024 * 1024, ge=1024, le=64 * 1024 * 1024)
    max_json_depth: int = Field(default=32, ge=4, le=200)
    max_indicators: int = Field(default=500, ge=1, le=100_000)   # aspects + indicators of one assessment
    # A message whose processing fails (not an outage) is dead-lettered after this many tries.
    poison_max_tries: int = Field(default=3, ge=1, le=100)

    shutdown_grace_seconds: float = 15.0       # a stop that hangs longer (broker gone) exits anyway
    outbox_poll_interval: float = 0.2
    # Rows per relay round: what one ingest batch of 500 assessments writes (about 2,000), so a
    # commit is relayed in one round. At 1,000 (two rounds) the relay lagged 0.3-0.8 s behind the
    # last commit on SQLite, where each round waits for its turn to write; one round: 0-0.1 s, and
    # 8 % less ingest time on PostgreSQL (docs/benchmarks.md, series K). Peak RSS +5-11 MB.
    outbox_batch_size: int = Field(default=2000, ge=1, le=10_000)
    # Assessments per ingest transaction (at most; a fetch holds what has arrived). 500 instead of
    # 200: a transaction's fixed costs (five lookups, the commit, a relay round) are shared by more
    # assessments, 6-22 % less time per 5,000 in three pairs; two fetches of 500 in flight keep
    # the worker's peak RSS near 225 MB (docs/benchmarks.md, series I).
    ingest_batch_size: int = Field(default=500, ge=1, le=5_000)
    # PostgreSQL connections per process (SQLite has its own pool); the API serves at most
    # `api_concurrent_reads` reads at once, the rest wait in order of arrival (api/admission.py).
    database_pool_size: int = Field(default=10, ge=1, le=500)
    database_max_overflow: int = Field(default=10, ge=0, le=500)
    api_concurrent_reads: int = Field(default=10, ge=1, le=1000)
    # How long the overdue view's answer per scope may be reused while no new event was written (0: never).
    read_cache_seconds: float = Field(default=5.0, ge=0, le=300)

    # Freeze the clock (demonstrations, benchmarks); refused in production.
    fixed_now: datetime | None = None
    api_enabled: bool = True                   # serve the HTTP API inside the worker process
    # Which roles this worker process runs (comma-separated): recommender, relay, scheduler, api.
    worker_roles: str = "recommender,relay,scheduler,api"
    health_port: int = 0                       # /healthz, /readyz, /metrics for a process without the api role
    log_format: Literal["auto", "console", "json"] = "auto"   # auto: JSON in production, readable elsewhere
    # uvloop where it is installed (less CPU per socket write and callback: docs/benchmarks.md);
    # `asyncio` is the standard library's loop, should a client library ever misbehave on uvloop.
    event_loop: Literal["uvloop", "asyncio"] = "uvloop"
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    public_url: str = ""        # where people open the workspace (links in e-mails and exports); default: the API's address
    evidence_dir: Path | None = None           # default: <var_dir>/evidence
    evidence_max_bytes: int = Field(default=20 * 1024 * 1024, ge=1)
    evidence_store: Literal["local", "s3"] = "local"    # s3: every API replica serves every file
    evidence_s3_endpoint: str = ""                     # e.g. http://seaweedfs:8333 (empty: Amazon S3)
    evidence_s3_bucket: str = "tindaklanjut-evidence"  # created when missing
    evidence_s3_region: str = "us-east-1"

    # Reminders and escalation (docs/reminders.md).
    reminders_enabled: bool = True             # run the reminder scheduler inside the worker process
    reminder_sweep_interval: float = Field(default=60.0, gt=0)   # seconds between sweeps
    reminder_batch_size: int = Field(default=1000, ge=1)
    # A digest claimed by a crashed sender is retried after this.
    reminder_lease_seconds: float = Field(default=900.0, gt=0)
    reminder_send_concurrency: int = Field(default=4, ge=1)
    # A digest whose channel was down is tried again after this pause, doubled each time (at most 6 h).
    reminder_retry_seconds: float = Field(default=900.0, gt=0, le=6 * 3600)
    reminder_reconcile_interval: float = Field(default=300.0, ge=0)  # seconds between scans for new/changed deadlines
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_sender: str = "Tindak Lanjut <tindaklanjut@localhost>"
    mail_signature: str = "Tim Tindak Lanjut"  # who signs the digests: the office running the system
    smtp_starttls: bool = False
    smtp_tls: bool = False                     # implicit TLS (port 465)
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_timeout: float = Field(default=30.0, gt=0)
    smtp_max_attempts: int = Field(default=3, ge=1)
    smtp_ca_file: Path | None = None           # CA bundle to trust for SMTP TLS (default: the system's)
    webhook_secret: str = DEFAULT_WEBHOOK_SECRET
    webhook_timeout: float = Field(default=10.0, gt=0)
    webhook_max_attempts: int = Field(default=5, ge=1)
    delivery_backoff_base: float = Field(default=1.0, ge=0)     # seconds; doubles after every failed try
    delivery_backoff_max: float = Field(default=60.0, ge=0)

    @model_validator(mode="after")
    def _refuse_embedded_defaults_in_production(self) -> "Settings":
        self.public_url = (self.public_url or f"http://{self.api_host}:{self.api_port}").rstrip("/")
        if self.environment == "production" and self.fixed_now is not None:
            raise ValueError("TINDAKLANJUT_FIXED_NOW is for demonstrations and benchmarks, not production")
        if self.environment == "production" and not self.database_url:
            raise ValueError(
                "TINDAKLANJUT_DATABASE_URL must be set in production "
                "(the SQLite default is for the embedded stack only)"
            )
        if self.environment == "production":
            missing = [name for name, value in (
                ("TINDAKLANJUT_WEBHOOK_SECRET", self.webhook_secret != DEFAULT_WEBHOOK_SECRET),
                ("TINDAKLANJUT_SMTP_USERNAME", bool(self.smtp_username)),
                ("TINDAKLANJUT_SMTP_PASSWORD", bool(self.smtp_password)),
                ("TINDAKLANJUT_KAFKA_SASL_USERNAME", bool(self.kafka_sasl_username)
                 or not self.kafka_security_protocol.startswith("SASL")),
                ("TINDAKLANJUT_KAFKA_SASL_PASSWORD", bool(self.kafka_sasl_password)
                 or not self.kafka_security_protocol.startswith("SASL"))) if not value]
            if missing:
                raise ValueError(f"production needs these secrets, which are not set: {', '.join(missing)}")
            if not (self.smtp_starttls or self.smtp_tls):
                raise ValueError("production sends e-mail over TLS: set TINDAKLANJUT_SMTP_STARTTLS or "
                                 "TINDAKLANJUT_SMTP_TLS")
        worst_send = max(self.smtp_max_attempts * self.smtp_timeout, self.webhook_max_attempts * self.webhook_timeout) \
            + sum(min(self.delivery_backoff_base * 2 ** n, self.delivery_backoff_max)
                  for n in range(max(self.smtp_max_attempts, self.webhook_max_attempts)))
        if self.reminder_lease_seconds <= worst_send:
            raise ValueError(f"TINDAKLANJUT_REMINDER_LEASE_SECONDS ({self.reminder_lease_seconds}) must exceed the "
                             f"longest possible send of one digest ({worst_send:.0f} s), or a slow send is repeated")
        return self

    def kafka_security(self) -> dict:
        """aiokafka keyword arguments for the configured security (empty for PLAINTEXT)."""
        if self.kafka_security_protocol == "PLAINTEXT":
            return {}
        options: dict = {"security_protocol": self.kafka_security_protocol}
        if "SSL" in self.kafka_security_protocol:
            from aiokafka.helpers import create_ssl_context

            options["ssl_context"] = create_ssl_context(cafile=str(self.kafka_ssl_cafile)
                                                        if self.kafka_ssl_cafile else None)
        if self.kafka_security_protocol.startswith("SASL"):
            options.update(sasl_mechanism=self.kafka_sasl_mechanism, sasl_plain_username=self.kafka_sasl_username,
                           sasl_plain_password=self.kafka_sasl_password)
        return options

    def limits(self) -> Limits:
        return Limits(max_bytes=self.max_message_bytes, max_depth=self.max_json_depth,
                      max_indicators=self.max_indicators)

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.var_dir / 'tindaklanjut.db'}"

    @property
    def resolved_evidence_dir(self) -> Path:
        return self.evidence_dir or self.var_dir / "evidence"

    def to_env(self) -> dict[str, str]:
        """These settings as `TINDAKLANJUT_*` variables, so a child process
        (a worker, the CLI) runs with exactly them. Unset optional fields are
        left out: the child falls back to the same default."""
        env = {}
        for name in type(self).model_fields:
            value = self.resolved_database_url if name == "database_url" else getattr(self, name)
            if value is None:
                continue
            if isinstance(value, bool):
                value = "true" if value else "false"
            elif isinstance(value, datetime):
                value = value.isoformat()
            env[f"TINDAKLANJUT_{name.upper()}"] = str(value)
        return env

    @property
    def worker_group(self) -> str:
        """The Kafka consumer group of the recommender role (faust's application id)."""
        return f"{self.consumer_group}-recommender"

    def topic(self, name: str) -> str:
        """Physical topic name for a logical one (`assessment.published`)."""
        return f"{self.topic_prefix}{name}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
