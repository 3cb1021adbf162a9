"""Measurements a process takes of its own work (ingest batches, reminder sweeps), kept in one
process-wide Prometheus registry that every /metrics endpoint of the process exposes next to the
shared counts read from the database."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Histogram

PROCESS = CollectorRegistry(auto_describe=True)

INGEST_BATCH_SECONDS = Histogram(
    "tindaklanjut_ingest_batch_seconds", "Time to ingest one batch of consumed events, commit included",
    registry=PROCESS, buckets=(.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30))
INGEST_BATCH_EVENTS = Histogram(
    "tindaklanjut_ingest_batch_events", "Events per ingested batch", registry=PROCESS,
    buckets=(1, 5, 10, 25, 50, 100, 200, 500, 1000))
SWEEP_SECONDS = Histogram(
    "tindaklanjut_reminder_sweep_seconds", "Duration of one reminder sweep (plan, digest, deliver)",
    registry=PROCESS, buckets=(.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120))
